using System.Diagnostics;
using System.Globalization;
using Dopant.Compression;
using Dopant.Matrices;
using Dopant.Models;
using Dopant.Numerics;
using Dopant.Training;

namespace Dopant.Bench;

/// <summary>
/// `training-passes [--preset medium] [--factor 25] [--doping-share 0.25] [--methods dense,dkp] [--reps 20] [--threads 1]`: milliseconds of each training pass (forward,
/// backward to the input, gradient) of one recurrent matrix (layer 0's W_hh) in every compressed form against dense,
/// on --threads threads, at the batch of one time step (the preset's batch) and of a whole window (bptt × batch): where a
/// compressed form's training time goes.
/// </summary>
internal static class TrainingPassTimes
{
    public static int Run(string[] args)
    {
        string preset = Value(args, "--preset") ?? "medium";
        double factor = double.Parse(Value(args, "--factor") ?? "25");
        double share = double.Parse(Value(args, "--doping-share") ?? LstmCompression.DefaultDopingShare.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
        int reps = int.Parse(Value(args, "--reps") ?? "20");
        WorkerPool.SharedThreadCount = int.Parse(Value(args, "--threads") ?? "1");
        TrainingOptions options = TrainingOptions.FromPreset(preset);
        string[] methods = Value(args, "--methods")?.Split(',') ?? ["dense", "kp", "dkp", "lmf", "dlmf", "hmd", "dhmd", "prune"];
        Console.WriteLine($"{preset}, layer 0 W_hh, {factor}x (doping share {share}), {WorkerPool.SharedThreadCount} thread(s); ms per pass (median of {reps}): forward / backward input / gradient; a run of bptt steps forward / backward (packing included); ToDense");
        foreach (int count in new[] { options.BatchSize, options.BatchSize * options.Bptt })
            foreach (string method in methods)
            {
                var model = LanguageModelTrainer.CreateModel(options, 10_000);
                if (method != "dense") new LstmCompression(CompressionMethods.Parse(method), factor, share).ApplyFinal(model);
                IWeightMatrix<float> matrix = model.WeightMatrices.First(m => m.Name.EndsWith("weight_hh_l0", StringComparison.Ordinal)).Matrix;
                var random = new Random(1);
                float[] x = [.. Enumerable.Range(0, count * matrix.Columns).Select(_ => (float)random.NextDouble() - 0.5f)];
                float[] dy = [.. Enumerable.Range(0, count * matrix.Rows).Select(_ => (float)random.NextDouble() - 0.5f)];
                float[] y = new float[dy.Length], dx = new float[x.Length];
                double forward = Median(reps, () => matrix.Forward(x, y, count, false));
                double backward = Median(reps, () => matrix.BackwardInput(dy, dx, count, false));
                double gradient = Median(reps, () => matrix.AccumulateGradients(x, dy, count));
                double dense = Median(reps, () => matrix.ToDense());
                // A window's recurrent passes: bptt steps forward in one run, then bptt steps backward in another, packing included.
                double steppedForward = Median(reps, () =>
                {
                    matrix.BeginSteps();
                    for (int t = 0; t < options.Bptt; t++) matrix.Forward(x, y, count, false);
                    matrix.EndSteps();
                });
                double steppedBackward = Median(reps, () =>
                {
                    matrix.BeginSteps();
                    for (int t = 0; t < options.Bptt; t++) matrix.BackwardInput(dy, dx, count, false);
                    matrix.EndSteps();
                });
                if (matrix is DopedMatrix<float> { Structure: KroneckerMatrix<float> kronecker } withKronecker)
                {
                    float[] formed = new float[matrix.Rows * matrix.Columns];
                    Console.WriteLine($"count {count,5}   W formed: Kronecker {Median(reps, () => kronecker.Materialize(formed)),8:F3}, S added {Median(reps, () => withKronecker.Sparse.AddMaskedTo(formed)),8:F3}");
                }
                if (matrix is DopedMatrix<float> doped)
                    foreach ((string part, IWeightMatrix<float> m) in new (string, IWeightMatrix<float>)[] { ("  M", doped.Structure), ("  S", doped.Sparse) })
                        Console.WriteLine($"count {count,5} {part,-6} {Median(reps, () => m.Forward(x, y, count, false)),8:F3} " +
                            $"{Median(reps, () => m.BackwardInput(dy, dx, count, false)),8:F3} {Median(reps, () => m.AccumulateGradients(x, dy, count)),8:F3}");
                Console.WriteLine($"count {count,5} {method,-6} {forward,8:F3} {backward,8:F3} {gradient,8:F3}; runs of {options.Bptt} steps {steppedForward,8:F3} {steppedBackward,8:F3}; W formed {dense,8:F3}  ({Describe(matrix)})");
            }
        return 0;
    }

    private static string Describe(IWeightMatrix<float> matrix) => matrix switch
    {
        KroneckerMatrix<float> k => $"Kronecker {k.Shape.M1}x{k.Shape.N1} ⊗ {k.Shape.M2}x{k.Shape.N2}, rank {k.Rank}",
        DopedMatrix<float> d => $"doped: {Describe(d.Structure)} + S",
        _ => matrix.GetType().Name.Split('`')[0],
    };

    private static string? Value(string[] args, string name) => Array.IndexOf(args, name) is int i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;

    private static double Median(int reps, Action pass)
    {
        pass();
        var times = new double[reps];
        for (int r = 0; r < reps; r++)
        {
            long start = Stopwatch.GetTimestamp();
            pass();
            times[r] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        Array.Sort(times);
        return times[reps / 2];
    }
}
