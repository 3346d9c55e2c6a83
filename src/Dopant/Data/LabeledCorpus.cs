namespace Dopant.Data;

/// <summary>
/// A labeled corpus: a folder with <c>train.txt</c>, <c>valid.txt</c> and <c>test.txt</c> for tagging
/// (<c>word&lt;TAB&gt;tag</c> a line, a blank line after each sentence) or classification (<c>label&lt;TAB&gt;text</c> a
/// line, the text's tokens separated by spaces).
/// </summary>
/// <remarks>
/// Vocabulary rule: <c>&lt;unk&gt;</c> (id 0, also the padding of batches), then the training words seen at least
/// <c>minCount</c> times, in first-occurrence order; any other word reads as <c>&lt;unk&gt;</c>, so the model learns
/// <c>&lt;unk&gt;</c> from the rare training words. Words keep their case. The labels are the training labels in
/// first-occurrence order; a label of the validation or test file that training never shows is refused.
/// </remarks>
public sealed class LabeledCorpus
{
    private LabeledCorpus(string folder, LabelingTask task, Vocabulary vocabulary, IReadOnlyList<string> labels, IReadOnlyList<LabeledSentence> train,
        IReadOnlyList<LabeledSentence> valid, IReadOnlyList<LabeledSentence> test)
    {
        Folder = folder;
        Task = task;
        Vocabulary = vocabulary;
        Labels = labels;
        Train = train;
        Valid = valid;
        Test = test;
    }

    /// <summary>The folder the corpus was read from.</summary>
    public string Folder { get; }

    /// <summary>Tagging or classification.</summary>
    public LabelingTask Task { get; }

    /// <summary>The words, <c>&lt;unk&gt;</c> first.</summary>
    public Vocabulary Vocabulary { get; }

    /// <summary>The labels in id order.</summary>
    public IReadOnlyList<string> Labels { get; }

    /// <summary>The training sentences.</summary>
    public IReadOnlyList<LabeledSentence> Train { get; }

    /// <summary>The validation sentences.</summary>
    public IReadOnlyList<LabeledSentence> Valid { get; }

    /// <summary>The test sentences.</summary>
    public IReadOnlyList<LabeledSentence> Test { get; }

    /// <summary>
    /// Loads a folder. With <paramref name="vocabulary"/> and <paramref name="labels"/> (a trained model's), the
    /// sentences are read with them; otherwise both are built from <c>train.txt</c>.
    /// </summary>
    /// <exception cref="FileNotFoundException">A split's file is missing.</exception>
    /// <exception cref="InvalidDataException">A line is malformed, a sentence or text is empty, or a label is unknown; the message names the file and line.</exception>
    public static LabeledCorpus Load(string folder, LabelingTask task, Vocabulary? vocabulary = null, IReadOnlyList<string>? labels = null, int minCount = 2)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(minCount);
        if (vocabulary is not null && vocabulary.UnknownId < 0)
            throw new ArgumentException($"A labeling model's vocabulary needs {Vocabulary.UnknownWord} for words it has not seen.", nameof(vocabulary));
        string Path(string name)
        {
            string path = System.IO.Path.Combine(folder, name);
            return File.Exists(path) ? path : throw new FileNotFoundException($"'{path}' does not exist; a labeled corpus holds {PtbCorpus.TrainFileName}, {PtbCorpus.ValidFileName} and {PtbCorpus.TestFileName}.", path);
        }
        string trainPath = Path(PtbCorpus.TrainFileName), validPath = Path(PtbCorpus.ValidFileName), testPath = Path(PtbCorpus.TestFileName);
        List<RawSentence> train = Read(trainPath, task), valid = Read(validPath, task), test = Read(testPath, task);
        if (vocabulary is null)
        {
            var counts = new Dictionary<string, int>(StringComparer.Ordinal);
            var order = new List<string>();
            foreach (string word in train.SelectMany(s => s.Words))
                if (counts.TryGetValue(word, out int count)) counts[word] = count + 1;
                else
                {
                    counts[word] = 1;
                    order.Add(word);
                }
            vocabulary = new Vocabulary([Vocabulary.UnknownWord, .. order.Where(w => counts[w] >= minCount && w != Vocabulary.UnknownWord)]);
        }
        labels ??= [.. train.SelectMany(s => s.Labels).Distinct(StringComparer.Ordinal)];
        var labelIds = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < labels.Count; i++) labelIds[labels[i]] = i;
        Vocabulary words = vocabulary;
        List<LabeledSentence> Ids(List<RawSentence> sentences, string path) =>
        [
            .. sentences.Select(s => new LabeledSentence(
                [.. s.Words.Select(words.GetIdOrUnknown)],
                [.. s.Labels.Select((label, k) => labelIds.TryGetValue(label, out int id) ? id
                    : throw new InvalidDataException($"'{path}' line {s.Line + (task == LabelingTask.Tagging ? k : 0)}: the label '{label}' does not occur in {PtbCorpus.TrainFileName}."))],
                s.Line)),
        ];
        return new LabeledCorpus(folder, task, vocabulary, labels, Ids(train, trainPath), Ids(valid, validPath), Ids(test, testPath));
    }

    /// <summary>Reads one file of the task's format (see <see cref="LabelingTask"/>) into words and labels.</summary>
    /// <exception cref="InvalidDataException">A line is malformed or a text empty; the message names the file and line.</exception>
    public static IReadOnlyList<(string[] Words, string[] Labels, int Line)> ReadFile(string path, LabelingTask task) =>
        [.. Read(path, task).Select(s => (s.Words, s.Labels, s.Line))];

    private sealed record RawSentence(string[] Words, string[] Labels, int Line);

    private static List<RawSentence> Read(string path, LabelingTask task)
    {
        var sentences = new List<RawSentence>();
        var words = new List<string>();
        var tags = new List<string>();
        int number = 0, start = 0;
        foreach (string raw in File.ReadLines(path))
        {
            number++;
            string line = raw.TrimEnd('\r');
            if (task == LabelingTask.Classification)
            {
                if (line.Length == 0) continue;
                int tab = line.IndexOf('\t');
                if (tab <= 0) throw new InvalidDataException($"'{path}' line {number}: expected label<TAB>text.");
                string[] tokens = line[(tab + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (tokens.Length == 0) throw new InvalidDataException($"'{path}' line {number}: the text is empty.");
                sentences.Add(new RawSentence(tokens, [line[..tab]], number));
                continue;
            }
            if (line.Trim().Length == 0)
            {
                if (words.Count > 0) sentences.Add(new RawSentence([.. words], [.. tags], start));
                words.Clear();
                tags.Clear();
                continue;
            }
            string[] fields = line.Split('\t');
            if (fields.Length != 2 || fields[0].Length == 0 || fields[1].Length == 0 || fields[0].Contains(' ') || fields[1].Contains(' '))
                throw new InvalidDataException($"'{path}' line {number}: expected word<TAB>tag.");
            if (words.Count == 0) start = number;
            words.Add(fields[0]);
            tags.Add(fields[1]);
        }
        if (words.Count > 0) sentences.Add(new RawSentence([.. words], [.. tags], start));
        if (sentences.Count == 0) throw new InvalidDataException($"'{path}' holds no {(task == LabelingTask.Tagging ? "sentences" : "examples")}.");
        return sentences;
    }
}
