using System.Diagnostics;
using System.Runtime.CompilerServices;
using Dopant.Inference;
using Dopant.Matrices;

namespace Dopant.Bench;

/// <summary>
/// `step-parts [--reps 20000]`: µs of the per-token work of a streaming LSTM layer other than its two products (the
/// bias copy into the gates, the cell update) and of the embedding lookup, at the hidden sizes of the small (200) and
/// medium (650) presets, one thread. These are the fixed costs every weight form pays per token.
/// </summary>
internal static class StepPartTimes
{
    public static int Run(string[] args)
    {
        int reps = args.Length == 2 && args[0] == "--reps" ? int.Parse(args[1]) : 20000;
        foreach (int hidden in new[] { 200, 650 })
        {
            var random = new Random(3);
            float[] gates = [.. Enumerable.Range(0, 4 * hidden).Select(_ => 4 * (float)random.NextDouble() - 2)];
            float[] work = new float[4 * hidden], cell = new float[hidden], h = new float[hidden];
            const int vocabulary = 10000;
            float[] table = [.. Enumerable.Range(0, vocabulary * hidden).Select(_ => (float)random.NextDouble())];
            var embedding = new EmbeddingTable(table, vocabulary, hidden, WeightPrecision.Float32);
            int[] tokens = [.. Enumerable.Range(0, 4096).Select(_ => random.Next(vocabulary))];
            float[] row = new float[hidden];
            int next = 0;
            Report(hidden, "bias copy", reps, () => gates.CopyTo(work, 0));
            Report(hidden, "cell update", reps, () =>
            {
                gates.CopyTo(work, 0);
                FusedLstmCell.Update(work, cell, h);
            }, subtract: Median(reps, () => gates.CopyTo(work, 0)));
            Report(hidden, "embedding row", reps, () => embedding.CopyRow(tokens[next++ & 4095], row));
        }
        return 0;
    }

    private static void Report(int hidden, string part, int reps, Action body, double subtract = 0) =>
        Console.WriteLine($"H {hidden,4} {part,-14} {Median(reps, body) - subtract,8:F3} µs");

    /// <summary>µs per call of <paramref name="body"/>: the median of 9 timings of <paramref name="reps"/> calls, after 0.5 s of warm-up.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    internal static double Median(int reps, Action body)
    {
        for (long start = Stopwatch.GetTimestamp(); Stopwatch.GetElapsedTime(start).TotalMilliseconds < 500;) body();
        var times = new double[9];
        for (int t = 0; t < times.Length; t++)
        {
            long start = Stopwatch.GetTimestamp();
            for (int i = 0; i < reps; i++) body();
            times[t] = Stopwatch.GetElapsedTime(start).TotalMicroseconds / reps;
        }
        Array.Sort(times);
        return times[times.Length / 2];
    }
}
