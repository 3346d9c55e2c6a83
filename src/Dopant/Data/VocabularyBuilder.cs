namespace Dopant.Data;

/// <summary>
/// Grows a vocabulary word by word, giving each new word the next id (first-occurrence order).
/// </summary>
public sealed class VocabularyBuilder
{
    private readonly List<string> _words = [];
    private readonly Dictionary<string, int> _ids = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _spanIds;

    /// <summary>Creates an empty builder.</summary>
    public VocabularyBuilder() => _spanIds = _ids.GetAlternateLookup<ReadOnlySpan<char>>();

    /// <summary>The number of distinct words added so far.</summary>
    public int Count => _words.Count;

    /// <summary>Adds a word if it is new.</summary>
    /// <param name="word">The word.</param>
    /// <returns>The word's id: its existing id, or the next id when it is new.</returns>
    public int Add(string word)
    {
        ArgumentNullException.ThrowIfNull(word);
        if (_ids.TryGetValue(word, out int id))
            return id;
        return AddNew(word);
    }

    /// <summary>Adds a word given as characters if it is new; a string is allocated only for a new word.</summary>
    /// <param name="word">The word.</param>
    /// <returns>The word's id: its existing id, or the next id when it is new.</returns>
    public int Add(ReadOnlySpan<char> word)
    {
        if (_spanIds.TryGetValue(word, out int id))
            return id;
        return AddNew(word.ToString());
    }

    /// <summary>Creates the vocabulary of the words added so far; the builder can go on growing afterwards.</summary>
    /// <returns>A vocabulary whose word <c>i</c> is the <c>i</c>-th distinct word added.</returns>
    public Vocabulary Build() => new(_words);

    private int AddNew(string word)
    {
        int id = _words.Count;
        _words.Add(word);
        _ids.Add(word, id);
        return id;
    }
}
