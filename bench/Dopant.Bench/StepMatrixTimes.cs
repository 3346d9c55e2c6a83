using System.Diagnostics;
using System.Runtime.CompilerServices;
using Dopant.Inference;
using Dopant.Matrices;
using Dopant.Numerics;

namespace Dopant.Bench;

/// <summary>
/// `step-matrices [--reps 2000]`: µs per single-vector product of each streaming kernel (one thread) on the LSTM
/// shapes of the small (800×200) and medium (2600×650) presets, with the forms the 25x compression gives them.
/// </summary>
internal static class StepMatrixTimes
{
    public static int Run(string[] args)
    {
        int reps = args.Length == 2 && args[0] == "--reps" ? int.Parse(args[1]) : 2000;
        WorkerPool.SharedThreadCount = 1;
        foreach ((int rows, int columns) in new[] { (800, 200), (2600, 650) })
            foreach (string method in new[] { "dense", "kp", "dkp", "lmf", "hmd", "prune" })
            {
                WeightFormSpec spec = method == "dense" ? WeightFormSpec.Dense : new Dopant.Compression.LstmCompression(method, 25).SpecFor(rows, columns);
                IWeightMatrix<float> form = WeightForms.Create<float>(spec, "w", rows, columns);
                var random = new Random(1);
                foreach (Parameter<float> p in form.Parameters)
                    for (int k = 0; k < p.Length; k++) p.Value[k] = (float)random.NextDouble() - 0.5f;
                double sparsity = new Dopant.Compression.LstmCompression(method == "dense" ? "kp" : method, 25).FinalSparsity;
                foreach (PrunedMatrix<float> pruned in WeightForms.PrunedParts(form)) pruned.PruneToSparsity(sparsity);
                IStepMatrix step = StepMatrices.From(form);
                Console.WriteLine($"{rows}x{columns} {method,-6} {spec.ToJson(),-80} {step.WeightBytes,12:N0} B {MedianMicroseconds(step, reps),9:F2} µs");
            }
        return 0;
    }

    // Optimized at once: a timing loop left to tiered compilation ran the kernels several times slower here.
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    internal static double MedianMicroseconds(IStepMatrix step, int reps)
    {
        var x = new float[step.Columns];
        var y = new float[step.Rows];
        for (int i = 0; i < reps / 4 + 10; i++) step.MultiplyAdd(x, y);
        var times = new double[9];
        for (int t = 0; t < times.Length; t++)
        {
            long start = Stopwatch.GetTimestamp();
            for (int i = 0; i < reps; i++) step.MultiplyAdd(x, y);
            times[t] = Stopwatch.GetElapsedTime(start).TotalMicroseconds / reps;
        }
        Array.Sort(times);
        return times[times.Length / 2];
    }
}
