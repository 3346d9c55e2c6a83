using System.Text.Json;
using Dopant.Compression;
using Dopant.Matrices;
using Dopant.Tests.Data;
using Dopant.Training;

namespace Dopant.Tests.Cli;

/// <summary><c>dopant compress --scheme</c> end to end on a tiny corpus: L-C, the compressed forms, fine-tuning, quantization.</summary>
public sealed class SchemeCompressCliTests : IDisposable
{
    private readonly TemporaryFolder _folder = new();
    private readonly string _dense;

    public SchemeCompressCliTests()
    {
        Data = TinyCorpus.Write(_folder);
        _dense = Path.Combine(_folder.Path, "dense.safetensors");
        CliProcess.Result train = CliProcess.Run("train", "--data", Data, "--out", _dense, "--layers", "2", "--hidden", "16", "--bptt", "5",
            "--batch-size", "4", "--epochs", "2");
        Assert.True(train.ExitCode == 0, train.StandardError);
    }

    public void Dispose() => _folder.Dispose();

    private string Data { get; }

    private string Scheme(string json)
    {
        string path = Path.Combine(_folder.Path, $"scheme{Guid.NewGuid():N}.json");
        File.WriteAllText(path, json);
        return path;
    }

    private string[] Compress(string output, string scheme, params string[] extra) =>
    [
        "compress", "--data", Data, "--model", _dense, "--out", output, "--scheme", scheme, "--bptt", "5", "--batch-size", "4",
        "--lc-iterations", "2", "--l-step-windows", "3", "--mu0", "0.01", "--json", .. extra,
    ];

    [Fact]
    public void A_memory_scheme_prunes_and_quantizes_and_the_bytes_follow()
    {
        string scheme = Scheme("""
            { "rules": [
                { "select": { "kinds": ["lstm"] }, "operators": [ { "op": "prune", "factor": "$level" }, { "op": "quantize", "precision": "int8" } ] },
                { "select": { "names": "decoder\\.weight" }, "operators": [ { "op": "block_prune", "density": 0.5, "block": "4x1" } ] } ] }
            """);
        string output = Path.Combine(_folder.Path, "memory.safetensors");
        CliProcess.Result run = CliProcess.Run(Compress(output, scheme, "--level", "5"));
        Assert.True(run.ExitCode == 0, run.StandardError);
        Assert.Contains("L-C iteration 2", run.StandardError);
        using JsonDocument result = JsonDocument.Parse(run.StandardOutput.Split('\n').Last(l => l.StartsWith('{')));
        JsonElement root = result.RootElement;
        Assert.Equal(3, root.GetProperty("lc_history").GetArrayLength());
        Assert.True(root.GetProperty("byte_factor").GetDouble() > 1.3, root.GetRawText());
        Assert.False(File.Exists(SchemeCompressionRun.StatePath(output)), "the L-C state is removed once the model is written");

        ModelCheckpoint model = ModelCheckpoint.Load(output);
        // One global threshold: the LSTM matrices together keep a fifth of their weights, each matrix its own share.
        PrunedMatrix<float>[] lstm = [.. model.Model.Layers.SelectMany(l => new[] { l.InputWeights, l.RecurrentWeights }).Select(Assert.IsType<PrunedMatrix<float>>)];
        Assert.Equal(0.8, lstm.Sum(m => m.Sparsity * m.Rows * m.Columns) / lstm.Sum(m => m.Rows * m.Columns), 3);
        PrunedMatrix<float> hh = lstm[^1];
        // int8 per row: every kept value of a row is a multiple of the row's scale.
        float[] w = hh.ToDense();
        for (int i = 0; i < hh.Rows; i++)
        {
            float[] row = w.Skip(i * hh.Columns).Take(hh.Columns).ToArray();
            float scale = row.Max(Math.Abs) / 127;
            Assert.All(row, v => Assert.Equal(Math.Round(v / scale), v / scale, 3));
        }
        float[] decoder = model.Model.Decoder.Weight.ToDense();
        Assert.Equal(0.5, decoder.Count(v => v == 0) / (double)decoder.Length, 1);
        Assert.True(root.GetProperty("test_ppl").GetDouble() is > 1 and < 100, root.GetRawText());

        CliProcess.Result eval = CliProcess.Run("eval", "--model", output, "--data", Data, "--json");
        Assert.True(eval.ExitCode == 0, eval.StandardError);
        using JsonDocument evaluated = JsonDocument.Parse(eval.StandardOutput);
        Assert.Equal(root.GetProperty("test_ppl").GetDouble(), evaluated.RootElement.GetProperty("test_ppl").GetDouble(), 6);
    }

    [Fact]
    public void A_structured_scheme_gives_doped_kronecker_lstm_matrices()
    {
        string scheme = Scheme("""{ "rules": [ { "select": { "kinds": ["lstm"] }, "operators": [ { "op": "dkp", "factor": 4 } ] } ] }""");
        string output = Path.Combine(_folder.Path, "dkp.safetensors");
        CliProcess.Result run = CliProcess.Run(Compress(output, scheme, "--fine-tune-epochs", "0"));
        Assert.True(run.ExitCode == 0, run.StandardError);
        ModelCheckpoint model = ModelCheckpoint.Load(output);
        Assert.IsType<DopedMatrix<float>>(model.Model.Layers[0].InputWeights);
        Assert.True(model.Model.Layers[0].InputWeights.ParameterCount * 4 <= 64 * 16 * 1.01);

        // Resuming a finished run (killed after its last save) evaluates the saved model again.
        CliProcess.Result again = CliProcess.Run("compress", "--data", Data, "--model", _dense, "--out", output, "--resume", "--json");
        Assert.True(again.ExitCode == 0, again.StandardError);
        using JsonDocument first = JsonDocument.Parse(run.StandardOutput.Split('\n').Last(l => l.StartsWith('{')));
        using JsonDocument second = JsonDocument.Parse(again.StandardOutput.Split('\n').Last(l => l.StartsWith('{')));
        Assert.Equal(first.RootElement.GetProperty("test_ppl").GetDouble(), second.RootElement.GetProperty("test_ppl").GetDouble(), 9);
    }

    [Fact]
    public void A_scheme_gives_the_embedding_and_the_decoder_structured_forms()
    {
        string scheme = Scheme("""
            { "rules": [
                { "select": { "kinds": ["embedding", "decoder"] }, "operators": [ { "op": "lmf", "factor": 2 } ] },
                { "select": { "kinds": ["lstm"] }, "operators": [ { "op": "prune", "factor": 2 } ] } ] }
            """);
        string output = Path.Combine(_folder.Path, "structured.safetensors");
        CliProcess.Result run = CliProcess.Run(Compress(output, scheme));
        Assert.True(run.ExitCode == 0, run.StandardError);
        ModelCheckpoint model = ModelCheckpoint.Load(output);
        Assert.IsType<LowRankMatrix<float>>(model.Model.Encoder.Table);
        Assert.IsType<LowRankMatrix<float>>(model.Model.Decoder.Weight);
        Assert.IsType<PrunedMatrix<float>>(model.Model.Layers[0].RecurrentWeights);
        CliProcess.Result eval = CliProcess.Run("eval", "--model", output, "--data", Data, "--json");
        Assert.True(eval.ExitCode == 0, eval.StandardError);
        Assert.True(JsonDocument.Parse(eval.StandardOutput).RootElement.GetProperty("test_ppl").GetDouble() < 20);
    }

    [Fact]
    public void A_scheme_run_with_tied_ties_the_untied_dense_model_and_compresses_the_shared_matrix_once()
    {
        string scheme = Scheme("""
            { "rules": [ { "select": { "kinds": ["embedding", "decoder"] }, "operators": [ { "op": "lmf", "factor": 2 } ] } ] }
            """);
        string output = Path.Combine(_folder.Path, "tied.safetensors");
        CliProcess.Result run = CliProcess.Run(Compress(output, scheme, "--tied", "--fine-tune-epochs", "0"));
        Assert.True(run.ExitCode == 0, run.StandardError);
        ModelCheckpoint model = ModelCheckpoint.Load(output);
        Assert.True(model.Model.Config.TiedWeights);
        Assert.IsType<LowRankMatrix<float>>(model.Model.Encoder.Table);
        Assert.Same(model.Model.Encoder.Table, model.Model.Decoder.Weight);
        Assert.DoesNotContain(model.Model.WeightMatrices, m => m.Name == "decoder.weight");
    }

    [Theory]
    [InlineData("missing", "does not exist")]
    [InlineData("level", "give a level")]
    [InlineData("method", "--scheme and --method are alternatives")]
    [InlineData("matrix-factor", "--matrix-factor and --matrix-method belong to --method runs")]
    [InlineData("matrix-method", "--matrix-factor and --matrix-method belong to --method runs")]
    [InlineData("scaled-low-rank", "--scaled-low-rank belongs to --method runs")]
    [InlineData("kp-quantized", "quantizing a structured form is not supported")]
    public void Bad_scheme_runs_fail_with_a_clear_error_and_write_nothing(string problem, string expected)
    {
        string output = Path.Combine(_folder.Path, problem + ".safetensors");
        string levelled = Scheme("""{ "rules": [ { "operators": [ { "op": "prune", "factor": "$level" } ] } ] }""");
        string[] args = problem switch
        {
            "missing" => Compress(output, Path.Combine(_folder.Path, "nope.json")),
            "level" => Compress(output, levelled),
            "method" => Compress(output, levelled, "--level", "4", "--method", "dkp"),
            "matrix-factor" => Compress(output, levelled, "--level", "4", "--matrix-factor", @"decoder\.weight=2"),
            "matrix-method" => Compress(output, levelled, "--level", "4", "--matrix-method", @"decoder\.weight=lmf"),
            "scaled-low-rank" => Compress(output, levelled, "--level", "4", "--scaled-low-rank"),
            _ => Compress(output, Scheme("""{ "rules": [ { "operators": [ { "op": "lmf", "factor": 2 }, { "op": "quantize", "precision": "int8" } ] } ] }""")),
        };
        CliProcess.Result run = CliProcess.Run(args);
        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains(expected, run.StandardError);
        Assert.False(File.Exists(output));
        Assert.False(File.Exists(SchemeCompressionRun.StatePath(output)));
    }
}
