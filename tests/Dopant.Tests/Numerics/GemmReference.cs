using Dopant.Numerics;

namespace Dopant.Tests.Numerics;

/// <summary>Double-precision references and tolerance checks shared by the BLAS tests.</summary>
internal static class GemmReference
{
    /// <summary>The kernel families this machine can run, as xunit theory data.</summary>
    public static TheoryData<string> SupportedKernels()
    {
        var data = new TheoryData<string>();
        foreach (SgemmKernelKind kind in Kinds()) data.Add(kind.ToString());
        return data;
    }

    /// <summary>The kernel families this machine can run.</summary>
    public static IEnumerable<SgemmKernelKind> Kinds() => Enum.GetValues<SgemmKernelKind>().Where(Blas.IsSupported);

    /// <summary>The kernel family named in theory data (internal enums cannot appear in public test signatures).</summary>
    public static SgemmKernelKind Kind(string name) => Enum.Parse<SgemmKernelKind>(name);

    /// <summary>A rows×cols matrix with leading dimension ld; padding past the width holds NaN to catch stray reads.</summary>
    public static float[] RandomMatrix(Random rng, int rows, int cols, int ld, float scale = 1f)
    {
        var m = new float[Math.Max(1, rows * ld)];
        Array.Fill(m, float.NaN);
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++)
                m[i * ld + j] = (float)(rng.NextDouble() * 2 - 1) * scale;
        return m;
    }

    /// <summary>
    /// Checks C against alpha·op(A)·op(B) + beta·C0 computed in double, elementwise within
    /// 4·u·(k + 4)·(|alpha|·Σ|a||b| + |beta·c0|) (the standard dot-product error bound, u = 2⁻²⁴); padding must be unchanged.
    /// </summary>
    public static void AssertGemm(bool transA, bool transB, int m, int n, int k, float alpha,
        float[] a, int lda, float[] b, int ldb, float beta, float[] c0, float[] c, int ldc, string context)
    {
        const double u = 1.0 / (1 << 24);
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double s = 0, mag = 0;
                for (int p = 0; p < k; p++)
                {
                    double x = transA ? a[p * lda + i] : a[i * lda + p];
                    double y = transB ? b[j * ldb + p] : b[p * ldb + j];
                    s += x * y;
                    mag += Math.Abs(x * y);
                }
                double expected = alpha * s;
                double bound = Math.Abs(alpha) * mag;
                if (beta != 0)
                {
                    expected += (double)beta * c0[i * ldc + j];
                    bound += Math.Abs((double)beta * c0[i * ldc + j]);
                }
                double tol = 4 * u * (k + 4) * bound + 1e-30;
                float got = c[i * ldc + j];
                if (!(Math.Abs(got - expected) <= tol))
                    Assert.Fail($"{context}: C[{i},{j}] = {got}, expected {expected} ± {tol}");
            }
            for (int j = n; j < ldc && i * ldc + j < c.Length; j++)
                if (BitConverter.SingleToInt32Bits(c[i * ldc + j]) != BitConverter.SingleToInt32Bits(c0[i * ldc + j]))
                    Assert.Fail($"{context}: padding C[{i},{j}] was written");
        }
    }
}
