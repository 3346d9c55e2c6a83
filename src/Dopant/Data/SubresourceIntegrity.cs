using System.Security.Cryptography;

namespace Dopant.Data;

/// <summary>
/// Subresource-Integrity strings (<c>sha512-&lt;base64 digest&gt;</c>), the form npm records for package tarballs.
/// </summary>
public static class SubresourceIntegrity
{
    private const string Sha512Prefix = "sha512-";

    /// <summary>The <c>sha512-</c> integrity string of a stream's remaining bytes.</summary>
    /// <param name="content">The content, read to its end.</param>
    /// <returns>For example <c>sha512-b8Fhzh...==</c>.</returns>
    public static string ComputeSha512(Stream content)
    {
        ArgumentNullException.ThrowIfNull(content);
        return Sha512Prefix + System.Convert.ToBase64String(SHA512.HashData(content));
    }

    /// <summary>The <c>sha512-</c> integrity string of a file.</summary>
    /// <param name="path">The file.</param>
    /// <returns>For example <c>sha512-b8Fhzh...==</c>.</returns>
    public static string ComputeSha512(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using FileStream stream = File.OpenRead(path);
        return ComputeSha512(stream);
    }

    /// <summary>Whether a file's SHA-512 digest is the one an integrity string states.</summary>
    /// <param name="path">The file.</param>
    /// <param name="integrity">The expected integrity string; only <c>sha512-</c> is accepted.</param>
    /// <returns>True when the digests are equal.</returns>
    /// <exception cref="ArgumentException"><paramref name="integrity"/> is not a <c>sha512-</c> integrity string.</exception>
    public static bool Matches(string path, string integrity)
    {
        ArgumentNullException.ThrowIfNull(integrity);
        if (!integrity.StartsWith(Sha512Prefix, StringComparison.Ordinal))
            throw new ArgumentException($"'{integrity}' is not a {Sha512Prefix} integrity string.", nameof(integrity));
        return string.Equals(ComputeSha512(path), integrity, StringComparison.Ordinal);
    }
}
