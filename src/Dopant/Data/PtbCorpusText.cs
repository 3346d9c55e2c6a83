namespace Dopant.Data;

/// <summary>The three splits of a PTB-format corpus as text, ready to be written to a folder.</summary>
/// <param name="Train">The training split, <c>train.txt</c>.</param>
/// <param name="Valid">The validation split, <c>valid.txt</c>.</param>
/// <param name="Test">The test split, <c>test.txt</c>.</param>
/// <param name="VocabularySize">The number of distinct tokens, <c>&lt;unk&gt;</c> and <c>&lt;eos&gt;</c> included.</param>
public sealed record PtbCorpusText(PtbSplitText Train, PtbSplitText Valid, PtbSplitText Test, int VocabularySize)
{
    /// <summary>The splits in the order train, valid, test.</summary>
    public IReadOnlyList<PtbSplitText> Splits => [Train, Valid, Test];
}
