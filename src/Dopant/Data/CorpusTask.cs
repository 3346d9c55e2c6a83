namespace Dopant.Data;

/// <summary>What a model learns from a corpus folder; the folder's format follows from it.</summary>
public enum CorpusTask
{
    /// <summary>"lm": next-word prediction on PTB-format text (one sentence a line, words separated by spaces); measured by perplexity.</summary>
    LanguageModel,

    /// <summary>"charlm": next-character prediction on text whose tokens are single characters (brown-chars); measured by bits per character.</summary>
    CharacterLanguageModel,

    /// <summary>"tag": a label for every word (<see cref="LabelingTask.Tagging"/>).</summary>
    Tagging,

    /// <summary>"classify": a label for every example (<see cref="LabelingTask.Classification"/>).</summary>
    Classification,
}

/// <summary>Names of <see cref="CorpusTask"/> and the task a folder's files hold.</summary>
public static class CorpusTasks
{
    private static readonly string[] Names = ["lm", "charlm", "tag", "classify"];

    /// <summary>Lines of train.txt read to infer the task.</summary>
    private const int SampledLines = 2000;

    /// <summary>Every task's name, in enum order.</summary>
    public static IReadOnlyList<string> All => Names;

    /// <summary>The task's name, e.g. <c>charlm</c>.</summary>
    public static string Name(this CorpusTask task) => Names[(int)task];

    /// <summary>Parses a name of <see cref="All"/>.</summary>
    /// <exception cref="ArgumentException">Not a task's name; the message lists them.</exception>
    public static CorpusTask Parse(string name)
    {
        int index = Array.IndexOf(Names, name);
        return index >= 0 ? (CorpusTask)index : throw new ArgumentException($"Unknown task '{name}'; expected one of: {string.Join(", ", Names)}.");
    }

    /// <summary>Whether the task labels text (a tagger or classifier) rather than predicting its next token.</summary>
    public static bool IsLabeling(this CorpusTask task) => task is CorpusTask.Tagging or CorpusTask.Classification;

    /// <summary>The labeling task of a tagging or classification task.</summary>
    /// <exception cref="ArgumentException">A language-modeling task.</exception>
    public static LabelingTask Labeling(this CorpusTask task) => task switch
    {
        CorpusTask.Tagging => LabelingTask.Tagging,
        CorpusTask.Classification => LabelingTask.Classification,
        _ => throw new ArgumentException($"Task '{task.Name()}' predicts the next token; it labels nothing."),
    };

    /// <summary>
    /// The task whose format <c>train.txt</c> of <paramref name="folder"/> has, from its first lines: lines with a TAB are
    /// <c>word&lt;TAB&gt;tag</c> (tag; the text after the TAB one token) or <c>label&lt;TAB&gt;text</c> (classify); lines without
    /// one are text, whose tokens are all single characters (charlm) or not (lm).
    /// </summary>
    /// <exception cref="FileNotFoundException">The folder has no train.txt.</exception>
    /// <exception cref="InvalidDataException">The file is empty, or mixes lines with and without a TAB; the message names the file and the line.</exception>
    public static CorpusTask Infer(string folder)
    {
        string path = Path.Combine(folder, "train.txt");
        if (!File.Exists(path)) throw new FileNotFoundException($"'{path}' does not exist: a corpus folder holds train.txt, valid.txt and test.txt.", path);
        bool? tabbed = null, multiWordAfterTab = false, multiCharacterToken = false;
        int number = 0, read = 0;
        foreach (string line in File.ReadLines(path))
        {
            number++;
            if (line.Length == 0) continue;
            int tab = line.IndexOf('\t');
            if (tabbed is bool expected && expected != tab >= 0)
                throw new InvalidDataException($"{path}, line {number}: {(tab >= 0 ? "a TAB" : "no TAB")} where the lines before have {(expected ? "one" : "none")}; a corpus is either labeled (word<TAB>tag or label<TAB>text) or plain text.");
            tabbed = tab >= 0;
            if (tab >= 0) multiWordAfterTab |= line.AsSpan(tab + 1).Trim().Contains(' ');
            else
                foreach (string token in line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                    multiCharacterToken |= token.Length > 1 && token != Vocabulary.EndOfSentenceWord && token != Vocabulary.UnknownWord;
            if (++read == SampledLines) break;
        }
        return tabbed switch
        {
            null => throw new InvalidDataException($"{path} holds no text."),
            true => multiWordAfterTab == true ? CorpusTask.Classification : CorpusTask.Tagging,
            false => multiCharacterToken == true ? CorpusTask.LanguageModel : CorpusTask.CharacterLanguageModel,
        };
    }
}
