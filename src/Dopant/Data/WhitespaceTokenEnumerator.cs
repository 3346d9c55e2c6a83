namespace Dopant.Data;

/// <summary>
/// Enumerates the whitespace-separated tokens of a line as slices of it, splitting exactly where Python's
/// <c>str.split()</c> does, so corpora tokenize as in PyTorch's word_language_model example.
/// </summary>
internal ref struct WhitespaceTokenEnumerator
{
    private ReadOnlySpan<char> _rest;

    /// <summary>Starts enumerating the tokens of <paramref name="line"/>.</summary>
    public WhitespaceTokenEnumerator(ReadOnlySpan<char> line)
    {
        _rest = line;
        Current = default;
    }

    /// <summary>The current token.</summary>
    public ReadOnlySpan<char> Current { get; private set; }

    /// <summary>Returns this enumerator, so it can be used in <c>foreach</c>.</summary>
    public readonly WhitespaceTokenEnumerator GetEnumerator() => this;

    /// <summary>Moves to the next token.</summary>
    public bool MoveNext()
    {
        int start = 0;
        while (start < _rest.Length && IsSeparator(_rest[start]))
            start++;
        if (start == _rest.Length)
        {
            _rest = default;
            return false;
        }
        int end = start + 1;
        while (end < _rest.Length && !IsSeparator(_rest[end]))
            end++;
        Current = _rest[start..end];
        _rest = _rest[end..];
        return true;
    }

    // Python's str.isspace also counts the information separators U+001C..U+001F, which .NET does not.
    internal static bool IsSeparator(char c) => char.IsWhiteSpace(c) || (c >= '\u001C' && c <= '\u001F');
}
