using System.Diagnostics;
using System.Runtime.CompilerServices;
using Dopant.Inference;
using Dopant.Matrices;
using Dopant.Numerics;

namespace Dopant.Bench;

/// <summary>
/// `step-matrices [--reps 2000] [--decoder]`: µs per single-vector product of each streaming kernel (one thread) on the LSTM
/// shapes of the small (800×200) and medium (2600×650) presets, with the forms the 25x compression gives them; then
/// medium's decoder (10,000×650) doped at 25x, whole and by part, in fp32 and int8.
/// </summary>
internal static class StepMatrixTimes
{
    public static int Run(string[] args)
    {
        int reps = args.Length >= 2 && args[0] == "--reps" ? int.Parse(args[1]) : 2000;
        WorkerPool.SharedThreadCount = 1;
        if (args.Contains("--decoder"))
        {
            DopedDecoder(reps / 10);
            return 0;
        }
        foreach ((int rows, int columns) in new[] { (800, 200), (2600, 650) })
            // (method, S's share for doped forms, block shape); dense has no compression.
            foreach ((string method, double? share, string? block) in new (string, double?, string?)[]
                     { ("dense", null, null), ("kp", null, null), ("dkp", 0.25, null), ("lmf", null, null), ("hmd", null, null), ("prune", null, null),
                       ("dkp", 0.9, null), ("dkp", 0.9, "16x1"), ("dkp", 0.9, "4x4"), ("dkp", 0.25, "16x1"), ("prune", null, "16x1") })
            {
                LstmCompression? compression = method == "dense" ? null
                    : new(CompressionMethods.Parse(method), 25, share ?? LstmCompression.DefaultDopingShare) { Block = block is null ? null : BlockShape.Parse(block) };
                WeightFormSpec spec = compression?.SpecFor(rows, columns) ?? WeightFormSpec.Dense;
                IWeightMatrix<float> form = WeightForms.Create<float>(spec, "w", rows, columns);
                var random = new Random(1);
                foreach (Parameter<float> p in form.Parameters)
                    for (int k = 0; k < p.Length; k++) p.Value[k] = (float)random.NextDouble() - 0.5f;
                foreach (PrunedMatrix<float> pruned in WeightForms.PrunedParts(form)) pruned.PruneToSparsity(compression!.FinalSparsity);
                IStepMatrix step = StepMatrices.From(form);
                string name = method + (share is double s ? $" S{100 * s:0}%" : "") + (block is null ? "" : $" {block}");
                Console.WriteLine($"{rows}x{columns} {name,-16} {spec.ToJson(),-80} {step.WeightBytes,12:N0} B {MedianMicroseconds(step, reps),9:F2} µs");
            }
        DopedDecoder(reps / 10);
        KroneckerPaths(reps);
        return 0;
    }

    // The head of a whole-model compression: its structured part and S timed apart, S at both precisions.
    private static void DopedDecoder(int reps)
    {
        const int rows = 10000, columns = 650;
        var compression = new LstmCompression(CompressionMethod.Dkp, 25, 0.9) { Block = BlockShape.Parse("1x1@16x64") };
        WeightFormSpec spec = compression.SpecFor(rows, columns);
        var doped = (DopedMatrix<float>)WeightForms.Create<float>(spec, "decoder.weight", rows, columns);
        var random = new Random(3);
        foreach (Parameter<float> p in doped.Parameters)
            for (int k = 0; k < p.Length; k++) p.Value[k] = (float)random.NextDouble() - 0.5f;
        doped.Sparse.PruneToSparsity(compression.FinalSparsity);
        Console.WriteLine($"decoder {rows}x{columns} dkp 25x S90% 1x1@16x64 {spec.ToJson()}");
        foreach ((string part, IStepMatrix step) in new (string, IStepMatrix)[]
                 {
                     ("whole fp32", StepMatrices.From(doped)), ("whole int8", StepMatrices.From(doped, WeightPrecision.Int8)),
                     ("structure", StepMatrices.From(doped.Structure)),
                     ("S fp32", StepMatrices.From(doped.Sparse)), ("S int8", StepMatrices.From(doped.Sparse, WeightPrecision.Int8)),
                 })
            Console.WriteLine($"  {part,-12} {step.WeightBytes,12:N0} B {MedianMicroseconds(step, reps),9:F2} µs");
    }

    // The Kronecker kernel's two paths on the same factors, alternately: the direct small products and two GEMM calls.
    private static void KroneckerPaths(int reps)
    {
        Console.WriteLine("Kronecker paths (rank, m1xn1, m2xn2): multiply-adds, direct µs, GEMM µs");
        var random = new Random(2);
        foreach ((int rank, int m1, int n1, int m2, int n2) in new[]
                 { (1, 40, 10, 20, 20), (8, 40, 10, 20, 20), (1, 52, 26, 50, 25), (3, 52, 26, 50, 25), (8, 52, 26, 50, 25), (25, 52, 26, 50, 25) })
        {
            float[] left = [.. Enumerable.Range(0, rank * m1 * n1).Select(_ => (float)random.NextDouble() - 0.5f)];
            float[] right = [.. Enumerable.Range(0, rank * m2 * n2).Select(_ => (float)random.NextDouble() - 0.5f)];
            var direct = new KroneckerStepMatrix(left, right, rank, m1, n1, m2, n2, direct: true);
            var gemm = new KroneckerStepMatrix(left, right, rank, m1, n1, m2, n2, direct: false);
            var (d, g) = (new List<double>(), new List<double>());
            for (int round = 0; round < 3; round++)
            {
                d.Add(MedianMicroseconds(direct, reps));
                g.Add(MedianMicroseconds(gemm, reps));
            }
            d.Sort();
            g.Sort();
            Console.WriteLine($"{rank,3} {m1}x{n1} {m2}x{n2} {KroneckerStepMatrix.MultiplyAdds(rank, m1, n1, m2, n2),10:N0} {d[1],9:F2} {g[1],9:F2}");
        }
    }

    // Optimized at once: a timing loop left to tiered compilation ran several times slower here.
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    internal static double MedianMicroseconds(IStepMatrix step, int reps)
    {
        var x = new float[step.Columns];
        var y = new float[step.Rows];
        // Warm up for half a second of wall time: a few hundred calls end before tiered compilation has optimized the
        // kernels, and the timing would then measure their first, unoptimized code (up to 10x slower).
        for (long start = Stopwatch.GetTimestamp(); Stopwatch.GetElapsedTime(start).TotalMilliseconds < 500;)
            for (int i = 0; i < 100; i++) step.MultiplyAdd(x, y);
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
