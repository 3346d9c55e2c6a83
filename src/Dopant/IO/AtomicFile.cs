using System.Text;

namespace Dopant.IO;

/// <summary>
/// Replaces a file all at once: the content goes to a temporary file in the same directory, is flushed to disk,
/// and is then renamed over the destination, so a crash or an exception mid-write never leaves a truncated file.
/// Readers see either the old file or the complete new one.
/// </summary>
public static class AtomicFile
{
    /// <summary>
    /// Writes <paramref name="path"/> with <paramref name="write"/>. If <paramref name="write"/> throws, the
    /// temporary file is deleted, the exception propagates and any existing file at <paramref name="path"/> is untouched.
    /// </summary>
    /// <param name="path">The destination; its directory must exist.</param>
    /// <param name="write">Writes the content to the stream it is given; it must not dispose the stream.</param>
    /// <exception cref="IOException">The temporary file cannot be created, flushed or renamed.</exception>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(write);
        string fullPath = Path.GetFullPath(path);
        string directory = Path.GetDirectoryName(fullPath)
            ?? throw new ArgumentException($"'{path}' names a root directory, not a file.", nameof(path));
        // The same directory keeps the final rename on one file system, where it is atomic.
        string temporaryPath = Path.Combine(directory, $"{Path.GetFileName(fullPath)}.tmp-{Guid.NewGuid():N}");
        try
        {
            using (var stream = new FileStream(temporaryPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1 << 16))
            {
                write(stream);
                // Without this the rename can reach the disk before the data, and a power loss leaves an empty file.
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporaryPath, fullPath, overwrite: true);
        }
        catch
        {
            DeleteQuietly(temporaryPath);
            throw;
        }
    }

    /// <summary>Writes <paramref name="contents"/> as UTF-8 without a byte order mark, atomically (see <see cref="Write"/>).</summary>
    /// <param name="path">The destination; its directory must exist.</param>
    /// <param name="contents">The text.</param>
    /// <exception cref="IOException">The file cannot be written; any previous file is left as it was.</exception>
    public static void WriteAllText(string path, string contents)
    {
        ArgumentNullException.ThrowIfNull(contents);
        Write(path, stream =>
        {
            using var writer = new StreamWriter(stream, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), leaveOpen: true);
            writer.Write(contents);
        });
    }

    private static void DeleteQuietly(string temporaryPath)
    {
        // A failed clean-up must not hide the exception that caused it; at worst a stray .tmp- file remains.
        try
        {
            File.Delete(temporaryPath);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
