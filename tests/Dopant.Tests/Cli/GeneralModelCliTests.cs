using System.Text.Json;
using Dopant.IO;
using Dopant.Matrices;
using Dopant.Tests.Data;
using Dopant.Training;

namespace Dopant.Tests.Cli;

/// <summary>GRU models, embedding widths other than the hidden size, and PyTorch state dicts, through the commands a user runs.</summary>
public sealed class GeneralModelCliTests : IDisposable
{
    private readonly TemporaryFolder _folder = new();
    private readonly string _data;

    public GeneralModelCliTests() => _data = TinyCorpus.Write(_folder);

    public void Dispose() => _folder.Dispose();

    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", name);

    private static readonly string[] Tiny = ["--layers", "2", "--hidden", "8", "--bptt", "5", "--batch-size", "4", "--epochs", "2"];

    private static JsonElement LastJson(string output) => JsonDocument.Parse(output.Split('\n').Last(l => l.StartsWith('{'))).RootElement;

    [Fact]
    public void A_gru_with_a_narrow_embedding_trains_compresses_exports_and_evaluates()
    {
        string dense = Path.Combine(_folder.Path, "gru.safetensors");
        CliProcess.Result train = CliProcess.Run(["train", "--data", _data, "--out", dense, "--cell", "gru", "--emsize", "6", "--json", .. Tiny]);
        Assert.True(train.ExitCode == 0, train.StandardError);
        Assert.Contains("2x8 GRU, embedding 6", train.StandardError);
        double trainedTest = LastJson(train.StandardOutput).GetProperty("test_ppl").GetDouble();
        Assert.True(trainedTest < 20, $"a GRU learns the tiny corpus's {17}-word vocabulary; test perplexity {trainedTest}");

        CliProcess.Result inspect = CliProcess.Run("inspect", dense, "--json");
        Assert.True(inspect.ExitCode == 0, inspect.StandardError);
        JsonElement described = JsonDocument.Parse(inspect.StandardOutput).RootElement;
        Assert.Equal("gru", described.GetProperty("cell").GetString());
        Assert.Equal(6, described.GetProperty("embedding_size").GetInt32());
        Assert.False(described.GetProperty("architecture_inferred").GetBoolean());
        Assert.Equal([24, 6], described.GetProperty("matrices").EnumerateArray()
            .Where(m => m.GetProperty("name").GetString() == "rnn.weight_ih_l0")
            .Select(m => new[] { m.GetProperty("rows").GetInt32(), m.GetProperty("columns").GetInt32() }).Single());

        foreach (string method in new[] { "dkp", "dlmf" })
        {
            string compressed = Path.Combine(_folder.Path, method + ".safetensors");
            CliProcess.Result compress = CliProcess.Run(["compress", "--method", method, "--factor", "3", "--model", dense, "--data", _data, "--out", compressed,
                "--prune-start", "0", "--prune-end", "1", "--json", .. Tiny]);
            Assert.True(compress.ExitCode == 0, compress.StandardError);
            using JsonDocument accounting = JsonDocument.Parse(SafeTensorsFile.Load(compressed).Metadata[ModelCheckpoint.CompressionKey]);
            Assert.True(accounting.RootElement.GetProperty("lstm_parameter_factor").GetDouble() > 1.5, accounting.RootElement.ToString());

            string compact = Path.Combine(_folder.Path, method + ".int8.safetensors");
            CliProcess.Result export = CliProcess.Run("export", "--model", compressed, "--out", compact, "--precision", "int8");
            Assert.True(export.ExitCode == 0, export.StandardError);
            CliProcess.Result eval = CliProcess.Run("eval", "--model", compact, "--data", _data, "--bptt", "5", "--batch-size", "10", "--json");
            Assert.True(eval.ExitCode == 0, eval.StandardError);
            double test = JsonDocument.Parse(eval.StandardOutput).RootElement.GetProperty("test_ppl").GetDouble();
            Assert.True(test < 1.5 * trainedTest, $"{method} at 3x, int8: test perplexity {test} against dense {trainedTest}");
            CliProcess.Result score = CliProcess.Run("score", "--model", compact, "--text", Path.Combine(_data, "test.txt"), "--json");
            Assert.True(score.ExitCode == 0, score.StandardError);
        }
    }

    [Fact]
    public void A_hidden_size_per_layer_trains_compresses_exports_and_evaluates()
    {
        string dense = Path.Combine(_folder.Path, "layers.safetensors");
        CliProcess.Result train = CliProcess.Run(["train", "--data", _data, "--out", dense, "--hidden", "12,6", "--emsize", "5", "--bptt", "5", "--batch-size", "4", "--epochs", "2", "--json"]);
        Assert.True(train.ExitCode == 0, train.StandardError);
        Assert.Contains("12,6 LSTM, embedding 5", train.StandardError);
        double trainedTest = LastJson(train.StandardOutput).GetProperty("test_ppl").GetDouble();

        CliProcess.Result inspect = CliProcess.Run("inspect", dense, "--json");
        Assert.True(inspect.ExitCode == 0, inspect.StandardError);
        JsonElement described = JsonDocument.Parse(inspect.StandardOutput).RootElement;
        Assert.Equal([12, 6], described.GetProperty("hidden_sizes").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal([24, 12], described.GetProperty("matrices").EnumerateArray()
            .Where(m => m.GetProperty("name").GetString() == "rnn.weight_ih_l1")
            .Select(m => new[] { m.GetProperty("rows").GetInt32(), m.GetProperty("columns").GetInt32() }).Single());

        string compressed = Path.Combine(_folder.Path, "layers-dkp.safetensors");
        CliProcess.Result compress = CliProcess.Run(["compress", "--method", "dkp", "--factor", "3", "--model", dense, "--data", _data, "--out", compressed,
            "--prune-start", "0", "--prune-end", "1", "--bptt", "5", "--batch-size", "4", "--epochs", "2", "--json"]);
        Assert.True(compress.ExitCode == 0, compress.StandardError);
        string compact = Path.Combine(_folder.Path, "layers-dkp.int8.safetensors");
        CliProcess.Result export = CliProcess.Run("export", "--model", compressed, "--out", compact, "--precision", "int8");
        Assert.True(export.ExitCode == 0, export.StandardError);
        CliProcess.Result eval = CliProcess.Run("eval", "--model", compact, "--data", _data, "--bptt", "5", "--batch-size", "10", "--json");
        Assert.True(eval.ExitCode == 0, eval.StandardError);
        double test = JsonDocument.Parse(eval.StandardOutput).RootElement.GetProperty("test_ppl").GetDouble();
        Assert.True(test < 1.5 * trainedTest, $"dkp at 3x, int8: test perplexity {test} against dense {trainedTest}");

        // ONNX keeps the state of every layer in one [layers, hidden] tensor: refused in one line, nothing written.
        string onnx = Path.Combine(_folder.Path, "layers.onnx");
        CliProcess.Result refused = CliProcess.Run("export", "--model", dense, "--out", onnx, "--format", "onnx");
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("its layers need one size; this model's are 12,6", refused.StandardError);
        Assert.False(File.Exists(onnx));
    }

    [Fact]
    public void A_pytorch_state_dict_is_inspected_converted_and_scored_with_a_vocabulary_file()
    {
        string stateDict = Fixture("torch_gru_state_dict.safetensors"), vocab = Fixture("torch_gru_state_dict.vocab.txt");
        CliProcess.Result inspect = CliProcess.Run("inspect", stateDict, "--vocab", vocab);
        Assert.True(inspect.ExitCode == 0, inspect.StandardError);
        Assert.Contains("2x7 GRU, embedding 5, vocabulary 11 (no dopant.config: inferred from the tensors' names and shapes)", inspect.StandardOutput);
        Assert.Contains("rnn.weight_hh_l1", inspect.StandardOutput);

        string converted = Path.Combine(_folder.Path, "converted.safetensors");
        CliProcess.Result export = CliProcess.Run("export", "--model", stateDict, "--vocab", vocab, "--out", converted);
        Assert.True(export.ExitCode == 0, export.StandardError);
        CliProcess.Result again = CliProcess.Run("inspect", converted);
        Assert.True(again.ExitCode == 0, again.StandardError);
        Assert.Contains("2x7 GRU, embedding 5, vocabulary 11", again.StandardOutput);
        Assert.DoesNotContain("inferred", again.StandardOutput);

        string text = _folder.Write("words.txt", " w1 w2 w3 w4 w5 w6 \n w0 w9 w8 \n");
        CliProcess.Result direct = CliProcess.Run("score", "--model", stateDict, "--vocab", vocab, "--text", text, "--json");
        CliProcess.Result viaFile = CliProcess.Run("score", "--model", converted, "--text", text, "--json");
        Assert.True(direct.ExitCode == 0, direct.StandardError);
        Assert.True(viaFile.ExitCode == 0, viaFile.StandardError);
        double Perplexity(CliProcess.Result r) => JsonDocument.Parse(r.StandardOutput).RootElement.GetProperty("perplexity").GetDouble();
        Assert.Equal(Perplexity(direct), Perplexity(viaFile));
        Assert.True(Perplexity(direct) > 1);
    }

    [Fact]
    public void The_embedding_and_the_decoder_are_compressed_when_matrices_selects_them()
    {
        string output = Path.Combine(_folder.Path, "whole.safetensors");
        CliProcess.Result compress = CliProcess.Run(["compress", "--method", "dlmf", "--factor", "3", "--matrices", @"rnn\..*|encoder\.weight|decoder\.weight",
            "--data", _data, "--out", output, "--prune-start", "0", "--prune-end", "1", "--json", .. Tiny]);
        Assert.True(compress.ExitCode == 0, compress.StandardError);
        JsonElement described = JsonDocument.Parse(CliProcess.Run("inspect", output, "--json").StandardOutput).RootElement;
        Assert.All(described.GetProperty("matrices").EnumerateArray(), m => Assert.Equal("doped", m.GetProperty("form").GetString()));
        JsonElement compression = described.GetProperty("compression");
        Assert.True(compression.GetProperty("model_parameter_factor").GetDouble() > 2, compression.ToString());

        string compact = Path.Combine(_folder.Path, "whole.int8.safetensors");
        Assert.Equal(0, CliProcess.Run("export", "--model", output, "--out", compact, "--precision", "int8").ExitCode);
        CliProcess.Result eval = CliProcess.Run("eval", "--model", compact, "--data", _data, "--json");
        Assert.True(eval.ExitCode == 0, eval.StandardError);
        CliProcess.Result generate = CliProcess.Run("generate", "--model", compact, "--prompt", "the cat", "--tokens", "5");
        Assert.True(generate.ExitCode == 0, generate.StandardError);

        string none = Path.Combine(_folder.Path, "none.safetensors");
        CliProcess.Result refused = CliProcess.Run(["compress", "--method", "dlmf", "--factor", "3", "--matrices", "lstm", "--data", _data, "--out", none, .. Tiny]);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("--matrices 'lstm' selects none of the model's weight matrices (encoder.weight, rnn.weight_ih_l0", refused.StandardError);
        Assert.False(File.Exists(none));
    }

    [Fact]
    public void Matrix_methods_give_the_embedding_its_own_form_and_bad_ones_are_refused()
    {
        string output = Path.Combine(_folder.Path, "low-rank-embedding.safetensors");
        CliProcess.Result compress = CliProcess.Run(["compress", "--method", "dkp", "--factor", "6", "--matrices", ".*",
            "--matrix-method", @"encoder\.weight=dlmf:0.5", "--matrix-method", @"decoder\.weight=lmf", "--data", _data, "--out", output,
            "--prune-start", "0", "--prune-end", "1", "--json", .. Tiny]);
        Assert.True(compress.ExitCode == 0, compress.StandardError);
        Assert.Contains(@"dkp at 6x, /encoder\.weight/ by dlmf, /decoder\.weight/ by lmf", compress.StandardError);
        var forms = ModelCheckpoint.Load(output).Model.WeightMatrices.ToDictionary(m => m.Name, m => m.Matrix);
        Assert.IsType<LowRankMatrix<float>>(Assert.IsType<DopedMatrix<float>>(forms["encoder.weight"]).Structure);
        Assert.IsType<LowRankMatrix<float>>(forms["decoder.weight"]);
        Assert.IsType<KroneckerMatrix<float>>(Assert.IsType<DopedMatrix<float>>(forms["rnn.weight_hh_l0"]).Structure);

        string none = Path.Combine(_folder.Path, "refused-method.safetensors");
        foreach ((string[] arguments, string expected) in new (string[], string)[]
        {
            (["--matrix-method", @"decoder\.weight=svd"], "--matrix-method 'decoder\\.weight=svd': unknown method 'svd'"),
            (["--matrix-method", @"decoder\.weight=lmf"], @"--matrix-method 'decoder\.weight=lmf' selects none of the compressed matrices (rnn.weight_ih_l0"),
        })
        {
            CliProcess.Result refused = CliProcess.Run(["compress", "--method", "dkp", "--factor", "6", .. arguments, "--data", _data, "--out", none, .. Tiny]);
            Assert.Equal(1, refused.ExitCode);
            Assert.Contains(expected, refused.StandardError);
            Assert.False(File.Exists(none));
        }
    }

    [Fact]
    public void Matrix_factors_compress_the_embedding_and_decoder_less_and_bad_ones_are_refused()
    {
        string output = Path.Combine(_folder.Path, "lighter-head.safetensors");
        CliProcess.Result compress = CliProcess.Run(["compress", "--method", "dkp", "--factor", "6", "--matrices", ".*",
            "--matrix-factor", @"encoder\.weight|decoder\.weight=2", "--data", _data, "--out", output, "--prune-start", "0", "--prune-end", "1", "--json", .. Tiny]);
        Assert.True(compress.ExitCode == 0, compress.StandardError);
        Assert.Contains(@"dkp at 6x, /encoder\.weight|decoder\.weight/ at 2x", compress.StandardError);
        JsonElement described = JsonDocument.Parse(CliProcess.Run("inspect", output, "--json").StandardOutput).RootElement;
        foreach (JsonElement m in described.GetProperty("matrices").EnumerateArray())
        {
            string name = m.GetProperty("name").GetString()!;
            double factor = (double)m.GetProperty("rows").GetInt32() * m.GetProperty("columns").GetInt32() / m.GetProperty("parameters").GetInt64();
            (double low, double high) = name.StartsWith("rnn.", StringComparison.Ordinal) ? (5.9, 12.0) : (1.9, 4.0);
            Assert.True(factor >= low && factor <= high, $"{name}: {factor:F2}x, expected {low}-{high}");
        }

        string none = Path.Combine(_folder.Path, "refused.safetensors");
        foreach ((string[] arguments, string expected) in new (string[], string)[]
        {
            (["--matrix-factor", "decoder.weight"], "--matrix-factor 'decoder.weight': expected PATTERN=FACTOR"),
            (["--matrix-factor", @"decoder\.weight=0.5"], "the factor must be greater than 1 (got 0.5)"),
            (["--matrix-factor", @"decoder\.weight=2"], @"--matrix-factor 'decoder\.weight=2' selects none of the compressed matrices (rnn.weight_ih_l0"),
        })
        {
            CliProcess.Result refused = CliProcess.Run(["compress", "--method", "dkp", "--factor", "6", .. arguments, "--data", _data, "--out", none, .. Tiny]);
            Assert.Equal(1, refused.ExitCode);
            Assert.Contains(expected, refused.StandardError);
            Assert.False(File.Exists(none));
        }
    }
}
