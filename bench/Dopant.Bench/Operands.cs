using Dopant.Numerics;

namespace Dopant.Bench;

/// <summary>Operands for a <see cref="GemmShape"/> and the call that times it.</summary>
internal static class Operands
{
    /// <summary>A, B (or x) and C (or y), filled with small deterministic values.</summary>
    public static (float[] A, float[] B, float[] C) Create(GemmShape s)
    {
        if (s.IsGemv)
            return (Fill(s.M * s.N), Fill(s.TransA ? s.M : s.N), Fill(s.TransA ? s.N : s.M));
        return (Fill(s.M * s.K), Fill(s.K * s.N), Fill(s.M * s.N));
    }

    /// <summary>Runs the shape once with our kernels on <paramref name="pool"/>.</summary>
    public static void Sgemm(GemmShape s, WorkerPool pool, float[] a, float[] b, float[] c)
    {
        if (s.IsGemv)
            Blas.SgemvCore(Blas.ActiveKernel, pool, s.TransA, s.M, s.N, 1f, a, s.N, b, 0f, c);
        else
            Blas.SgemmCore(Blas.ActiveKernel, pool, s.TransA, s.TransB, s.M, s.N, s.K, 1f,
                a, s.TransA ? s.M : s.K, b, s.TransB ? s.K : s.N, 0f, c, s.N);
    }

    private static float[] Fill(int count)
    {
        var x = new float[count];
        for (int i = 0; i < count; i++) x[i] = (i * 7919L % 1000) / 1000f - 0.5f;
        return x;
    }
}
