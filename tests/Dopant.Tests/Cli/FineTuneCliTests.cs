using System.Text.Json;
using Dopant.Tests.Data;

namespace Dopant.Tests.Cli;

/// <summary>
/// <c>dopant train --model</c> (fine-tuning a dense model) and fine-tuning with another dropout than the model was
/// trained with, through <c>train</c> and <c>compress</c>.
/// </summary>
public sealed class FineTuneCliTests : IDisposable
{
    private readonly TemporaryFolder _folder = new();

    public FineTuneCliTests()
    {
        string[] sentences = ["the cat sat on the mat", "a dog ran in the park", "the bird sang a song", "my cat likes the dog"];
        var random = new Random(11);
        string Text(int lines) => string.Concat(Enumerable.Range(0, lines).Select(_ => " " + sentences[random.Next(sentences.Length)] + " \n"));
        _folder.Write("data/train.txt", Text(120));
        _folder.Write("data/valid.txt", Text(20));
        _folder.Write("data/test.txt", Text(20));
    }

    public void Dispose() => _folder.Dispose();

    private string Data => Path.Combine(_folder.Path, "data");

    private string InFolder(string name) => Path.Combine(_folder.Path, name);

    private static readonly string[] Shape = ["--layers", "1", "--hidden", "8", "--bptt", "5", "--batch-size", "4"];

    private static JsonElement Result(CliProcess.Result run)
    {
        Assert.True(run.ExitCode == 0, run.StandardError);
        return JsonDocument.Parse(run.StandardOutput.Split('\n').Last(l => l.StartsWith('{'))).RootElement.Clone();
    }

    private string Dense()
    {
        string dense = InFolder("dense.safetensors");
        Result(CliProcess.Run(["train", "--data", Data, "--out", dense, .. Shape, "--epochs", "2", "--json"]));
        return dense;
    }

    [Fact]
    public void Fine_tuning_starts_from_the_models_weights_and_applies_the_new_dropout()
    {
        string dense = Dense();
        double denseTest = JsonDocument.Parse(CliProcess.Run("eval", "--model", dense, "--data", Data, "--bptt", "5", "--batch-size", "10", "--json")
            .StandardOutput).RootElement.GetProperty("test_ppl").GetDouble();
        // A learning rate too small to move the weights: the fine-tuned model evaluates as the dense one, and only
        // dropout, active while training, changes the training perplexity.
        JsonElement Tune(string name, string dropout) => Result(CliProcess.Run(["train", "--data", Data, "--out", InFolder(name), "--model", dense,
            "--bptt", "5", "--batch-size", "4", "--epochs", "1", "--lr", "1e-9", "--dropout", dropout, "--eval-batch-size", "10", "--json"]));
        JsonElement plain = Tune("plain.safetensors", "0"), dropped = Tune("dropped.safetensors", "0.5");

        Assert.Equal(denseTest, plain.GetProperty("test_ppl").GetDouble(), 4);
        Assert.Equal(denseTest, dropped.GetProperty("test_ppl").GetDouble(), 4);
        Assert.Equal(0.5, dropped.GetProperty("options").GetProperty("dropout").GetDouble());
        double plainTrain = plain.GetProperty("epochs")[0].GetProperty("train_perplexity").GetDouble();
        double droppedTrain = dropped.GetProperty("epochs")[0].GetProperty("train_perplexity").GetDouble();
        Assert.True(droppedTrain > plainTrain * 1.05, $"training perplexity with dropout 0.5 {droppedTrain} vs without {plainTrain}");

        // Compressing with a dropout the dense model was not trained with fine-tunes with that dropout.
        JsonElement doped = Result(CliProcess.Run(["compress", "--data", Data, "--out", InFolder("dkp.safetensors"), "--model", dense,
            "--method", "dkp", "--factor", "4", "--bptt", "5", "--batch-size", "4", "--epochs", "1", "--prune-start", "0", "--prune-end", "1", "--dropout", "0.3", "--json"]));
        Assert.Equal(0.3, doped.GetProperty("options").GetProperty("dropout").GetDouble());
    }

    [Fact]
    public void Tied_fine_tuning_and_compression_tie_a_dense_untied_model()
    {
        string dense = Dense();
        JsonElement Inspect(string model) => Result(CliProcess.Run(["inspect", model, "--json"]));
        Assert.False(Inspect(dense).GetProperty("tied").GetBoolean());

        string tuned = InFolder("tied.safetensors");
        Result(CliProcess.Run(["train", "--data", Data, "--out", tuned, "--model", dense, "--tied", "--bptt", "5", "--batch-size", "4",
            "--epochs", "1", "--eval-batch-size", "10", "--json"]));
        JsonElement tied = Inspect(tuned);
        Assert.True(tied.GetProperty("tied").GetBoolean());
        Assert.DoesNotContain(tied.GetProperty("matrices").EnumerateArray(), m => m.GetProperty("name").GetString() == "decoder.weight");

        // Compressing every matrix of the tied model: the embedding, which is also the decoder, takes the form once.
        string doped = InFolder("tied-dkp.safetensors");
        Result(CliProcess.Run(["compress", "--data", Data, "--out", doped, "--model", dense, "--tied", "--matrices", ".*", "--method", "dkp",
            "--factor", "4", "--bptt", "5", "--batch-size", "4", "--epochs", "1", "--prune-start", "0", "--prune-end", "1", "--json"]));
        JsonElement compressed = Inspect(doped);
        Assert.True(compressed.GetProperty("tied").GetBoolean());
        Assert.Equal(["encoder.weight", "rnn.weight_ih_l0", "rnn.weight_hh_l0"],
            compressed.GetProperty("matrices").EnumerateArray().Select(m => m.GetProperty("name").GetString()));
        Assert.All(compressed.GetProperty("matrices").EnumerateArray(), m => Assert.Contains("doped", m.GetProperty("form").GetRawText()));
    }

    [Fact]
    public void Fine_tuning_refuses_a_compressed_model_and_a_resume_with_a_model()
    {
        string dense = Dense();
        string doped = InFolder("dkp.safetensors");
        Result(CliProcess.Run(["compress", "--data", Data, "--out", doped, "--model", dense, "--method", "dkp", "--factor", "4",
            "--bptt", "5", "--batch-size", "4", "--epochs", "1", "--prune-start", "0", "--prune-end", "1", "--json"]));

        string target = InFolder("tuned.safetensors");
        CliProcess.Result compressed = CliProcess.Run("train", "--data", Data, "--out", target, "--model", doped, "--epochs", "1");
        Assert.NotEqual(0, compressed.ExitCode);
        Assert.Contains("holds a compressed model", Assert.Single(compressed.ErrorLines));
        Assert.False(File.Exists(target));

        CliProcess.Result resume = CliProcess.Run("train", "--data", Data, "--out", dense, "--resume", "--model", dense);
        Assert.NotEqual(0, resume.ExitCode);
        Assert.Contains("--resume", Assert.Single(resume.ErrorLines));
    }
}
