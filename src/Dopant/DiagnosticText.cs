using System.Text;

namespace Dopant.IO;

/// <summary>Renders names taken from untrusted files so that an error message stays one short line.</summary>
internal static class DiagnosticText
{
    private const int MaxQuotedLength = 80;

    /// <summary>The text in single quotes, control characters escaped and long text cut short.</summary>
    public static string Quote(string text)
    {
        var builder = new StringBuilder(Math.Min(text.Length, MaxQuotedLength) + 3);
        builder.Append('\'');
        for (int i = 0; i < text.Length && i < MaxQuotedLength; i++)
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
        if (text.Length > MaxQuotedLength)
            builder.Append('…');
        builder.Append('\'');
        return builder.ToString();
    }
}
