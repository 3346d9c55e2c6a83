using System.Security.Cryptography;
using System.Text.Json;
using Dopant.IO;
using Dopant.Matrices;
using Dopant.Tests.Data;
using Dopant.Training;

namespace Dopant.Tests.Cli;

/// <summary><c>dopant compress</c> and <c>dopant eval</c> end to end, as a user runs them, on a tiny corpus.</summary>
public sealed class CompressCliTests : IDisposable
{
    private readonly TemporaryFolder _folder = new();

    public CompressCliTests()
    {
        string[] sentences = ["the cat sat on the mat", "a dog ran in the park", "the bird sang a song", "my cat likes the dog"];
        var random = new Random(7);
        string Text(int lines) => string.Concat(Enumerable.Range(0, lines).Select(_ => " " + sentences[random.Next(sentences.Length)] + " \n"));
        _folder.Write("data/train.txt", Text(120));
        _folder.Write("data/valid.txt", Text(20));
        _folder.Write("data/test.txt", Text(20));
    }

    public void Dispose() => _folder.Dispose();

    private string Data => Path.Combine(_folder.Path, "data");

    private string[] Tiny(string output, params string[] extra) =>
    [
        "compress", "--data", Data, "--out", output, "--layers", "1", "--hidden", "8", "--bptt", "5", "--batch-size", "4",
        "--epochs", "2", "--prune-start", "0", "--prune-end", "1", .. extra,
    ];

    // A compact file has no training options, so eval's default windows (bptt 35) would differ from a training file's
    // (bptt 5): the same perplexity up to rounding, not to the bit. With the windows given, the products are the same.
    private double TestPerplexity(string model) => JsonDocument.Parse(CliProcess.Run("eval", "--model", model, "--data", Data,
        "--bptt", "5", "--batch-size", "10", "--json").StandardOutput).RootElement.GetProperty("test_ppl").GetDouble();

    // The tiny doped KP trained with S in blocks of `block` into file (in the test folder); its forms record the shape.
    private string TrainDopedInBlocks(string file, string block)
    {
        string output = Path.Combine(_folder.Path, file);
        CliProcess.Result compress = CliProcess.Run(Tiny(output, "--method", "dkp", "--factor", "4", "--block", block));
        Assert.True(compress.ExitCode == 0, compress.StandardError);
        Assert.Contains($"\"block\":\"{block}\"", SafeTensorsFile.Load(output).Metadata[ModelCheckpoint.FormsKey]);
        return output;
    }

    // args with option set to value: replaced where present, else appended.
    private static string[] Set(string[] args, string option, string value)
    {
        int at = Array.IndexOf(args, option);
        if (at < 0) return [.. args, option, value];
        string[] copy = [.. args];
        copy[at + 1] = value;
        return copy;
    }

    [Fact]
    public void A_compressed_model_records_its_method_and_accounting_and_eval_reports_them()
    {
        string output = Path.Combine(_folder.Path, "dkp.safetensors");
        CliProcess.Result compress = CliProcess.Run(Tiny(output, "--method", "dkp", "--factor", "4", "--json"));
        Assert.True(compress.ExitCode == 0, compress.StandardError);
        using JsonDocument trained = JsonDocument.Parse(compress.StandardOutput.Split('\n').Last(l => l.StartsWith('{')));
        Assert.Equal("dkp", trained.RootElement.GetProperty("options").GetProperty("compression").GetProperty("method").GetString());

        SafeTensorsFile file = SafeTensorsFile.Load(output);
        using JsonDocument accounting = JsonDocument.Parse(file.Metadata[ModelCheckpoint.CompressionKey]);
        double factor = accounting.RootElement.GetProperty("lstm_parameter_factor").GetDouble();
        Assert.True(factor > 2, $"a 4x doped model at the end of the anneal is well compressed; got {factor}");

        CliProcess.Result eval = CliProcess.Run("eval", "--model", output, "--data", Data, "--json");
        Assert.True(eval.ExitCode == 0, eval.StandardError);
        using JsonDocument result = JsonDocument.Parse(eval.StandardOutput);
        Assert.Equal("dkp", result.RootElement.GetProperty("method").GetProperty("method").GetString());
        Assert.Equal(4, result.RootElement.GetProperty("method").GetProperty("factor").GetDouble());
        Assert.Equal(factor, result.RootElement.GetProperty("compression").GetProperty("lstm_parameter_factor").GetDouble());
        Assert.Equal(trained.RootElement.GetProperty("test_ppl").GetDouble(), result.RootElement.GetProperty("test_ppl").GetDouble(), 9);

        CliProcess.Result text = CliProcess.Run("eval", "--model", output, "--data", Data);
        Assert.Equal(0, text.ExitCode);
        Assert.Contains("dkp at 4x, doping share 0.25", text.StandardOutput);
        Assert.Contains("LSTM layers:", text.StandardOutput);
    }

    [Fact]
    public void Concatenated_compression_trains_resumes_and_evaluates()
    {
        string output = Path.Combine(_folder.Path, "cat.safetensors");
        CliProcess.Result run = CliProcess.Run(Set(Tiny(output, "--method", "dlmf", "--factor", "3", "--concatenate", "--json"), "--epochs", "1"));
        Assert.True(run.ExitCode == 0, run.StandardError);
        SafeTensorsFile file = SafeTensorsFile.Load(output);
        Assert.Contains("rnn.weight_l0", file.Metadata[ModelCheckpoint.FormsKey]);
        Assert.DoesNotContain(file.Tensors, t => t.Name.StartsWith("rnn.weight_ih", StringComparison.Ordinal));

        CliProcess.Result eval = CliProcess.Run("eval", "--model", output, "--data", Data, "--json");
        Assert.True(eval.ExitCode == 0, eval.StandardError);
        using JsonDocument trained = JsonDocument.Parse(run.StandardOutput.Split('\n').Last(l => l.StartsWith('{')));
        using JsonDocument result = JsonDocument.Parse(eval.StandardOutput);
        Assert.True(result.RootElement.GetProperty("method").GetProperty("concatenated").GetBoolean());
        Assert.Equal(trained.RootElement.GetProperty("test_ppl").GetDouble(), result.RootElement.GetProperty("test_ppl").GetDouble(), 9);
    }

    [Fact]
    public void An_existing_output_is_not_overwritten_without_force()
    {
        string output = _folder.Write("taken.safetensors", "not a model, but someone's file");
        byte[] before = SHA256.HashData(File.ReadAllBytes(output));
        CliProcess.Result run = CliProcess.Run(Tiny(output, "--method", "kp", "--factor", "4"));
        Assert.Equal(1, run.ExitCode);
        Assert.Equal("dopant: error: '" + output + "' exists; pass --resume to continue its run or --force to overwrite it.", Assert.Single(run.ErrorLines));
        Assert.Equal(before, SHA256.HashData(File.ReadAllBytes(output)));
    }

    [Theory]
    [InlineData("--factor", "0.5", "--factor must be greater than 1")]
    [InlineData("--cmr", "1.5", "--cmr must be in [0, 1)")]
    [InlineData("--cmr-final", "-0.1", "--cmr-final must be in [0, 1)")]
    [InlineData("--doping-share", "1", "--doping-share must be in (0, 1)")]
    [InlineData("--prune-end", "9", "--prune-end must be in [0, --epochs]")]
    [InlineData("--block", "16", "--block: A block shape is RxC")]
    [InlineData("--block", "4x4+0%", "--block: Blocks with loose entries are RxC+P%")]
    [InlineData("--block", "4x4@16x64", "--block: Single entries balanced in tiles are 1x1@RxC")]
    public void Bad_options_fail_with_one_line_naming_the_option_and_write_nothing(string option, string value, string expected)
    {
        string output = Path.Combine(_folder.Path, "bad.safetensors");
        CliProcess.Result run = CliProcess.Run(Set(Tiny(output, "--method", "dkp", "--factor", "4"), option, value));
        Assert.Equal(1, run.ExitCode);
        string line = Assert.Single(run.ErrorLines);
        Assert.StartsWith("dopant: error: ", line);
        Assert.Contains(expected, line);
        Assert.False(File.Exists(output));
    }

    [Fact]
    public void Resume_refuses_method_options_and_missing_checkpoints()
    {
        string output = Path.Combine(_folder.Path, "none.safetensors");
        CliProcess.Result withMethod = CliProcess.Run("compress", "--data", Data, "--out", output, "--resume", "--method", "kp");
        Assert.Equal(1, withMethod.ExitCode);
        Assert.Contains("--resume continues with the method and options stored in the checkpoint", Assert.Single(withMethod.ErrorLines));

        CliProcess.Result missing = CliProcess.Run("compress", "--data", Data, "--out", output, "--resume");
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("none.safetensors", Assert.Single(missing.ErrorLines));
    }

    [Fact]
    public void A_truncated_model_is_refused_with_one_line_and_left_as_it_was()
    {
        string output = Path.Combine(_folder.Path, "model.safetensors");
        Assert.Equal(0, CliProcess.Run(Set(Tiny(output, "--method", "lmf", "--factor", "2"), "--epochs", "1")).ExitCode);
        byte[] whole = File.ReadAllBytes(output);
        File.WriteAllBytes(output, whole[..(whole.Length * 2 / 3)]);
        byte[] truncated = File.ReadAllBytes(output);

        CliProcess.Result eval = CliProcess.Run("eval", "--model", output, "--data", Data);
        Assert.Equal(1, eval.ExitCode);
        string line = Assert.Single(eval.ErrorLines);
        Assert.StartsWith("dopant: error: ", line);
        Assert.Contains("model.safetensors", line);

        CliProcess.Result resume = CliProcess.Run("compress", "--data", Data, "--out", output, "--resume");
        Assert.Equal(1, resume.ExitCode);
        Assert.Single(resume.ErrorLines);
        Assert.Equal(truncated, File.ReadAllBytes(output));
    }

    [Fact]
    public void Bench_infer_times_a_compressed_model_against_its_dense_one()
    {
        string dense = Path.Combine(_folder.Path, "dense.safetensors"), kron = Path.Combine(_folder.Path, "kron.safetensors");
        CliProcess.Result train = CliProcess.Run("train", "--data", Data, "--out", dense, "--layers", "1", "--hidden", "8", "--bptt", "5",
            "--batch-size", "4", "--epochs", "1");
        Assert.True(train.ExitCode == 0, train.StandardError);
        CliProcess.Result compress = CliProcess.Run(Set(Tiny(kron, "--method", "kp", "--factor", "4", "--model", dense), "--epochs", "1"));
        Assert.True(compress.ExitCode == 0, compress.StandardError);

        CliProcess.Result bench = CliProcess.Run("bench", "infer", "--model", kron, "--against", dense, "--data", Data, "--tokens", "40", "--repeats", "3", "--json");
        Assert.True(bench.ExitCode == 0, bench.StandardError);
        JsonElement[] rows = [.. bench.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement)];
        Assert.Equal(2, rows.Length);
        Assert.Equal(kron, rows[0].GetProperty("model").GetString());
        Assert.All(rows, r => Assert.True(r.GetProperty("recurrent_us_per_token").GetDouble() > 0));
        Assert.Equal(3, rows[0].GetProperty("recurrent_samples").GetArrayLength());
        Assert.True(rows[0].GetProperty("recurrent_weight_bytes").GetInt64() < rows[1].GetProperty("recurrent_weight_bytes").GetInt64());
        Assert.Equal(rows[1].GetProperty("recurrent_us_per_token").GetDouble() / rows[0].GetProperty("recurrent_us_per_token").GetDouble(),
            rows[0].GetProperty("recurrent_speedup").GetDouble(), 9);

        CliProcess.Result bad = CliProcess.Run("bench", "infer", "--model", kron, "--data", Data, "--tokens", "0");
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("--tokens and --repeats must be at least 1", Assert.Single(bad.ErrorLines));
    }

    [Fact]
    public void Generate_is_reproducible_by_seed_and_score_matches_eval()
    {
        string model = Path.Combine(_folder.Path, "gen.safetensors");
        Assert.Equal(0, CliProcess.Run("train", "--data", Data, "--out", model, "--layers", "1", "--hidden", "8", "--bptt", "5",
            "--batch-size", "1", "--eval-batch-size", "1", "--epochs", "1").ExitCode);

        string[] generate = ["generate", "--model", model, "--prompt", "the cat", "--tokens", "30", "--seed", "4", "--top-k", "5"];
        CliProcess.Result first = CliProcess.Run(generate), second = CliProcess.Run(generate);
        Assert.True(first.ExitCode == 0, first.StandardError);
        Assert.Equal(first.StandardOutput, second.StandardOutput);
        Assert.StartsWith("the cat", first.StandardOutput);
        // The prompt and 30 generated tokens, of which sentence ends print as line breaks rather than words.
        Assert.InRange(first.StandardOutput.Split([' ', '\n'], StringSplitOptions.RemoveEmptyEntries).Length, 3, 32);

        CliProcess.Result score = CliProcess.Run("score", "--model", model, "--text", Path.Combine(Data, "test.txt"), "--json");
        Assert.True(score.ExitCode == 0, score.StandardError);
        CliProcess.Result eval = CliProcess.Run("eval", "--model", model, "--data", Data, "--json", "--bptt", "1000");
        double scored = JsonDocument.Parse(score.StandardOutput).RootElement.GetProperty("perplexity").GetDouble();
        double evaluated = JsonDocument.Parse(eval.StandardOutput).RootElement.GetProperty("test_ppl").GetDouble();
        Assert.Equal(evaluated, scored, evaluated * 1e-4);

        // Batched scoring is the evaluator's computation: the same streams and windows give the same figure as eval.
        CliProcess.Result batched = CliProcess.Run("score", "--model", model, "--text", Path.Combine(Data, "test.txt"), "--json", "--batch-size", "4", "--bptt", "7");
        Assert.True(batched.ExitCode == 0, batched.StandardError);
        CliProcess.Result evalBatched = CliProcess.Run("eval", "--model", model, "--data", Data, "--json", "--batch-size", "4", "--bptt", "7");
        Assert.Equal(JsonDocument.Parse(evalBatched.StandardOutput).RootElement.GetProperty("test_ppl").GetDouble(),
            JsonDocument.Parse(batched.StandardOutput).RootElement.GetProperty("perplexity").GetDouble());

        CliProcess.Result missing = CliProcess.Run("score", "--model", model, "--text", Path.Combine(_folder.Path, "nope.txt"));
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("nope.txt", Assert.Single(missing.ErrorLines));
    }

    [Fact]
    public void Export_writes_a_compact_file_that_evaluates_the_same()
    {
        string output = Path.Combine(_folder.Path, "dkp.safetensors"), compact = Path.Combine(_folder.Path, "dkp-compact.safetensors");
        Assert.Equal(0, CliProcess.Run(Tiny(output, "--method", "dkp", "--factor", "4")).ExitCode);
        CliProcess.Result export = CliProcess.Run("export", "--model", output, "--out", compact);
        Assert.True(export.ExitCode == 0, export.StandardError);
        Assert.True(new FileInfo(compact).Length < new FileInfo(output).Length, "the compact file drops the dense S, its mask and the training state");
        Assert.Equal("csr", SafeTensorsFile.Load(compact).Metadata[ModelCheckpoint.StorageKey]);
        Assert.Equal(TestPerplexity(output), TestPerplexity(compact));

        CliProcess.Result again = CliProcess.Run("export", "--model", output, "--out", compact);
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("exists", Assert.Single(again.ErrorLines));
    }

    [Fact]
    public void Blocks_with_loose_entries_train_and_export_blocks_and_loose_entries_to_the_same_perplexity()
    {
        string output = Path.Combine(_folder.Path, "dkp-loose.safetensors"), compact = Path.Combine(_folder.Path, "loose-compact.safetensors");
        CliProcess.Result compress = CliProcess.Run(Tiny(output, "--method", "dkp", "--factor", "4", "--block", "8x1+25%"));
        Assert.True(compress.ExitCode == 0, compress.StandardError);
        using (JsonDocument forms = JsonDocument.Parse(SafeTensorsFile.Load(output).Metadata[ModelCheckpoint.FormsKey]))
            Assert.All(forms.RootElement.EnumerateObject(), form => Assert.Equal("8x1+25%", form.Value.GetProperty("block").GetString()));
        Assert.Equal(0, CliProcess.Run("export", "--model", output, "--out", compact).ExitCode);
        string[] names = [.. SafeTensorsFile.Load(compact).Tensors.Select(t => t.Name)];
        Assert.Contains(names, n => n.EndsWith(".bsr_columns", StringComparison.Ordinal));
        Assert.Contains(names, n => n.EndsWith(".csr_columns", StringComparison.Ordinal));
        Assert.Equal(TestPerplexity(output), TestPerplexity(compact));
    }

    [Fact]
    public void Block_doping_trains_exports_in_block_csr_and_int8_and_bench_infer_times_methods_of_a_preset()
    {
        string output = TrainDopedInBlocks("dkp-blocks.safetensors", "8x1");

        string compact = Path.Combine(_folder.Path, "blocks-compact.safetensors"), quantized = Path.Combine(_folder.Path, "blocks-int8.safetensors");
        Assert.Equal(0, CliProcess.Run("export", "--model", output, "--out", compact).ExitCode);
        Assert.Contains(SafeTensorsFile.Load(compact).Tensors, t => t.Name.EndsWith(".bsr_columns", StringComparison.Ordinal));
        CliProcess.Result export = CliProcess.Run("export", "--model", output, "--out", quantized, "--precision", "int8");
        Assert.True(export.ExitCode == 0, export.StandardError);
        Assert.True(new FileInfo(quantized).Length < new FileInfo(compact).Length);
        double full = TestPerplexity(output);
        Assert.Equal(full, TestPerplexity(compact));
        Assert.Equal(full, TestPerplexity(quantized), full * 0.02);

        CliProcess.Result bench = CliProcess.Run("bench", "infer", "--preset", "small", "--method", "dkp", "prune", "--factor", "25",
            "--block", "16x1", "--data", Data, "--tokens", "20", "--repeats", "1", "--score-tokens", "0", "--json");
        Assert.True(bench.ExitCode == 0, bench.StandardError);
        string[] names = [.. bench.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("model").GetString()!)];
        Assert.Equal(["small dense", "small dkp 25x blocks 16x1", "small prune 25x blocks 16x1"], names);

        CliProcess.Result train = CliProcess.Run("bench", "train", "--preset", "small", "--method", "dkp", "kp", "--factor", "25", "--data", Data,
            "--windows", "1", "--repeats", "1", "--json", "--threads", "1");
        Assert.True(train.ExitCode == 0, train.StandardError);
        JsonElement[] forms = [.. train.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement)];
        Assert.Equal(["dense/dense", "dkp 25x/start", "dkp 25x/annealed", "kp 25x/start"],
            forms.Select(f => $"{f.GetProperty("form").GetString()}/{f.GetProperty("phase").GetString()}"));
        Assert.Equal(0, forms[1].GetProperty("sparsity").GetDouble());
        Assert.True(forms[2].GetProperty("sparsity").GetDouble() > 0.5, forms[2].GetRawText());
        Assert.Equal(JsonValueKind.Null, forms[3].GetProperty("sparsity").ValueKind);
        Assert.InRange(forms[0].GetProperty("share_of_peak").GetDouble(), 1e-6, 1);
        Assert.True(forms[0].GetProperty("fma_peak_gflops").GetDouble() > 1);
        Assert.True(forms[1].GetProperty("vs_dense").GetDouble() > 0);
    }

    [Fact]
    public void An_n_of_m_doping_pattern_trains_keeps_one_block_per_group_and_exports()
    {
        string output = Path.Combine(_folder.Path, "dkp-nm.safetensors");
        CliProcess.Result refused = CliProcess.Run(Tiny(output, "--method", "dkp", "--factor", "4", "--block", "4x1/4"));
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("keeps none", Assert.Single(refused.ErrorLines));
        Assert.False(File.Exists(output));

        TrainDopedInBlocks("dkp-nm.safetensors", "4x1/16");
        // Each 32 × 8 S: 8 block rows of 4, each a single (short) group of 8 column blocks that keeps one.
        var model = ModelCheckpoint.Load(output).Model;
        foreach (var pruned in model.Layers.SelectMany(l => l.WeightMatrices).SelectMany(w => WeightForms.PrunedParts(w.Matrix)))
        {
            Assert.Equal(32 * 8, pruned.Rows * pruned.Columns);
            for (int blockRow = 0; blockRow < 8; blockRow++)
                Assert.Equal(1, Enumerable.Range(0, 8).Count(j => pruned.Mask[blockRow * 4 * 8 + j] == 1));
            Assert.Equal(8 * 4, pruned.ParameterCount);
        }

        string compact = Path.Combine(_folder.Path, "nm-compact.safetensors");
        Assert.Equal(0, CliProcess.Run("export", "--model", output, "--out", compact).ExitCode);
        Assert.Equal(TestPerplexity(output), TestPerplexity(compact));
    }

    [Fact]
    public void Doping_balanced_in_tiles_trains_keeps_slices_balanced_and_exports_to_the_same_perplexity()
    {
        string output = TrainDopedInBlocks("dkp-tiles.safetensors", "1x1@8x4");
        var model = ModelCheckpoint.Load(output).Model;
        foreach (var pruned in model.Layers.SelectMany(l => l.WeightMatrices).SelectMany(w => WeightForms.PrunedParts(w.Matrix)))
        {
            Assert.Equal(BlockShape.Parse("1x1@8x4"), pruned.Block);
            // Every row of a slice holds the same count in every window of 4 columns, so the rows sorted by their
            // counts fall into runs of 8 alike rows.
            int windows = (pruned.Columns + 3) / 4;
            string[] counts = [.. Enumerable.Range(0, pruned.Rows).Select(i => string.Join(",", Enumerable.Range(0, windows)
                .Select(w => Enumerable.Range(4 * w, Math.Min(4, pruned.Columns - 4 * w)).Count(j => pruned.Mask[i * pruned.Columns + j] == 1))))];
            Assert.All(counts.GroupBy(c => c), g => Assert.Equal(0, g.Count() % 8));
            Assert.True(pruned.Sparsity > 0.5);
        }

        string compact = Path.Combine(_folder.Path, "tiles-compact.safetensors");
        Assert.Equal(0, CliProcess.Run("export", "--model", output, "--out", compact).ExitCode);
        Assert.Equal(TestPerplexity(output), TestPerplexity(compact));
    }

    [Fact]
    public void Eval_of_a_missing_model_names_it()
    {
        CliProcess.Result run = CliProcess.Run("eval", "--model", Path.Combine(_folder.Path, "absent.safetensors"), "--data", Data);
        Assert.Equal(1, run.ExitCode);
        string line = Assert.Single(run.ErrorLines);
        Assert.StartsWith("dopant: error: ", line);
        Assert.Contains("absent.safetensors", line);
    }
}
