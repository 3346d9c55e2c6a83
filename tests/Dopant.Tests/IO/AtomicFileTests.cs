using Dopant.IO;

namespace Dopant.Tests.IO;

public sealed class AtomicFileTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("dopant-atomic-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string[] FileNames() => Directory.GetFiles(_directory).Select(p => Path.GetFileName(p)!).Order().ToArray();

    [Fact]
    public void Writes_a_new_file_and_leaves_no_temporary_file()
    {
        string path = Path.Combine(_directory, "out.bin");
        AtomicFile.Write(path, stream => stream.Write([1, 2, 3]));
        Assert.Equal([1, 2, 3], File.ReadAllBytes(path));
        Assert.Equal(["out.bin"], FileNames());
    }

    [Fact]
    public void Replaces_an_existing_file()
    {
        string path = Path.Combine(_directory, "report.json");
        File.WriteAllText(path, "old contents that are longer");
        AtomicFile.WriteAllText(path, "{\"new\": \"ü\"}");
        Assert.Equal("{\"new\": \"ü\"}", File.ReadAllText(path));
        Assert.Equal([(byte)'{'], File.ReadAllBytes(path)[..1]);
        Assert.Equal(["report.json"], FileNames());
    }

    [Fact]
    public void A_writer_that_throws_midway_leaves_the_old_file_intact_and_no_temporary_file()
    {
        string path = Path.Combine(_directory, "model.safetensors");
        var original = new SafeTensorsFile([SafeTensor.Create("w", [1f, 2f], 2)]);
        original.Save(path);
        byte[] before = File.ReadAllBytes(path);

        var error = Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(path, stream =>
        {
            stream.Write(new byte[100_000]);
            stream.Flush();
            throw new InvalidOperationException("disk full, say");
        }));
        Assert.Equal("disk full, say", error.Message);
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal([2f], SafeTensorsFile.Load(path).RequireSingles("w", 2)[1..]);
        Assert.Equal(["model.safetensors"], FileNames());
    }

    [Fact]
    public void A_failing_save_leaves_the_old_checkpoint_intact()
    {
        string path = Path.Combine(_directory, "ckpt.safetensors");
        new SafeTensorsFile([SafeTensor.Create("w", [1f], 1)]).Save(path);
        byte[] before = File.ReadAllBytes(path);

        var unwritable = new SafeTensorsFile([SafeTensor.Create("w", [2f], 1)]);
        Assert.Throws<NotSupportedException>(() => AtomicFile.Write(path, stream =>
        {
            unwritable.Write(stream);
            throw new NotSupportedException();
        }));
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal(["ckpt.safetensors"], FileNames());
    }

    [Fact]
    public void A_missing_directory_is_an_io_error_that_creates_nothing()
    {
        string path = Path.Combine(_directory, "no-such-dir", "x.bin");
        Assert.Throws<DirectoryNotFoundException>(() => AtomicFile.Write(path, stream => stream.WriteByte(1)));
        Assert.Empty(FileNames());
    }

    [Fact]
    public void A_directory_in_the_way_fails_without_leaving_a_temporary_file()
    {
        string path = Path.Combine(_directory, "taken");
        Directory.CreateDirectory(path);
        Assert.ThrowsAny<IOException>(() => AtomicFile.Write(path, stream => stream.WriteByte(1)));
        Assert.Empty(FileNames());
        Assert.True(Directory.Exists(path));
    }

    [Fact]
    public void Rejects_null_arguments()
    {
        Assert.Throws<ArgumentNullException>(() => AtomicFile.Write(null!, _ => { }));
        Assert.Throws<ArgumentException>(() => AtomicFile.Write("", _ => { }));
        Assert.Throws<ArgumentNullException>(() => AtomicFile.Write(Path.Combine(_directory, "x"), null!));
        Assert.Throws<ArgumentNullException>(() => AtomicFile.WriteAllText(Path.Combine(_directory, "x"), null!));
    }
}
