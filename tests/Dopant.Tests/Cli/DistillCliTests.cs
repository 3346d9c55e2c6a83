using System.Text.Json;
using Dopant.Tests.Data;

namespace Dopant.Tests.Cli;

/// <summary><c>dopant compress --distill</c>: a compressed model learning from the dense model's probabilities.</summary>
public sealed class DistillCliTests : IDisposable
{
    private readonly TemporaryFolder _folder = new();

    public DistillCliTests()
    {
        string[] sentences = ["the cat sat on the mat", "a dog ran in the park", "the bird sang a song", "my cat likes the dog"];
        var random = new Random(5);
        string Text(int lines) => string.Concat(Enumerable.Range(0, lines).Select(_ => " " + sentences[random.Next(sentences.Length)] + " \n"));
        _folder.Write("data/train.txt", Text(120));
        _folder.Write("data/valid.txt", Text(20));
        _folder.Write("data/test.txt", Text(20));
    }

    public void Dispose() => _folder.Dispose();

    private string Data => Path.Combine(_folder.Path, "data");

    private string InFolder(string name) => Path.Combine(_folder.Path, name);

    private static readonly string[] Schedule = ["--bptt", "5", "--batch-size", "4", "--epochs", "1", "--prune-start", "0", "--prune-end", "1"];

    private string Dense()
    {
        string dense = InFolder("dense.safetensors");
        CliProcess.Result run = CliProcess.Run("train", "--data", Data, "--out", dense, "--layers", "1", "--hidden", "8", "--bptt", "5", "--batch-size", "4", "--epochs", "1");
        Assert.True(run.ExitCode == 0, run.StandardError);
        return dense;
    }

    private CliProcess.Result Compress(string output, params string[] extra) =>
        CliProcess.Run(["compress", "--data", Data, "--out", output, "--method", "dkp", "--factor", "4", .. Schedule, .. extra]);

    [Fact]
    public void A_distilling_run_records_its_teacher_and_needs_it_to_resume()
    {
        string dense = Dense(), output = InFolder("dkp.safetensors");
        CliProcess.Result run = Compress(output, "--model", dense, "--distill", "0.5", "--json");
        Assert.True(run.ExitCode == 0, run.StandardError);
        JsonElement options = JsonDocument.Parse(run.StandardOutput.Split('\n').Last(l => l.StartsWith('{'))).RootElement.GetProperty("options");
        Assert.Equal(0.5, options.GetProperty("distillation").GetDouble());
        Assert.Equal(Path.GetFullPath(dense), options.GetProperty("teacher").GetString());

        byte[] finished = File.ReadAllBytes(output);
        File.Move(dense, InFolder("elsewhere.safetensors"));
        CliProcess.Result resume = CliProcess.Run("compress", "--data", Data, "--out", output, "--resume");
        Assert.NotEqual(0, resume.ExitCode);
        Assert.Contains("teacher model", Assert.Single(resume.ErrorLines));
        Assert.Equal(finished, File.ReadAllBytes(output));
    }

    [Theory]
    [InlineData("--distill needs a teacher", "--distill", "0.5")]
    [InlineData("--teacher is the model of --distill", "--teacher", "dense")]
    [InlineData("missing.safetensors", "--distill", "0.5", "--teacher", "missing.safetensors")]
    [InlineData("--distill must be in [0, 1]", "--distill", "2", "--teacher", "dense")]
    public void Bad_distillation_options_are_refused_in_one_line_before_anything_is_written(string expected, params string[] options)
    {
        string dense = Dense(), output = InFolder("dkp.safetensors");
        string[] resolved = [.. options.Select(o => o == "dense" ? dense : o == "missing.safetensors" ? InFolder(o) : o)];
        CliProcess.Result run = Compress(output, resolved);
        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains(expected, Assert.Single(run.ErrorLines));
        Assert.False(File.Exists(output));
    }
}
