using System.Text;

namespace Dopant.Data;

/// <summary>What <see cref="PtbTokenReader.Read"/> found next.</summary>
internal enum PtbToken
{
    /// <summary>A word, in <see cref="PtbTokenReader.Word"/>.</summary>
    Word,

    /// <summary>The end of a line (after its last word), where PTB-format text has an <c>&lt;eos&gt;</c>.</summary>
    EndOfLine,

    /// <summary>The end of the text.</summary>
    EndOfFile,
}

/// <summary>
/// Reads PTB-format text word by word through a fixed buffer, so that a line of any length streams through: words
/// split where Python's <c>str.split()</c> splits (<see cref="WhitespaceTokenEnumerator"/>), lines end at <c>\n</c>,
/// <c>\r</c> or <c>\r\n</c> as <see cref="TextReader.ReadLine"/> ends them, and a last line without a terminator still
/// ends. Text that is not UTF-8, and words longer than <see cref="MaxWordLength"/>, are refused with the file and line.
/// </summary>
internal sealed class PtbTokenReader
{
    /// <summary>The longest word accepted, in UTF-16 characters; longer ones mean the file is not word-level text.</summary>
    public const int MaxWordLength = 1 << 16;

    // Small enough to stay off the large-object heap, so that reading many small files costs no full collections.
    private const int BufferSize = 1 << 14;

    private readonly TextReader _reader;
    private readonly string _path;
    private readonly char[] _buffer = new char[BufferSize];
    private char[] _word = new char[64];
    private int _position, _length, _wordLength;
    private bool _lineHasText, _afterCarriageReturn;

    /// <summary>Reads the text of <paramref name="reader"/>; <paramref name="path"/> names it in errors.</summary>
    public PtbTokenReader(TextReader reader, string path)
    {
        _reader = reader;
        _path = path;
    }

    /// <summary>
    /// A reader of <paramref name="stream"/> that refuses invalid UTF-8 rather than replacing it (as Python's
    /// <c>open(path, encoding="utf8")</c> in PyTorch's example does); a byte-order mark may select UTF-16 or UTF-32.
    /// </summary>
    public static StreamReader OpenText(Stream stream) =>
        new(stream, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true), detectEncodingFromByteOrderMarks: true, BufferSize);

    /// <summary>The line being read, from 1.</summary>
    public long Line { get; private set; } = 1;

    /// <summary>The word last returned, valid until the next <see cref="Read"/>.</summary>
    public ReadOnlySpan<char> Word => _word.AsSpan(0, _wordLength);

    /// <summary>The next word, line end or the end of the text.</summary>
    /// <exception cref="InvalidDataException">The text is not valid UTF-8, or holds a word longer than <see cref="MaxWordLength"/>.</exception>
    public PtbToken Read()
    {
        _wordLength = 0;
        while (true)
        {
            if (_position == _length && !Fill())
            {
                if (_wordLength > 0) return PtbToken.Word;
                if (!_lineHasText) return PtbToken.EndOfFile;
                _lineHasText = false;
                return PtbToken.EndOfLine;
            }
            char c = _buffer[_position++];
            if (_afterCarriageReturn)
            {
                _afterCarriageReturn = false;
                if (c == '\n') continue;
            }
            if (c is '\n' or '\r')
            {
                if (_wordLength > 0)
                {
                    _position--;  // the line ends after this word: read the terminator again next time
                    return PtbToken.Word;
                }
                _afterCarriageReturn = c == '\r';
                _lineHasText = false;
                Line++;
                return PtbToken.EndOfLine;
            }
            _lineHasText = true;
            if (WhitespaceTokenEnumerator.IsSeparator(c))
            {
                if (_wordLength > 0) return PtbToken.Word;
                continue;
            }
            if (_wordLength == _word.Length)
            {
                if (_wordLength == MaxWordLength)
                    throw new InvalidDataException(
                        $"{_path} line {Line}: a word longer than {MaxWordLength:N0} characters, which word-level text does not have.");
                Array.Resize(ref _word, Math.Min(2 * _word.Length, MaxWordLength));
            }
            _word[_wordLength++] = c;
        }
    }

    private bool Fill()
    {
        try
        {
            _length = _reader.Read(_buffer, 0, _buffer.Length);
        }
        catch (DecoderFallbackException e)
        {
            // The decoder reads ahead of the words returned, so the bytes lie at this line or after it.
            string bytes = e.BytesUnknown is { Length: > 0 } unknown ? " (" + string.Join(' ', unknown.Select(b => $"0x{b:X2}")) + ")" : "";
            throw new InvalidDataException($"{_path}: not UTF-8 text: an invalid byte sequence{bytes} at or after line {Line}.", e);
        }
        _position = 0;
        return _length > 0;
    }
}
