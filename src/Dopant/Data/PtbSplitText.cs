namespace Dopant.Data;

/// <summary>One split of a PTB-format corpus as the text of its file.</summary>
/// <param name="FileName">The split's file name: <c>train.txt</c>, <c>valid.txt</c> or <c>test.txt</c>.</param>
/// <param name="Text">The file's content: one sentence a line, each line <c>" w1 w2 ... wn \n"</c>.</param>
/// <param name="SentenceCount">The number of lines.</param>
/// <param name="TokenCount">The number of tokens as <see cref="PtbCorpus"/> counts them: the words plus one <c>&lt;eos&gt;</c> a line.</param>
public sealed record PtbSplitText(string FileName, string Text, int SentenceCount, int TokenCount);
