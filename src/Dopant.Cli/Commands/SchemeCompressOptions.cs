using System.CommandLine;
using System.Text.Json;
using Dopant.Compression;
using Dopant.Training;

namespace Dopant.Cli.Commands;

/// <summary>The options of <c>dopant compress --scheme</c> (learning-compression by a scheme file) and the run they start.</summary>
internal sealed class SchemeCompressOptions
{
    public Option<string?> Scheme { get; } = new("--scheme") { Description = "Compress by a scheme file (JSON rules of selectors and operators) with the L-C optimizer instead of --method." };
    public Option<double?> Level { get; } = new("--level") { Description = "The value of \"$level\" in the scheme (dopant search infers it)." };
    public Option<int?> Iterations { get; } = new("--lc-iterations") { Description = "L-C iterations after the direct compression (default 10)." };
    // Calibrated on brown-ptb's small model (docs/RESULTS.md): the loss is summed over the window's time steps, so
    // Condensa's μ0 = 1e-3 at the preset's lr 1 let w drift from Δ(θ); lr·μ·windows near 1 pulls it in.
    private const double DefaultMu0 = 0.2, DefaultLearningRate = 0.05;

    public Option<double?> Mu0 { get; } = new("--mu0") { Description = $"L-C penalty at the first L step (default {DefaultMu0})." };
    public Option<double?> MuGrowth { get; } = new("--mu-growth") { Description = "Factor the L-C penalty grows by every iteration (default 1.1)." };
    public Option<int?> LStepWindows { get; } = new("--l-step-windows") { Description = "Training windows of every L step (default 200)." };
    public Option<int?> FirstLStepWindows { get; } = new("--first-l-step-windows") { Description = "Training windows of the first L step (default 2x --l-step-windows)." };
    public Option<int?> FineTuneEpochs { get; } = new("--fine-tune-epochs") { Description = "Epochs of masked fine-tuning after L-C (default 1; 0 for none)." };

    public IEnumerable<Option> All => [Scheme, Level, Iterations, Mu0, MuGrowth, LStepWindows, FirstLStepWindows, FineTuneEpochs];

    /// <summary>Whether the run writing <paramref name="output"/> is a scheme run in progress.</summary>
    public static bool IsSchemeRun(string output) => File.Exists(SchemeCompressionRun.StatePath(output))
        || (File.Exists(output) && (LabelerCheckpoint.Holds(output) ? LabelerCheckpoint.Load(output).Options?.Scheme : ModelCheckpoint.Load(output).Options?.Scheme) is not null);

    /// <summary>
    /// The run's settings; <paramref name="level"/>, when given, replaces --level (a search's trial level). The L steps and
    /// the fine-tuning train at --lr if given, else at <see cref="DefaultLearningRate"/> (not the preset's rate, which is for
    /// training from scratch).
    /// </summary>
    public SchemeRunSettings Settings(ParseResult parse, TrainingOptionsBinder binder, double? level = null)
    {
        TrainingOptions training = binder.Bind(parse);
        if (!binder.GivesLearningRate(parse)) training = training with { LearningRate = DefaultLearningRate };
        return LearningCompressionSettings(parse, level, training);
    }

    /// <summary>
    /// The settings of a tagger's or classifier's run: the dense model's training options with the command line's
    /// overrides; the L steps (in batches) and the fine-tuning run SGD at --lr if given, else at <see cref="DefaultLearningRate"/>.
    /// </summary>
    public SchemeRunSettings LabelerSettings(ParseResult parse, TrainingOptionsBinder binder, string denseModel)
    {
        LabelerCheckpoint dense = LabelerCheckpoint.Load(denseModel);
        LabelerOptions stored = (dense.Options ?? LabelerOptions.FromPreset(dense.Model.Config.Head == Models.LabelHead.TokenLabels ? "tagger" : "classifier"))
            .WithArchitectureOf(dense.Model.Config);
        LabelerOptions labeler = binder.BindLabeler(parse, stored) with { Optimizer = "sgd" };
        if (!binder.GivesLearningRate(parse)) labeler = labeler with { LearningRate = DefaultLearningRate };
        return LearningCompressionSettings(parse, null, TrainingOptions.FromPreset("small")) with { Labeler = labeler };
    }

    private SchemeRunSettings LearningCompressionSettings(ParseResult parse, double? level, TrainingOptions training)
    {
        string path = parse.GetValue(Scheme)!;
        SchemeFile file = SchemeFile.Load(path);
        level ??= parse.GetValue(Level);
        _ = file.Build(level);  // a missing or unwanted level fails here, before anything is loaded
        int windows = parse.GetValue(LStepWindows) ?? 200;
        return new SchemeRunSettings(file.Json, level,
            new LearningCompressionOptions
            {
                Iterations = parse.GetValue(Iterations) ?? 10,
                Mu0 = parse.GetValue(Mu0) ?? DefaultMu0,
                MuGrowth = parse.GetValue(MuGrowth) ?? 1.1,
            },
            windows, parse.GetValue(FirstLStepWindows) ?? 2 * windows, parse.GetValue(FineTuneEpochs) ?? 1, training);
    }

    /// <summary>Runs or resumes the scheme compression and prints its result.</summary>
    public static void Execute(string denseModel, string folder, string output, SchemeRunSettings? settings, bool resume, bool json, CancellationToken cancellationToken)
    {
        var iterations = new Reporter<LearningCompressionIteration>(i => Console.Error.WriteLine(
            $"L-C iteration {i.Iteration}: μ {i.Mu:G3}, valid ppl of the compressed weights {Math.Exp(i.ValidationLoss):F2}, ‖w − Δ(θ)‖ {i.Distance:G4}"));
        SchemeRunResult r = SchemeCompressionRun.Run(denseModel, folder, output, settings, resume, new ConsoleProgress(), iterations, cancellationToken);
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                model = output,
                valid_ppl = r.ValidPerplexity,
                test_ppl = r.TestPerplexity,
                dense_bytes = r.DenseBytes,
                compressed_bytes = r.CompressedBytes,
                byte_factor = r.ByteFactor,
                lc_best_iteration = r.BestIteration,
                lc_history = r.History,
                matrices = MatrixLines(r.Storage),
            }, ModelCheckpoint.Json));
            return;
        }
        PrintStorage(r.Storage);
        Console.WriteLine($"whole model: {r.DenseBytes:N0} -> {r.CompressedBytes:N0} bytes ({r.ByteFactor:F1}x); L-C kept iteration {r.BestIteration}; " +
                          $"valid perplexity {r.ValidPerplexity:F2}, test perplexity {r.TestPerplexity:F2}; model saved to {output}");
    }

    /// <summary>Runs or resumes a tagger's or classifier's scheme compression and prints its result.</summary>
    public static void ExecuteLabeler(string denseModel, string folder, string output, SchemeRunSettings? settings, bool resume, bool json, CancellationToken cancellationToken)
    {
        var iterations = new Reporter<LearningCompressionIteration>(i => Console.Error.WriteLine(
            $"L-C iteration {i.Iteration}: μ {i.Mu:G3}, valid loss of the compressed weights {i.ValidationLoss:F4}, ‖w − Δ(θ)‖ {i.Distance:G4}"));
        LabelerSchemeRunResult r = LabelerSchemeCompressionRun.Run(denseModel, folder, output, settings, resume, new ConsoleProgress(), iterations, cancellationToken);
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                model = output,
                valid_accuracy = r.Valid.Accuracy,
                test_accuracy = r.Test.Accuracy,
                valid_macro_f1 = r.Valid.MacroF1,
                test_macro_f1 = r.Test.MacroF1,
                dense_bytes = r.DenseBytes,
                compressed_bytes = r.CompressedBytes,
                byte_factor = r.ByteFactor,
                lc_best_iteration = r.BestIteration,
                lc_history = r.History,
                matrices = MatrixLines(r.Storage),
            }, ModelCheckpoint.Json));
            return;
        }
        PrintStorage(r.Storage);
        Console.WriteLine($"whole model: {r.DenseBytes:N0} -> {r.CompressedBytes:N0} bytes ({r.ByteFactor:F1}x); L-C kept iteration {r.BestIteration}; " +
                          $"valid accuracy {r.Valid.Accuracy:P2}, test accuracy {r.Test.Accuracy:P2}; model saved to {output}");
    }

    // Every matrix's storage as the --json output lists it.
    private static IEnumerable<object> MatrixLines(IReadOnlyList<(string Name, StorageEstimate Dense, StorageEstimate Compressed)> storage) =>
        storage.Select(s => new { name = s.Name, dense_bytes = s.Dense.Bytes, bytes = s.Compressed.Bytes, values = s.Compressed.Values });

    private static void PrintStorage(IReadOnlyList<(string Name, StorageEstimate Dense, StorageEstimate Compressed)> storage)
    {
        Console.WriteLine($"{"matrix",-24} {"dense bytes",12} {"bytes",12} {"factor",7}");
        foreach ((string name, StorageEstimate dense, StorageEstimate compressed) in storage)
            Console.WriteLine($"{name,-24} {dense.Bytes,12:N0} {compressed.Bytes,12:N0} {(double)dense.Bytes / compressed.Bytes,6:F1}x");
    }

    private sealed class Reporter<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
