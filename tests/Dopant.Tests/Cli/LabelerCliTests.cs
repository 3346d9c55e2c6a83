using System.Text.Json;
using Dopant.Tests.Data;
using Dopant.Tests.Training;

namespace Dopant.Tests.Cli;

/// <summary><c>train --task tag|classify</c>, <c>eval</c>, <c>tag</c>, <c>classify</c> and <c>--resume</c> as a user runs them, and their refusals.</summary>
public sealed class LabelerCliTests : IDisposable
{
    private readonly TemporaryFolder _folder = new();
    private readonly string _tags, _classes;

    public LabelerCliTests() => (_tags, _classes) = LabelerTrainerTests.WriteToyCorpora(_folder);

    public void Dispose() => _folder.Dispose();

    private static readonly string[] Small = ["--hidden", "12", "--emsize", "8", "--lr", "0.02", "--batch-size", "16", "--threads", "1"];

    [Fact]
    public void A_tagger_trains_resumes_evaluates_and_tags_text()
    {
        string model = Path.Combine(_folder.Path, "tagger.safetensors");
        CliProcess.Result first = CliProcess.Run(["train", "--task", "tag", "--data", _tags, "--out", model, "--epochs", "2", "--json", .. Small]);
        Assert.True(first.ExitCode == 0, first.StandardError);
        Assert.Contains("2x12 bidirectional LSTM", first.StandardError);

        // Two more epochs: the stored options say 2, so a resumed run has nothing left; a new run with --force trains 4.
        CliProcess.Result resumed = CliProcess.Run("train", "--resume", "--out", model, "--data", _tags, "--json");
        Assert.True(resumed.ExitCode == 0, resumed.StandardError);
        Assert.Equal(2, JsonDocument.Parse(resumed.StandardOutput).RootElement.GetProperty("epochs").GetArrayLength());
        CliProcess.Result longer = CliProcess.Run(["train", "--task", "tag", "--data", _tags, "--out", model, "--epochs", "4", "--force", "--json", .. Small]);
        Assert.True(longer.ExitCode == 0, longer.StandardError);
        double trained = JsonDocument.Parse(longer.StandardOutput).RootElement.GetProperty("test").GetProperty("accuracy").GetDouble();
        Assert.True(trained > 0.95, $"test accuracy {trained}");

        CliProcess.Result eval = CliProcess.Run("eval", "--model", model, "--data", _tags, "--json");
        Assert.True(eval.ExitCode == 0, eval.StandardError);
        Assert.Equal(trained, JsonDocument.Parse(eval.StandardOutput).RootElement.GetProperty("test").GetProperty("accuracy").GetDouble());

        string text = _folder.Write("text.txt", "the dog sat on my mat\na cat ran\n");
        CliProcess.Result tagged = CliProcess.Run("tag", "--model", model, "--text", text);
        Assert.True(tagged.ExitCode == 0, tagged.StandardError);
        Assert.Equal("the\tDT\ndog\tNN\nsat\tVB\non\tIN\nmy\tDT\nmat\tNN\n\na\tDT\ncat\tNN\nran\tVB\n\n", tagged.StandardOutput);

        CliProcess.Result wrong = CliProcess.Run("classify", "--model", model, "--text", text);
        Assert.Equal(1, wrong.ExitCode);
        Assert.Contains("is a tagger; use dopant tag", wrong.StandardError);
        string empty = _folder.Write("empty.txt", "the dog sat\n\n");
        CliProcess.Result refused = CliProcess.Run("tag", "--model", model, "--text", empty);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("empty.txt' line 2: the sentence is empty", refused.StandardError);
    }

    [Fact]
    public void A_tagger_compresses_by_a_scheme_with_learning_compression_and_resumes_its_finished_run()
    {
        string dense = Path.Combine(_folder.Path, "dense-tagger.safetensors");
        CliProcess.Result train = CliProcess.Run(["train", "--task", "tag", "--data", _tags, "--out", dense, "--epochs", "4", "--json", .. Small]);
        Assert.True(train.ExitCode == 0, train.StandardError);
        double denseAccuracy = JsonDocument.Parse(train.StandardOutput).RootElement.GetProperty("test").GetProperty("accuracy").GetDouble();

        // Pruned recurrent matrices (both directions, int8), a low-rank embedding: Condensa's operators on a tagger.
        string scheme = _folder.Write("scheme.json", """
            { "rules": [
                { "select": { "kinds": ["lstm"] }, "operators": [ { "op": "prune", "factor": "$level" }, { "op": "quantize", "precision": "int8" } ] },
                { "select": { "kinds": ["embedding"] }, "operators": [ { "op": "lmf", "factor": 2 } ] } ] }
            """);
        string output = Path.Combine(_folder.Path, "tagger-lc.safetensors");
        string[] compress = ["compress", "--scheme", scheme, "--level", "4", "--model", dense, "--data", _tags, "--out", output,
            "--lc-iterations", "2", "--l-step-windows", "10", "--fine-tune-epochs", "1", "--threads", "1", "--json"];
        CliProcess.Result run = CliProcess.Run(compress);
        Assert.True(run.ExitCode == 0, run.StandardError);
        Assert.Contains("L-C iteration 2", run.StandardError);
        JsonElement result = JsonDocument.Parse(run.StandardOutput.Split('\n').Last(l => l.StartsWith('{'))).RootElement;
        Assert.Equal(3, result.GetProperty("lc_history").GetArrayLength());
        Assert.True(result.GetProperty("byte_factor").GetDouble() > 2, result.GetRawText());
        double accuracy = result.GetProperty("test_accuracy").GetDouble();
        Assert.True(accuracy > denseAccuracy - 0.05, $"compressed test accuracy {accuracy} against dense {denseAccuracy}");
        Assert.Contains(result.GetProperty("matrices").EnumerateArray(), m => m.GetProperty("name").GetString() == "rnn.weight_hh_l0_reverse");
        Assert.False(File.Exists(output + ".lc"), "the L-C state is removed once the model is written");

        CliProcess.Result inspect = CliProcess.Run("inspect", output, "--json");
        Assert.True(inspect.ExitCode == 0, inspect.StandardError);
        var forms = JsonDocument.Parse(inspect.StandardOutput).RootElement.GetProperty("matrices").EnumerateArray()
            .ToDictionary(m => m.GetProperty("name").GetString()!, m => m.GetProperty("form").GetString());
        Assert.Equal("low_rank", forms["encoder.weight"]);
        Assert.Equal("pruned", forms["rnn.weight_ih_l1_reverse"]);

        CliProcess.Result eval = CliProcess.Run("eval", "--model", output, "--data", _tags, "--json");
        Assert.True(eval.ExitCode == 0, eval.StandardError);
        Assert.Equal(accuracy, JsonDocument.Parse(eval.StandardOutput).RootElement.GetProperty("test").GetProperty("accuracy").GetDouble());
        CliProcess.Result resumed = CliProcess.Run("compress", "--resume", "--model", dense, "--data", _tags, "--out", output, "--json");
        Assert.True(resumed.ExitCode == 0, resumed.StandardError);
        Assert.Equal(accuracy, JsonDocument.Parse(resumed.StandardOutput.Split('\n').Last(l => l.StartsWith('{'))).RootElement.GetProperty("test_accuracy").GetDouble());
    }

    [Fact]
    public void A_tagger_compresses_with_distillation_from_its_dense_model_and_resumes()
    {
        string dense = Path.Combine(_folder.Path, "teacher.safetensors");
        CliProcess.Result train = CliProcess.Run(["train", "--task", "tag", "--data", _tags, "--out", dense, "--epochs", "4", "--json", .. Small]);
        Assert.True(train.ExitCode == 0, train.StandardError);
        double denseAccuracy = JsonDocument.Parse(train.StandardOutput).RootElement.GetProperty("test").GetProperty("accuracy").GetDouble();

        string output = Path.Combine(_folder.Path, "student.safetensors");
        CliProcess.Result compress = CliProcess.Run(["compress", "--method", "dlmf", "--factor", "3", "--model", dense, "--data", _tags, "--out", output,
            "--distill", "0.5", "--epochs", "2", "--prune-start", "0", "--prune-end", "1", "--json", .. Small]);
        Assert.True(compress.ExitCode == 0, compress.StandardError);
        double accuracy = JsonDocument.Parse(compress.StandardOutput).RootElement.GetProperty("test").GetProperty("accuracy").GetDouble();
        Assert.True(accuracy > denseAccuracy - 0.1, $"distilled dlmf test accuracy {accuracy} against dense {denseAccuracy}");
        using (JsonDocument options = JsonDocument.Parse(Dopant.IO.SafeTensorsFile.Load(output).Metadata[Dopant.Training.ModelCheckpoint.OptionsKey]))
        {
            Assert.Equal(0.5, options.RootElement.GetProperty("distillation").GetDouble());
            Assert.Equal(Path.GetFullPath(dense), options.RootElement.GetProperty("teacher").GetString());
        }
        // The finished run resumes (loading its teacher again) to the same score.
        CliProcess.Result resumed = CliProcess.Run("compress", "--resume", "--out", output, "--data", _tags, "--json");
        Assert.True(resumed.ExitCode == 0, resumed.StandardError);
        Assert.Equal(accuracy, JsonDocument.Parse(resumed.StandardOutput).RootElement.GetProperty("test").GetProperty("accuracy").GetDouble());

        // A teacher of another corpus is refused in one line.
        string classifier = Path.Combine(_folder.Path, "other.safetensors");
        Assert.Equal(0, CliProcess.Run(["train", "--task", "classify", "--data", _classes, "--out", classifier, "--epochs", "1", .. Small]).ExitCode);
        CliProcess.Result refused = CliProcess.Run(["compress", "--method", "dlmf", "--factor", "3", "--model", dense, "--data", _tags, "--out", Path.Combine(_folder.Path, "bad.safetensors"),
            "--distill", "0.5", "--teacher", classifier, "--epochs", "1", "--prune-start", "0", "--prune-end", "1", .. Small]);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("a teacher must label the same corpus", refused.StandardError);
        Assert.False(File.Exists(Path.Combine(_folder.Path, "bad.safetensors")));
    }

    [Fact]
    public void A_tagger_trains_and_compresses_into_run_folders_with_results_curves_and_reports()
    {
        string denseRun = Path.Combine(_folder.Path, "tagger-run");
        CliProcess.Result train = CliProcess.Run(["train", "--task", "tag", "--data", _tags, "--run", denseRun, "--epochs", "2", "--json", .. Small]);
        Assert.True(train.ExitCode == 0, train.StandardError);
        double accuracy = JsonDocument.Parse(train.StandardOutput).RootElement.GetProperty("test").GetProperty("accuracy").GetDouble();
        string dense = Path.Combine(denseRun, "models", "dense.safetensors");
        Assert.True(Dopant.Training.LabelerCheckpoint.Holds(dense));
        Assert.True(File.Exists(Path.Combine(denseRun, "models", "dense.compact.safetensors")));
        Assert.NotEmpty(File.ReadAllLines(Path.Combine(denseRun, "metrics.jsonl")));
        JsonElement result = JsonDocument.Parse(Assert.Single(File.ReadAllLines(Path.Combine(denseRun, "results.jsonl")))).RootElement;
        Assert.Equal(accuracy, result.GetProperty("labeling").GetProperty("test_accuracy").GetDouble());
        Assert.Equal(2, result.GetProperty("labeling").GetProperty("epochs").GetArrayLength());
        Assert.Equal(JsonValueKind.Null, result.GetProperty("test_ppl").ValueKind);
        string html = File.ReadAllText(Path.Combine(denseRun, "report.html"));
        Assert.Contains("<th>test accuracy</th>", html);
        Assert.Contains("Test accuracy against compression", html);

        // As for a language model, a finished run folder does not resume; a compression run gets a folder of its own.
        CliProcess.Result resumed = CliProcess.Run("train", "--run", denseRun, "--resume", "--data", _tags, "--json");
        Assert.Equal(1, resumed.ExitCode);
        Assert.Contains("has finished; its report is", resumed.StandardError);
        string compressRun = Path.Combine(_folder.Path, "dkp-run");
        CliProcess.Result compress = CliProcess.Run(["compress", "--method", "dkp", "--factor", "3", "--model", dense, "--data", _tags, "--run", compressRun,
            "--epochs", "2", "--prune-start", "0", "--prune-end", "1", "--json", .. Small]);
        Assert.True(compress.ExitCode == 0, compress.StandardError);
        JsonElement compressed = JsonDocument.Parse(Assert.Single(File.ReadAllLines(Path.Combine(compressRun, "results.jsonl")))).RootElement;
        Assert.Equal("dkp", compressed.GetProperty("method").GetString());
        Assert.True(compressed.GetProperty("lstm_parameter_factor").GetDouble() > 1.5, compressed.GetRawText());
        Assert.Contains(File.ReadAllLines(Path.Combine(compressRun, "metrics.jsonl")), l => JsonDocument.Parse(l).RootElement.GetProperty("sparsity").ValueKind == JsonValueKind.Number);
        Assert.True(File.Exists(Path.Combine(compressRun, "report.html")));
        CliProcess.Result report = CliProcess.Run("report", compressRun);
        Assert.True(report.ExitCode == 0, report.StandardError);
        Assert.Contains("test acc", report.StandardOutput);
    }

    [Fact]
    public void A_classifier_trains_and_classifies_lines()
    {
        string model = Path.Combine(_folder.Path, "classifier.safetensors");
        CliProcess.Result train = CliProcess.Run(["train", "--task", "classify", "--pooling", "mean", "--cell", "gru", "--data", _classes, "--out", model, "--epochs", "5", .. Small]);
        Assert.True(train.ExitCode == 0, train.StandardError);
        Assert.Contains("test: accuracy", train.StandardOutput);
        string text = _folder.Write("lines.txt", "the cat sat in the park\nmy bird sang\n");
        CliProcess.Result classified = CliProcess.Run("classify", "--model", model, "--text", text);
        Assert.True(classified.ExitCode == 0, classified.StandardError);
        Assert.Equal("place\nplain\n", classified.StandardOutput);
        CliProcess.Result quantized = CliProcess.Run("classify", "--model", model, "--text", text, "--precision", "int8");
        Assert.True(quantized.ExitCode == 0, quantized.StandardError);
        Assert.Equal("place\nplain\n", quantized.StandardOutput);
        CliProcess.Result inspect = CliProcess.Run("inspect", model);
        Assert.True(inspect.ExitCode == 0, inspect.StandardError);
        Assert.Contains("a classifier (mean pooling), 2x12 GRU, embedding 8", inspect.StandardOutput);
        Assert.Contains("2 labels (place plain)", inspect.StandardOutput);
    }

    [Fact]
    public void A_classifier_is_compressed_exported_and_still_classifies()
    {
        string dense = Path.Combine(_folder.Path, "dense.safetensors"), compressed = Path.Combine(_folder.Path, "dkp.safetensors");
        Assert.Equal(0, CliProcess.Run(["train", "--task", "classify", "--data", _classes, "--out", dense, "--epochs", "4", .. Small]).ExitCode);
        CliProcess.Result compress = CliProcess.Run(["compress", "--method", "dkp", "--factor", "3", "--model", dense, "--data", _classes, "--out", compressed,
            "--epochs", "4", "--prune-start", "0", "--prune-end", "2", "--json", "--threads", "1"]);
        Assert.True(compress.ExitCode == 0, compress.StandardError);
        Assert.Contains("dkp at 3x of the recurrent matrices", compress.StandardError);
        JsonElement result = JsonDocument.Parse(compress.StandardOutput).RootElement;
        Assert.True(result.GetProperty("test").GetProperty("accuracy").GetDouble() > 0.9, compress.StandardOutput);
        Assert.Equal("dkp", result.GetProperty("options").GetProperty("compression").GetProperty("method").GetString());
        Assert.InRange(result.GetProperty("lstm_parameter_factor").GetDouble(), 2, 4);
        Assert.True(result.GetProperty("compression").GetProperty("model_parameter_factor").GetDouble() > 1, compress.StandardOutput);

        CliProcess.Result inspect = CliProcess.Run("eval", "--model", compressed, "--data", _classes, "--json");
        Assert.True(inspect.ExitCode == 0, inspect.StandardError);
        string compact = Path.Combine(_folder.Path, "dkp.int8.safetensors");
        CliProcess.Result export = CliProcess.Run("export", "--model", compressed, "--out", compact, "--precision", "int8");
        Assert.True(export.ExitCode == 0, export.StandardError);
        string text = _folder.Write("lines.txt", "the cat sat in the park\nmy bird sang\n");
        CliProcess.Result classified = CliProcess.Run("classify", "--model", compact, "--text", text);
        Assert.True(classified.ExitCode == 0, classified.StandardError);
        Assert.Equal("place\nplain\n", classified.StandardOutput);

        CliProcess.Result again = CliProcess.Run(["compress", "--method", "dkp", "--factor", "3", "--model", compressed, "--data", _classes, "--out", Path.Combine(_folder.Path, "x.safetensors")]);
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("is already compressed", again.StandardError);
    }

    [Fact]
    public void A_classifier_fine_tunes_as_the_same_budget_control_and_is_timed_streaming_against_its_compressed_form()
    {
        string dense = Path.Combine(_folder.Path, "dense.safetensors"), control = Path.Combine(_folder.Path, "control.safetensors");
        string compressed = Path.Combine(_folder.Path, "dkp.safetensors");
        Assert.Equal(0, CliProcess.Run(["train", "--task", "classify", "--data", _classes, "--out", dense, "--epochs", "2", .. Small]).ExitCode);
        CliProcess.Result tuned = CliProcess.Run("train", "--model", dense, "--data", _classes, "--out", control, "--epochs", "3", "--dropout", "0.1", "--json", "--threads", "1");
        Assert.True(tuned.ExitCode == 0, tuned.StandardError);
        JsonElement options = JsonDocument.Parse(tuned.StandardOutput).RootElement.GetProperty("options");
        Assert.Equal(3, options.GetProperty("epochs").GetInt32());
        Assert.Equal(0.1, options.GetProperty("dropout").GetDouble());
        Assert.Equal(12, options.GetProperty("hidden_size").GetInt32());

        CliProcess.Result exists = CliProcess.Run("train", "--model", dense, "--data", _classes, "--out", control, "--threads", "1");
        Assert.Equal(1, exists.ExitCode);
        Assert.Contains("exists", exists.StandardError);
        CliProcess.Result reshaped = CliProcess.Run("train", "--model", dense, "--data", _classes, "--out", Path.Combine(_folder.Path, "x.safetensors"), "--pooling", "mean");
        Assert.Equal(1, reshaped.ExitCode);
        Assert.Contains("drop --bidirectional, --pooling", reshaped.StandardError);

        Assert.Equal(0, CliProcess.Run(["compress", "--method", "dkp", "--factor", "3", "--model", dense, "--data", _classes, "--out", compressed,
            "--epochs", "1", "--prune-start", "0", "--prune-end", "1", "--threads", "1"]).ExitCode);
        CliProcess.Result timed = CliProcess.Run("bench", "infer", "--model", compressed, "--against", dense, "--data", _classes, "--tokens", "50", "--repeats", "3", "--json", "--threads", "1");
        Assert.True(timed.ExitCode == 0, timed.StandardError);
        JsonElement[] lines = [.. timed.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => JsonDocument.Parse(line).RootElement)];
        Assert.Equal(2, lines.Length);
        Assert.Equal(dense, lines[0].GetProperty("against").GetString());
        Assert.True(lines[0].GetProperty("total_us_per_token").GetDouble() > 0);
        Assert.True(lines[0].GetProperty("weight_byte_factor").GetDouble() > 1, timed.StandardOutput);
        Assert.Equal(JsonValueKind.Null, lines[0].GetProperty("scoring_tokens_per_s").ValueKind);

        CliProcess.Result mixed = CliProcess.Run("bench", "infer", "--model", compressed, "--against", dense, "--data", _classes, "--onnx");
        Assert.Equal(1, mixed.ExitCode);
        Assert.Contains("a tagger or classifier has no ONNX step file", mixed.StandardError);
    }

    [Fact]
    public void A_pytorch_tagger_state_dict_with_other_names_imports_and_scores_as_pytorch_does()
    {
        // The BiLSTM tagger of the golden fixture as a user's nn.Module would name it: embedding, lstm, fc.
        JsonElement root = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "tagger_golden.json"))).RootElement;
        var tensors = new List<Dopant.IO.SafeTensor>();
        foreach (JsonProperty p in root.GetProperty("initial_params").EnumerateObject())
        {
            string name = p.Name.Replace("encoder.", "embedding.").Replace("rnn.", "lstm.").Replace("decoder.", "fc.");
            float[] values = [.. p.Value.GetProperty("values").EnumerateArray().Select(e => (float)e.GetDouble())];
            long[] shape = [.. p.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64())];
            tensors.Add(Dopant.IO.SafeTensor.Create<float>(name, values, shape));
        }
        string stateDict = Path.Combine(_folder.Path, "tagger_sd.safetensors");
        new Dopant.IO.SafeTensorsFile(tensors, new Dictionary<string, string> { ["format"] = "pt" }).Save(stateDict);
        int vocabularySize = root.GetProperty("config").GetProperty("vocab_size").GetInt32(), labelCount = root.GetProperty("config").GetProperty("num_labels").GetInt32();
        string vocab = _folder.Write("vocab.txt", string.Concat(Enumerable.Range(0, vocabularySize).Select(i => i == 0 ? "<unk>\n" : $"w{i}\n")));
        string labels = _folder.Write("labels.txt", string.Concat(Enumerable.Range(0, labelCount).Select(i => $"T{i}\n")));
        string names = _folder.Write("names.txt", "# their prefix, ours\nembedding. encoder.\nlstm. rnn.\nfc. decoder.\n");
        string imported = Path.Combine(_folder.Path, "tagger.safetensors");

        CliProcess.Result missing = CliProcess.Run("export", "--model", stateDict, "--vocab", vocab, "--labels", labels, "--head", "token_labels", "--out", imported);
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("has no tensor 'encoder.weight'", missing.StandardError);
        CliProcess.Result export = CliProcess.Run("export", "--model", stateDict, "--vocab", vocab, "--labels", labels, "--head", "token_labels", "--names", names, "--out", imported);
        Assert.True(export.ExitCode == 0, export.StandardError);

        var checkpoint = Dopant.Training.LabelerCheckpoint.Load(imported);
        Assert.True(checkpoint.Model.Config.Bidirectional);
        int[][] rows = [.. root.GetProperty("tokens").EnumerateArray().Select(r => r.EnumerateArray().Select(e => e.GetInt32()).ToArray())];
        int[] lengths = [.. root.GetProperty("lengths").EnumerateArray().Select(e => e.GetInt32())];
        int[] tags = [.. root.GetProperty("labels").EnumerateArray().SelectMany(r => r.EnumerateArray().Select(e => Math.Max(0, e.GetInt32())))];
        double loss = checkpoint.Model.Forward([.. rows.SelectMany(r => r)], lengths, tags, rows.Length, rows[0].Length);
        Assert.Equal(root.GetProperty("loss_sum").GetDouble(), loss, 4);
    }

    [Fact]
    public void A_compressing_tagger_killed_mid_run_resumes_and_ends_as_the_uninterrupted_run()
    {
        string dense = Path.Combine(_folder.Path, "dense.safetensors");
        Assert.Equal(0, CliProcess.Run(["train", "--task", "tag", "--cell", "gru", "--data", _tags, "--out", dense, "--epochs", "2", .. Small]).ExitCode);
        string[] Compress(string output) => ["compress", "--method", "dkp", "--factor", "3", "--model", dense, "--data", _tags, "--out", output,
            "--epochs", "8", "--prune-start", "0", "--prune-end", "5", "--cmr", "0.2", "--json", "--threads", "1"];
        string whole = Path.Combine(_folder.Path, "whole.safetensors");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        CliProcess.Result uninterrupted = CliProcess.Run(Compress(whole));
        double milliseconds = clock.Elapsed.TotalMilliseconds;
        Assert.True(uninterrupted.ExitCode == 0, uninterrupted.StandardError);
        string expected = JsonDocument.Parse(uninterrupted.StandardOutput).RootElement.GetProperty("test").GetRawText();

        var random = new Random(20261207);
        int killedInTraining = 0;
        // At least 3 trials; more, up to 8, while fewer than 2 kills have landed between checkpoints (start-up is a large part of so short a run).
        for (int trial = 0; trial < 3 || (killedInTraining < 2 && trial < 8); trial++)
        {
            string path = Path.Combine(_folder.Path, $"killed{trial}.safetensors");
            CliProcess.Result? finished = null;
            for (int attempt = 0; finished is null; attempt++)
            {
                string[] args = File.Exists(path) ? ["compress", "--resume", "--out", path, "--data", _tags, "--json", "--threads", "1"] : Compress(path);
                using CliProcess.Running running = CliProcess.Start(args);
                if (attempt < 2 && !running.WaitForExit(TimeSpan.FromMilliseconds(milliseconds * (0.2 + 0.7 * random.NextDouble()))))
                {
                    running.Kill();
                    if (File.Exists(path) && Dopant.Training.LabelerCheckpoint.Load(path).State!.EpochsCompleted < 8) killedInTraining++;
                    continue;
                }
                Assert.True(running.WaitForExit(TimeSpan.FromMinutes(2)), $"trial {trial} did not finish");
                finished = running.Result;
            }
            Assert.True(finished.ExitCode == 0, finished.StandardError);
            Assert.Equal(expected, JsonDocument.Parse(finished.StandardOutput).RootElement.GetProperty("test").GetRawText());
            Dopant.IO.SafeTensorsFile a = Dopant.IO.SafeTensorsFile.Load(whole), b = Dopant.IO.SafeTensorsFile.Load(path);
            foreach (Dopant.IO.SafeTensor tensor in a.Tensors)
                Assert.True(tensor.Data.Span.SequenceEqual(b.Tensors.Single(t => t.Name == tensor.Name).Data.Span), $"{tensor.Name} differs after resuming");
        }
        Assert.True(killedInTraining >= 2, $"only {killedInTraining} kills landed between checkpoints");
    }

    [Theory]
    [InlineData(new[] { "train", "--task", "tag", "--preset", "small", "--data", "TAGS", "--out", "OUT" }, "--preset names a language-model preset")]
    [InlineData(new[] { "train", "--task", "tag", "--bptt", "5", "--data", "TAGS", "--out", "OUT" }, "--bptt, --tied and --eval-batch-size apply to language models")]
    [InlineData(new[] { "train", "--task", "lm", "--pooling", "mean", "--data", "TAGS", "--out", "OUT" }, "--bidirectional, --pooling, --min-count and --max-length apply to --task tag")]
    [InlineData(new[] { "train", "--pooling", "mean", "--data", "TAGS", "--out", "OUT" }, "--pooling applies to --task classify")]
    [InlineData(new[] { "train", "--task", "tag", "--data", "CLASSES", "--out", "OUT" }, "train.txt' line 1: expected word<TAB>tag")]
    [InlineData(new[] { "train", "--task", "classify", "--max-length", "2", "--data", "CLASSES", "--out", "OUT" }, "is longer than the longest batch allows (2; see --max-length)")]
    public void Bad_input_fails_with_one_line_and_writes_nothing(string[] args, string expected)
    {
        string output = Path.Combine(_folder.Path, "out.safetensors");
        CliProcess.Result result = CliProcess.Run([.. args.Select(a => a switch { "TAGS" => _tags, "CLASSES" => _classes, "OUT" => output, _ => a })]);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains(expected, result.StandardError);
        Assert.Single(result.StandardError.Trim().Split('\n'));
        Assert.False(File.Exists(output));
    }
}
