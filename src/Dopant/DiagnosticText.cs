using System.Text;

namespace Dopant;

/// <summary>
/// Renders text taken from untrusted files (names, words, JSON) so that an error message stays one short line; shared by
/// every layer that reads files.
/// </summary>
internal static class DiagnosticText
{
    private const int MaxQuotedLength = 80, MaxMessageLength = 400;

    /// <summary>The text in single quotes, control characters escaped and long text cut short.</summary>
    public static string Quote(string text) => "'" + Escape(text, MaxQuotedLength) + "'";

    /// <summary>
    /// A message from a lower layer that may echo untrusted text (a word, a kind, a JSON path), made one line of
    /// bounded length: control characters escaped, the rest cut short.
    /// </summary>
    public static string OneLine(string message) => Escape(message, MaxMessageLength);

    private static string Escape(string text, int maxLength)
    {
        var builder = new StringBuilder(Math.Min(text.Length, maxLength) + 1);
        for (int i = 0; i < text.Length && i < maxLength; i++)
        {
            char c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                builder.Append(c).Append(text[++i]);
                continue;
            }
            if (char.IsControl(c) || char.IsSurrogate(c) || c is '\u2028' or '\u2029')
                builder.Append($"\\u{(int)c:x4}");
            else
                builder.Append(c);
        }
        if (text.Length > maxLength)
            builder.Append('…');
        return builder.ToString();
    }
}
