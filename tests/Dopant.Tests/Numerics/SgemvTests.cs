using Dopant.Numerics;

namespace Dopant.Tests.Numerics;

public class SgemvTests
{
    private static readonly int[] Sizes = [0, 1, 2, 3, 5, 7, 13, 16, 17, 31, 33, 63, 65, 100, 129];

    public static TheoryData<string, bool> KernelsAndTransposes()
    {
        var data = new TheoryData<string, bool>();
        foreach (string kind in GemmReference.Kinds().Select(k => k.ToString()))
        {
            data.Add(kind, false);
            data.Add(kind, true);
        }
        return data;
    }

    private static void Check(SgemmKernelKind kind, WorkerPool? pool, bool trans, int m, int n, float alpha, float beta, int pad, Random rng, bool nanY = false)
    {
        int lda = n + pad;
        float[] a = GemmReference.RandomMatrix(rng, m, n, lda);
        int xl = trans ? m : n, yl = trans ? n : m;
        float[] x = GemmReference.RandomMatrix(rng, 1, xl, Math.Max(1, xl));
        float[] y0 = GemmReference.RandomMatrix(rng, 1, yl, yl + 1);
        if (nanY) Array.Fill(y0, float.NaN, 0, yl);
        y0[yl] = -7f; // sentinel past the end
        float[] y = (float[])y0.Clone();
        Blas.SgemvCore(kind, pool, trans, m, n, alpha, a, lda, x, beta, y);
        // As a GEMM: y is 1×yl = x(1×xl) · op(A)ᵀ...: with trans, yᵀ = xᵀ·A; without, yᵀ = xᵀ·Aᵀ.
        GemmReference.AssertGemm(false, !trans, 1, yl, xl, alpha, x, Math.Max(1, xl), a, lda, beta, y0, y, yl + 1,
            $"{kind} trans={trans} m={m} n={n} alpha={alpha} beta={beta} pad={pad}");
    }

    [Theory]
    [MemberData(nameof(KernelsAndTransposes))]
    public void AllShapes(string kernel, bool trans)
    {
        SgemmKernelKind kind = GemmReference.Kind(kernel);
        var rng = new Random(trans ? 1 : 2);
        float[] betas = [0f, 1f, -0.5f];
        int t = 0;
        foreach (int m in Sizes)
            foreach (int n in Sizes)
            {
                t++;
                Check(kind, null, trans, m, n, t % 2 == 0 ? 1f : -1.5f, betas[t % 3], pad: t % 4, rng);
            }
    }

    [Theory]
    [MemberData(nameof(KernelsAndTransposes))]
    public void BetaZeroDoesNotReadY(string kernel, bool trans)
    {
        SgemmKernelKind kind = GemmReference.Kind(kernel);
        var rng = new Random(3);
        Check(kind, null, trans, 33, 65, 1f, 0f, 1, rng, nanY: true);
        Check(kind, null, trans, 33, 0, 1f, 0f, 1, rng, nanY: true);
        Check(kind, null, trans, 0, 33, 1f, 0f, 1, rng, nanY: true);
    }

    [Theory]
    [MemberData(nameof(KernelsAndTransposes))]
    public void TwoThreadsAreBitIdenticalToOne(string kernel, bool trans)
    {
        SgemmKernelKind kind = GemmReference.Kind(kernel);
        var rng = new Random(4);
        int m = 1031, n = 653;
        float[] a = GemmReference.RandomMatrix(rng, m, n, n);
        float[] x = GemmReference.RandomMatrix(rng, 1, trans ? m : n, trans ? m : n);
        float[] y0 = GemmReference.RandomMatrix(rng, 1, trans ? n : m, trans ? n : m);
        float[] y1 = (float[])y0.Clone(), y2 = (float[])y0.Clone();
        using var pool = new WorkerPool(2);
        Blas.SgemvCore(kind, null, trans, m, n, 0.5f, a, n, x, 2f, y1);
        Blas.SgemvCore(kind, pool, trans, m, n, 0.5f, a, n, x, 2f, y2);
        Assert.True(y1.AsSpan().SequenceEqual(y2));
        Check(kind, pool, trans, m, n, 0.5f, 2f, 0, rng);
    }

    [Fact]
    public void PublicEntryPointValidates()
    {
        float[] a = new float[6], x = new float[3], y = new float[2];
        Blas.Sgemv(false, 2, 3, 1, a, 3, x, 0, y);
        Blas.Sgemv(true, 2, 3, 1, a, 3, y, 0, x);
        Assert.Throws<ArgumentException>(() => Blas.Sgemv(false, 2, 3, 1, a, 3, x.AsSpan(1), 0, y));
        Assert.Throws<ArgumentException>(() => Blas.Sgemv(false, 2, 3, 1, a, 3, x, 0, y.AsSpan(1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => Blas.Sgemv(false, 2, 3, 1, a, 2, x, 0, y));
        Assert.Throws<ArgumentException>(() => Blas.Sgemv(true, 3, 3, 1, a, 3, x, 0, x));
    }
}
