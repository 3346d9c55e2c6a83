using System.Collections.ObjectModel;

namespace Dopant.Data;

/// <summary>
/// An immutable, ordered list of words: the word with id <c>i</c> is <see cref="Words"/>[i].
/// </summary>
/// <remarks>
/// Ids are positions, so two vocabularies with the same words in the same order give the same ids;
/// a model checkpoint stores <see cref="Words"/> and rebuilds the vocabulary with
/// <see cref="Vocabulary(IEnumerable{string})"/>.
/// </remarks>
public sealed class Vocabulary
{
    /// <summary>The word that stands for any word outside the vocabulary: <c>&lt;unk&gt;</c>.</summary>
    public const string UnknownWord = "<unk>";

    /// <summary>The word appended after every sentence: <c>&lt;eos&gt;</c>.</summary>
    public const string EndOfSentenceWord = "<eos>";

    private readonly string[] _words;
    private readonly Dictionary<string, int> _ids;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _spanIds;

    /// <summary>
    /// Creates a vocabulary from an explicit word list; the word at position <c>i</c> gets id <c>i</c>.
    /// </summary>
    /// <param name="words">The words, in id order.</param>
    /// <exception cref="ArgumentNullException"><paramref name="words"/> or one of its words is null.</exception>
    /// <exception cref="ArgumentException">A word appears twice.</exception>
    public Vocabulary(IEnumerable<string> words)
    {
        ArgumentNullException.ThrowIfNull(words);
        _words = words.ToArray();
        _ids = new Dictionary<string, int>(_words.Length, StringComparer.Ordinal);
        for (int i = 0; i < _words.Length; i++)
        {
            string word = _words[i] ?? throw new ArgumentNullException(nameof(words), $"Word {i} of the vocabulary is null.");
            if (!_ids.TryAdd(word, i))
                throw new ArgumentException($"The word '{word}' appears twice in the vocabulary (ids {_ids[word]} and {i}).", nameof(words));
        }
        _spanIds = _ids.GetAlternateLookup<ReadOnlySpan<char>>();
        Words = new ReadOnlyCollection<string>(_words);
        UnknownId = _ids.GetValueOrDefault(UnknownWord, -1);
        EndOfSentenceId = _ids.GetValueOrDefault(EndOfSentenceWord, -1);
        IsCharacterLevel = _words.Length > 0 && _words.All(w => w.Length == 1 || w is UnknownWord or EndOfSentenceWord);
    }

    /// <summary>Whether every word is a single character (besides <see cref="UnknownWord"/> and <see cref="EndOfSentenceWord"/>): a character model's vocabulary.</summary>
    public bool IsCharacterLevel { get; }

    /// <summary>Reads a vocabulary file: one word a line, in id order (UTF-8; a final newline is optional).</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">A line is empty or holds white space, or a word appears twice; the message names the file and the line.</exception>
    public static Vocabulary ReadWordList(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"Vocabulary file '{path}' does not exist.", path);
        var words = new List<string>();
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (string line in File.ReadLines(path))
        {
            string word = line.TrimEnd('\r');
            int number = words.Count + 1;
            if (word.Length == 0 || word.Any(char.IsWhiteSpace))
                throw new InvalidDataException($"'{path}' line {number}: {(word.Length == 0 ? "empty" : "white space inside")}; a vocabulary file holds one word a line.");
            if (!seen.TryAdd(word, number))
                throw new InvalidDataException($"'{path}' line {number}: '{word}' appears already on line {seen[word]}.");
            words.Add(word);
        }
        if (words.Count == 0) throw new InvalidDataException($"'{path}' holds no words.");
        return new Vocabulary(words);
    }

    /// <summary>
    /// Builds a vocabulary from token sources in first-occurrence order: sources in the order given, tokens in
    /// the order each source yields them.
    /// </summary>
    /// <param name="sources">The token sources, for example the train, valid and test splits.</param>
    /// <returns>The vocabulary of every distinct token.</returns>
    public static Vocabulary FromTokens(params ReadOnlySpan<IEnumerable<string>> sources)
    {
        var builder = new VocabularyBuilder();
        foreach (IEnumerable<string> source in sources)
        {
            ArgumentNullException.ThrowIfNull(source, nameof(sources));
            foreach (string token in source)
                builder.Add(token);
        }
        return builder.Build();
    }

    /// <summary>The number of words.</summary>
    public int Count => _words.Length;

    /// <summary>The words in id order.</summary>
    public IReadOnlyList<string> Words { get; }

    /// <summary>The id of <see cref="UnknownWord"/>, or -1 when the vocabulary does not contain it.</summary>
    public int UnknownId { get; }

    /// <summary>The id of <see cref="EndOfSentenceWord"/>, or -1 when the vocabulary does not contain it.</summary>
    public int EndOfSentenceId { get; }

    /// <summary>The id of <paramref name="word"/>; see <see cref="GetId(string)"/>.</summary>
    /// <param name="word">The word to look up.</param>
    /// <exception cref="KeyNotFoundException">The word is not in the vocabulary.</exception>
    public int this[string word] => GetId(word);

    /// <summary>Looks up the id of a word.</summary>
    /// <param name="word">The word to look up.</param>
    /// <param name="id">The word's id, or -1 when it is not in the vocabulary.</param>
    /// <returns>Whether the word is in the vocabulary.</returns>
    public bool TryGetId(string word, out int id)
    {
        ArgumentNullException.ThrowIfNull(word);
        if (_ids.TryGetValue(word, out id))
            return true;
        id = -1;
        return false;
    }

    /// <summary>Looks up the id of a word given as characters, without allocating a string.</summary>
    /// <param name="word">The word to look up.</param>
    /// <param name="id">The word's id, or -1 when it is not in the vocabulary.</param>
    /// <returns>Whether the word is in the vocabulary.</returns>
    public bool TryGetId(ReadOnlySpan<char> word, out int id)
    {
        if (_spanIds.TryGetValue(word, out id))
            return true;
        id = -1;
        return false;
    }

    /// <summary>The id of a word that must be in the vocabulary.</summary>
    /// <param name="word">The word to look up.</param>
    /// <returns>The word's id.</returns>
    /// <exception cref="KeyNotFoundException">The word is not in the vocabulary.</exception>
    public int GetId(string word)
    {
        ArgumentNullException.ThrowIfNull(word);
        return _ids.TryGetValue(word, out int id)
            ? id
            : throw new KeyNotFoundException($"The word '{word}' is not in the vocabulary of {Count} words.");
    }

    /// <summary>The id of a word, or <see cref="UnknownId"/> when the word is not in the vocabulary.</summary>
    /// <param name="word">The word to look up.</param>
    /// <returns>The word's id, or the id of <see cref="UnknownWord"/>.</returns>
    /// <exception cref="KeyNotFoundException">The word is not in the vocabulary, and neither is <see cref="UnknownWord"/>.</exception>
    public int GetIdOrUnknown(string word)
    {
        ArgumentNullException.ThrowIfNull(word);
        if (_ids.TryGetValue(word, out int id))
            return id;
        return UnknownId >= 0
            ? UnknownId
            : throw new KeyNotFoundException($"The word '{word}' is not in the vocabulary of {Count} words, which has no {UnknownWord} to map it to.");
    }
}
