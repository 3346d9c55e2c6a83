using System.Diagnostics;
using System.Numerics.Tensors;
using Dopant.Numerics;

namespace Dopant.Bench;

/// <summary>
/// `read-bandwidth [--mb 256] [--reps 9]`: how fast this machine streams floats from memory, on 1 and 2 threads
/// (a sum over a buffer far larger than the caches), the bound that a bandwidth-bound GEMV is measured against.
/// </summary>
internal static class ReadBandwidth
{
    public static int Run(string[] args)
    {
        int megabytes = 256, reps = 9;
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--mb") megabytes = int.Parse(args[++i]);
            else if (args[i] == "--reps") reps = int.Parse(args[++i]);
            else { Console.Error.WriteLine($"unknown option {args[i]}"); return 2; }
        }
        var data = new float[megabytes * (1 << 20) / sizeof(float)];
        data.AsSpan().Fill(1f);
        foreach (int threads in new[] { 1, 2 })
        {
            using var pool = new WorkerPool(threads);
            var partial = new float[threads];
            int chunk = (data.Length + threads - 1) / threads;
            var times = new double[reps];
            for (int r = -1; r < reps; r++)
            {
                long start = Stopwatch.GetTimestamp();
                pool.For(threads, (from, to) =>
                {
                    for (int t = from; t < to; t++)
                    {
                        int begin = t * chunk, length = Math.Min(chunk, data.Length - begin);
                        partial[t] = TensorPrimitives.Sum<float>(data.AsSpan(begin, length));
                    }
                });
                if (r >= 0) times[r] = Stopwatch.GetElapsedTime(start).TotalSeconds;
            }
            Array.Sort(times);
            Console.WriteLine($"threads {threads}: {data.Length * 4.0 / times[reps / 2] / 1e9:F1} GB/s (median of {reps} reads of {megabytes} MB; sum {partial.Sum()})");
        }
        return 0;
    }
}
