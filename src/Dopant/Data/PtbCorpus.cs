namespace Dopant.Data;

/// <summary>
/// A word-level corpus in the Penn Treebank layout: a folder with <c>train.txt</c>, <c>valid.txt</c> and
/// <c>test.txt</c>, one sentence a line, tokens separated by whitespace.
/// </summary>
/// <remarks>
/// Tokenization follows PyTorch's examples/word_language_model <c>data.py</c>: each line becomes
/// <c>line.split() + ['&lt;eos&gt;']</c>, so an empty line yields a lone <c>&lt;eos&gt;</c>. Penn Treebank,
/// WikiText-2 and the Brown corpus as prepared by <see cref="BrownCorpus"/> all load this way.
/// </remarks>
public sealed class PtbCorpus
{
    /// <summary>The name of the training split's file.</summary>
    public const string TrainFileName = "train.txt";

    /// <summary>The name of the validation split's file.</summary>
    public const string ValidFileName = "valid.txt";

    /// <summary>The name of the test split's file.</summary>
    public const string TestFileName = "test.txt";

    private const int ReadBufferSize = 1 << 14;

    private PtbCorpus(Vocabulary vocabulary, int[] train, int[] valid, int[] test)
    {
        Vocabulary = vocabulary;
        Train = train;
        Valid = valid;
        Test = test;
    }

    /// <summary>The vocabulary the token ids refer to.</summary>
    public Vocabulary Vocabulary { get; }

    /// <summary>The training split as token ids, one <c>&lt;eos&gt;</c> after each line.</summary>
    public int[] Train { get; }

    /// <summary>The validation split as token ids, one <c>&lt;eos&gt;</c> after each line.</summary>
    public int[] Valid { get; }

    /// <summary>The test split as token ids, one <c>&lt;eos&gt;</c> after each line.</summary>
    public int[] Test { get; }

    /// <summary>
    /// Loads a PTB-format folder and builds its vocabulary in first-occurrence order over train, then valid,
    /// then test (as PyTorch's example does).
    /// </summary>
    /// <param name="folder">The folder holding <c>train.txt</c>, <c>valid.txt</c> and <c>test.txt</c>.</param>
    /// <returns>The corpus.</returns>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="FileNotFoundException">One of the three files is missing.</exception>
    /// <exception cref="InvalidDataException">A file is not UTF-8 text, or holds a word longer than 65,536 characters.</exception>
    public static PtbCorpus Load(string folder)
    {
        (string train, string valid, string test) = SplitPaths(folder);
        var builder = new VocabularyBuilder();
        int[] trainIds = ReadIds(train, builder, null);
        int[] validIds = ReadIds(valid, builder, null);
        int[] testIds = ReadIds(test, builder, null);
        return new PtbCorpus(builder.Build(), trainIds, validIds, testIds);
    }

    /// <summary>
    /// Loads a PTB-format folder onto an existing vocabulary, for example the one a saved model was trained
    /// with. Every word must be in it: a PTB-format corpus is closed (its text already writes rare words as
    /// <see cref="Vocabulary.UnknownWord"/>), so a word outside the vocabulary means the folder holds another corpus
    /// than the one the vocabulary was built from, and the model's figures on it would be meaningless.
    /// </summary>
    /// <param name="folder">The folder holding <c>train.txt</c>, <c>valid.txt</c> and <c>test.txt</c>.</param>
    /// <param name="vocabulary">The vocabulary to map words onto; it must contain <c>&lt;eos&gt;</c>.</param>
    /// <returns>The corpus, whose <see cref="Vocabulary"/> is <paramref name="vocabulary"/>.</returns>
    /// <exception cref="ArgumentException">The vocabulary has no <c>&lt;eos&gt;</c>.</exception>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="FileNotFoundException">One of the three files is missing.</exception>
    /// <exception cref="InvalidDataException">
    /// A word is not in the vocabulary (the message names the file, line and word), a file is not UTF-8 text, or it
    /// holds a word longer than 65,536 characters.
    /// </exception>
    public static PtbCorpus Load(string folder, Vocabulary vocabulary)
    {
        RequireEndOfSentence(vocabulary);
        (string train, string valid, string test) = SplitPaths(folder);
        return new PtbCorpus(vocabulary, ReadIds(train, null, vocabulary), ReadIds(valid, null, vocabulary), ReadIds(test, null, vocabulary));
    }

    private static (string Train, string Valid, string Test) SplitPaths(string folder)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        if (!Directory.Exists(folder))
            throw new DirectoryNotFoundException($"PTB-format folder '{folder}' does not exist.");
        // Check all three before reading any, so a missing test.txt fails at once rather than after train.
        string[] paths = [Path.Combine(folder, TrainFileName), Path.Combine(folder, ValidFileName), Path.Combine(folder, TestFileName)];
        foreach (string path in paths)
            if (!File.Exists(path))
                throw new FileNotFoundException($"PTB-format folder '{folder}' has no {Path.GetFileName(path)}.", path);
        return (paths[0], paths[1], paths[2]);
    }

    /// <summary>
    /// The token ids of one PTB-format file (one sentence a line, <see cref="Vocabulary.EndOfSentenceWord"/> appended
    /// to each) under <paramref name="vocabulary"/>, whose words must all be in it, as for <see cref="Load(string, Vocabulary)"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The vocabulary has no <c>&lt;eos&gt;</c>.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">
    /// A word is not in the vocabulary (the message names the line and word), the file is not UTF-8 text, or it holds
    /// a word longer than 65,536 characters.
    /// </exception>
    public static int[] ReadFile(string path, Vocabulary vocabulary)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        RequireEndOfSentence(vocabulary);
        if (!File.Exists(path)) throw new FileNotFoundException($"Text file '{path}' does not exist.", path);
        return ReadIds(path, null, vocabulary);
    }

    private static void RequireEndOfSentence(Vocabulary vocabulary)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        if (vocabulary.EndOfSentenceId < 0)
            throw new ArgumentException($"The vocabulary has no {Vocabulary.EndOfSentenceWord}, which a PTB-format corpus ends every line with.", nameof(vocabulary));
    }

    /// <summary>Reads one split, growing <paramref name="builder"/> or, when it is null, mapping onto <paramref name="vocabulary"/>.</summary>
    private static int[] ReadIds(string path, VocabularyBuilder? builder, Vocabulary? vocabulary)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, ReadBufferSize, FileOptions.SequentialScan);
        using StreamReader text = PtbTokenReader.OpenText(stream);
        var reader = new PtbTokenReader(text, path);
        // Tokens of English text average about six bytes with their separator; the guess only saves regrowth.
        var ids = new List<int>((int)Math.Min(stream.Length / 6 + 16, Array.MaxLength));
        int endOfSentence = vocabulary?.EndOfSentenceId ?? -1;
        for (PtbToken token = reader.Read(); token != PtbToken.EndOfFile; token = reader.Read())
        {
            if (ids.Count == Array.MaxLength)
                throw new InvalidDataException($"{path}: more than {Array.MaxLength:N0} tokens, more than one split can hold.");
            if (token == PtbToken.EndOfLine)
                ids.Add(builder?.Add(Vocabulary.EndOfSentenceWord) ?? endOfSentence);
            else if (builder is not null)
                ids.Add(builder.Add(reader.Word));
            else if (vocabulary!.TryGetId(reader.Word, out int id))
                ids.Add(id);
            else
                throw new InvalidDataException(
                    $"{path} line {reader.Line}: the word {DiagnosticText.Quote(reader.Word.ToString())} is not in the vocabulary ({vocabulary.Count:N0} words), " +
                    $"so the text is not from the corpus the vocabulary (the model's) was built from; PTB-format text writes words outside it as {Vocabulary.UnknownWord}.");
        }
        return ids.ToArray();
    }
}
