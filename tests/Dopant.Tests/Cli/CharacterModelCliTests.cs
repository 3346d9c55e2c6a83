using System.Text.Json;
using Dopant.Tests.Data;
using Dopant.Tests.Training;

namespace Dopant.Tests.Cli;

/// <summary><c>train --task charlm</c>, bits per character, and the task read from a data folder's format.</summary>
public sealed class CharacterModelCliTests : IDisposable
{
    private readonly TemporaryFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private static readonly string[] Tiny = ["--hidden", "12", "--emsize", "6", "--bptt", "8", "--batch-size", "2", "--epochs", "6", "--lr", "0.01", "--threads", "1"];

    private string CharacterCorpus()
    {
        string[] sentences = ["t h e _ c a t _ s a t", "a _ d o g _ r a n", "m y _ c a t"];
        var random = new Random(3);
        string Text(int lines) => string.Concat(Enumerable.Range(0, lines).Select(_ => sentences[random.Next(sentences.Length)] + "\n"));
        _folder.Write("chars/train.txt", Text(150));
        _folder.Write("chars/valid.txt", Text(20));
        _folder.Write("chars/test.txt", Text(20));
        return Path.Combine(_folder.Path, "chars");
    }

    [Fact]
    public void A_character_model_is_inferred_from_its_data_and_reports_bits_per_character()
    {
        string data = CharacterCorpus(), model = Path.Combine(_folder.Path, "chars.safetensors");
        CliProcess.Result train = CliProcess.Run(["train", "--data", data, "--out", model, "--json", .. Tiny]);
        Assert.True(train.ExitCode == 0, train.StandardError);
        // The charlm preset's fields stay where the command line does not override them: 2 layers, Adam.
        Assert.Contains("2x12 LSTM, embedding 6", train.StandardError);
        JsonElement result = JsonDocument.Parse(train.StandardOutput).RootElement;
        Assert.Equal("charlm", result.GetProperty("options").GetProperty("preset").GetString());
        Assert.Equal("adam", result.GetProperty("options").GetProperty("optimizer").GetString());
        double testPpl = result.GetProperty("test_ppl").GetDouble(), testBpc = result.GetProperty("test_bpc").GetDouble();
        Assert.Equal(Math.Log2(testPpl), testBpc, 12);
        // Three sentences of about ten characters: a trained model needs far fewer bits than log2 of the 15 symbols.
        Assert.True(testBpc < 2.5, $"test bits per character {testBpc}");

        CliProcess.Result eval = CliProcess.Run("eval", "--model", model, "--data", data);
        Assert.True(eval.ExitCode == 0, eval.StandardError);
        Assert.Contains($"test {testBpc:F4} bits per character", eval.StandardOutput);
    }

    [Fact]
    public void A_labeled_folder_trains_its_task_without_task_and_a_mixed_one_is_refused()
    {
        (_, string classes) = LabelerTrainerTests.WriteToyCorpora(_folder);
        string model = Path.Combine(_folder.Path, "classifier.safetensors");
        CliProcess.Result train = CliProcess.Run(["train", "--data", classes, "--out", model, "--epochs", "1", "--hidden", "8", "--emsize", "4", "--threads", "1"]);
        Assert.True(train.ExitCode == 0, train.StandardError);
        Assert.Contains("test: accuracy", train.StandardOutput);

        _folder.Write("mixed/train.txt", "news\tThe cat sat .\nThe cat sat .\n");
        string output = Path.Combine(_folder.Path, "mixed.safetensors");
        CliProcess.Result refused = CliProcess.Run("train", "--data", Path.Combine(_folder.Path, "mixed"), "--out", output);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("train.txt, line 2: no TAB", refused.StandardError);
        Assert.False(File.Exists(output));
    }
}
