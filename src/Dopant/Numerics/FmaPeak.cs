using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Dopant.Numerics;

/// <summary>
/// The machine's fp32 fused multiply-add peak as a register-only loop reaches it: independent FMA chains in the widest
/// vectors the CPU runs, no memory traffic. Training throughput is quoted as a share of this figure measured in the
/// same run, so that machines of other kinds (AVX-512 on 256-bit units, full-width AVX-512, AVX2) compare.
/// </summary>
public static class FmaPeak
{
    private const int Iterations = 1 << 20;

    /// <summary>
    /// GFLOP/s (2 per lane per FMA) of the loop on <paramref name="threads"/> threads of the shared pool at once, the
    /// best of <paramref name="repeats"/> timings (the first is a warm-up).
    /// </summary>
    public static double GigaflopsPerSecond(int threads, int repeats = 5)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(threads);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(repeats);
        WorkerPool pool = WorkerPool.Shared;
        int used = Math.Min(threads, pool.ThreadCount);
        double best = 0;
        for (int r = 0; r <= repeats; r++)
        {
            var clock = Stopwatch.StartNew();
            pool.For(used, (start, end) =>
            {
                for (int i = start; i < end; i++) Sink(Loop(Iterations));
            });
            double seconds = clock.Elapsed.TotalSeconds;
            if (r > 0) best = Math.Max(best, used * FlopsPerLoop(Iterations) / seconds / 1e9);
        }
        return best;
    }

    /// <summary>The floating-point operations one loop of <paramref name="iterations"/> performs.</summary>
    private static double FlopsPerLoop(int iterations) => (double)iterations * Chains * 2 * Lanes;

    private const int Chains = 12;

    private static int Lanes => Vector512.IsHardwareAccelerated ? Vector512<float>.Count : Vector256.IsHardwareAccelerated ? Vector256<float>.Count : 1;

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Sink(float value)
    {
        if (float.IsNaN(value)) throw new InvalidOperationException("The FMA loop produced NaN.");
    }

    // Twelve independent accumulators cover the FMA latency (4 cycles) times the FMA units (2) with room to spare.
    private static float Loop(int iterations)
    {
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> a = Vector512.Create(0.999f), b = Vector512.Create(1e-3f);
            Vector512<float> c0 = Vector512.Create(0.1f), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
            for (int i = 0; i < iterations; i++)
            {
                c0 = Vector512.FusedMultiplyAdd(c0, a, b); c1 = Vector512.FusedMultiplyAdd(c1, a, b);
                c2 = Vector512.FusedMultiplyAdd(c2, a, b); c3 = Vector512.FusedMultiplyAdd(c3, a, b);
                c4 = Vector512.FusedMultiplyAdd(c4, a, b); c5 = Vector512.FusedMultiplyAdd(c5, a, b);
                c6 = Vector512.FusedMultiplyAdd(c6, a, b); c7 = Vector512.FusedMultiplyAdd(c7, a, b);
                c8 = Vector512.FusedMultiplyAdd(c8, a, b); c9 = Vector512.FusedMultiplyAdd(c9, a, b);
                c10 = Vector512.FusedMultiplyAdd(c10, a, b); c11 = Vector512.FusedMultiplyAdd(c11, a, b);
            }
            return Vector512.Sum(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11);
        }
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> a = Vector256.Create(0.999f), b = Vector256.Create(1e-3f);
            Vector256<float> c0 = Vector256.Create(0.1f), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
            for (int i = 0; i < iterations; i++)
            {
                c0 = Vector256.FusedMultiplyAdd(c0, a, b); c1 = Vector256.FusedMultiplyAdd(c1, a, b);
                c2 = Vector256.FusedMultiplyAdd(c2, a, b); c3 = Vector256.FusedMultiplyAdd(c3, a, b);
                c4 = Vector256.FusedMultiplyAdd(c4, a, b); c5 = Vector256.FusedMultiplyAdd(c5, a, b);
                c6 = Vector256.FusedMultiplyAdd(c6, a, b); c7 = Vector256.FusedMultiplyAdd(c7, a, b);
                c8 = Vector256.FusedMultiplyAdd(c8, a, b); c9 = Vector256.FusedMultiplyAdd(c9, a, b);
                c10 = Vector256.FusedMultiplyAdd(c10, a, b); c11 = Vector256.FusedMultiplyAdd(c11, a, b);
            }
            return Vector256.Sum(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11);
        }
        float s0 = 0.1f, s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0, s7 = s0, s8 = s0, s9 = s0, s10 = s0, s11 = s0;
        for (int i = 0; i < iterations; i++)
        {
            s0 = MathF.FusedMultiplyAdd(s0, 0.999f, 1e-3f); s1 = MathF.FusedMultiplyAdd(s1, 0.999f, 1e-3f);
            s2 = MathF.FusedMultiplyAdd(s2, 0.999f, 1e-3f); s3 = MathF.FusedMultiplyAdd(s3, 0.999f, 1e-3f);
            s4 = MathF.FusedMultiplyAdd(s4, 0.999f, 1e-3f); s5 = MathF.FusedMultiplyAdd(s5, 0.999f, 1e-3f);
            s6 = MathF.FusedMultiplyAdd(s6, 0.999f, 1e-3f); s7 = MathF.FusedMultiplyAdd(s7, 0.999f, 1e-3f);
            s8 = MathF.FusedMultiplyAdd(s8, 0.999f, 1e-3f); s9 = MathF.FusedMultiplyAdd(s9, 0.999f, 1e-3f);
            s10 = MathF.FusedMultiplyAdd(s10, 0.999f, 1e-3f); s11 = MathF.FusedMultiplyAdd(s11, 0.999f, 1e-3f);
        }
        return s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7 + s8 + s9 + s10 + s11;
    }
}
