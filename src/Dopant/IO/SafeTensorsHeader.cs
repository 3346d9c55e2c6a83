namespace Dopant.IO;

/// <summary>Layout constants of the safetensors header shared by the reader and the writer.</summary>
internal static class SafeTensorsHeader
{
    /// <summary>The header key that holds the string-to-string metadata instead of a tensor.</summary>
    public const string MetadataKey = "__metadata__";

    /// <summary>The little-endian unsigned 64-bit header length that opens the file.</summary>
    public const int LengthPrefixSize = 8;

    /// <summary>The largest header accepted, the cap of the reference implementation, so a corrupt length cannot force a huge allocation.</summary>
    public const int MaxLength = 100_000_000;

    /// <summary>Writers pad the header with spaces so the data buffer starts at a multiple of this.</summary>
    public const int Alignment = 8;

    /// <summary>
    /// Whether <paramref name="text"/> has no unpaired surrogates: JSON encoders would silently replace them, so a
    /// name holding one could not be read back.
    /// </summary>
    public static bool IsWellFormed(string text)
    {
        for (int i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
                i++;
            else if (char.IsSurrogate(text[i]))
                return false;
        }
        return true;
    }
}
