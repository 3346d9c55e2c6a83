using Dopant.Matrices;
using Dopant.Models;
using Dopant.Training;

namespace Dopant.Cli.Runs;

/// <summary>
/// Records one model's training into a run folder: a curve point (training loss so far in the epoch, sparsity of the
/// pruned parts) every 2% of an epoch into <c>metrics.jsonl</c>, and when training ends the exported deployment file
/// and one result line in <c>results.jsonl</c> (the caller rebuilds the report).
/// </summary>
internal sealed class TrainingRecorder(RunFolder run, string name, string method, double factor)
{
    private const int PointsPerEpoch = 50;

    /// <summary>The run folder.</summary>
    public RunFolder Run { get; } = run;

    /// <summary>The name of the model in the run (its result line, curve and compact file carry it).</summary>
    public string Name { get; } = name;

    /// <summary>A progress sink that shows <paramref name="inner"/> and records the curve points of <paramref name="model"/>'s training.</summary>
    public IProgress<TrainingProgress> Progress(ICompressibleModel<float> model, IProgress<TrainingProgress> inner)
    {
        int lastStep = -1;
        return new CallbackProgress(p =>
        {
            inner.Report(p);
            int step = (int)((p.Epoch - 1 + p.Fraction) * PointsPerEpoch);
            if (p.Phase != "train" || step == lastStep || double.IsNaN(p.Loss)) return;
            lastStep = step;
            RunFolder.Append(Run.Metrics, new CurvePoint(Name, step / (double)PointsPerEpoch, p.Loss, Sparsity(model)));
        });
    }

    /// <summary>
    /// After <paramref name="trainer"/> finished into <paramref name="checkpoint"/>: writes the compact file, appends
    /// the result line (replacing none: a run folder holds each model once) and returns it.
    /// </summary>
    public ModelResult Complete(LanguageModelTrainer trainer, string checkpoint, TrainingResult result)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Run.CompactModel(Name))!);
        ModelCheckpoint.Save(Run.CompactModel(Name), trainer.Model, ModelCheckpoint.Load(checkpoint).Vocabulary, compact: true);
        CompressionReport accounting = trainer.Model.CompressionReport();
        var line = new ModelResult(Name, method, factor, accounting.LstmParameterFactor, accounting.LstmByteFactor,
            accounting.ModelBytes, new FileInfo(Run.CompactModel(Name)).Length, result.ValidPerplexity, result.TestPerplexity, result.History,
            result.Divergences);
        RunFolder.Append(Run.Results, line);
        return line;
    }

    /// <summary>
    /// After the tagger or classifier of <paramref name="trainer"/> finished into <paramref name="checkpoint"/> with
    /// these scores: writes the compact file, appends the result line and returns it.
    /// </summary>
    public ModelResult Complete(LabelerTrainer trainer, string checkpoint, LabelingScore valid, LabelingScore test)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Run.CompactModel(Name))!);
        LabelerCheckpoint saved = LabelerCheckpoint.Load(checkpoint);
        LabelerCheckpoint.Save(Run.CompactModel(Name), trainer.Model, saved.Vocabulary, saved.Labels, compact: true);
        CompressionReport accounting = trainer.Model.CompressionReport();
        var line = new ModelResult(Name, method, factor, accounting.LstmParameterFactor, accounting.LstmByteFactor,
            accounting.ModelBytes, new FileInfo(Run.CompactModel(Name)).Length, null, null, [], trainer.Divergences,
            new LabelingResult(valid.Accuracy, test.Accuracy, valid.MacroF1, test.MacroF1, trainer.History));
        RunFolder.Append(Run.Results, line);
        return line;
    }

    /// <summary>The pruned fraction over the model's pruned parts (S of doped matrices, pruned matrices), or null if it has none.</summary>
    public static double? Sparsity(ICompressibleModel<float> model)
    {
        long pruned = 0, total = 0;
        foreach ((_, IWeightMatrix<float> matrix) in model.WeightMatrices)
        {
            PrunedMatrix<float>? part = matrix switch { PrunedMatrix<float> p => p, DopedMatrix<float> d => d.Sparse, _ => null };
            if (part is null) continue;
            pruned += (long)Math.Round(part.Sparsity * part.Weight.Length);
            total += part.Weight.Length;
        }
        return total == 0 ? null : (double)pruned / total;
    }

    private sealed class CallbackProgress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
