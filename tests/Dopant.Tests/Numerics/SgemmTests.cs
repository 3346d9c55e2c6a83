using Dopant.Numerics;
using Xunit.Abstractions;

namespace Dopant.Tests.Numerics;

public class SgemmTests(ITestOutputHelper output)
{
    private static readonly int[] Sizes = [0, 1, 2, 3, 5, 7, 13, 16, 17, 31, 33, 63, 65, 100, 129];
    private static readonly int[] SmallSizes = [0, 1, 2, 3, 5, 7, 13, 17, 33];

    public static TheoryData<string> Kernels => GemmReference.SupportedKernels();

    public static TheoryData<string, bool, bool> KernelsAndTransposes()
    {
        var data = new TheoryData<string, bool, bool>();
        foreach (string kind in GemmReference.Kinds().Select(k => k.ToString()))
            foreach (bool ta in new[] { false, true })
                foreach (bool tb in new[] { false, true })
                    data.Add(kind, ta, tb);
        return data;
    }

    private static void Check(SgemmKernelKind kind, WorkerPool? pool, bool ta, bool tb, int m, int n, int k,
        float alpha, float beta, int pad, Random rng, bool nanC = false)
    {
        int lda = (ta ? m : k) + pad, ldb = (tb ? k : n) + pad, ldc = n + pad;
        float[] a = GemmReference.RandomMatrix(rng, ta ? k : m, ta ? m : k, lda);
        float[] b = GemmReference.RandomMatrix(rng, tb ? n : k, tb ? k : n, ldb);
        float[] c0 = GemmReference.RandomMatrix(rng, m, n, ldc);
        if (nanC) Array.Fill(c0, float.NaN, 0, Math.Min(c0.Length, m * ldc));
        for (int i = 0; i < m; i++) for (int j = n; j < ldc; j++) c0[i * ldc + j] = -7f; // padding sentinel
        float[] c = (float[])c0.Clone();
        Blas.SgemmCore(kind, pool, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        GemmReference.AssertGemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c0, c, ldc,
            $"{kind} ta={ta} tb={tb} m={m} n={n} k={k} alpha={alpha} beta={beta} pad={pad}");
    }

    [Fact]
    public void ActiveKernelMatchesTheHardware()
    {
        output.WriteLine($"Blas.ActiveKernel = {Blas.ActiveKernel}; Vector512 {System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated}, " +
            $"Vector256 {System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated}, FMA {System.Runtime.Intrinsics.X86.Fma.IsSupported}");
        Console.WriteLine($"[Dopant.Numerics] Blas.ActiveKernel = {Blas.ActiveKernel}");
        SgemmKernelKind expected =
            System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated && System.Runtime.Intrinsics.X86.Avx512F.IsSupported && System.Runtime.Intrinsics.X86.Fma.IsSupported ? SgemmKernelKind.Avx512Fma
            : System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated && System.Runtime.Intrinsics.X86.Fma.IsSupported ? SgemmKernelKind.Avx2Fma
            : SgemmKernelKind.Scalar;
        Assert.Equal(expected, Blas.ActiveKernel);
        Assert.True(Blas.IsSupported(Blas.ActiveKernel));
    }

    [Theory]
    [MemberData(nameof(KernelsAndTransposes))]
    public void AllSmallShapes(string kernel, bool ta, bool tb)
    {
        SgemmKernelKind kind = GemmReference.Kind(kernel);
        var rng = new Random(1 + (ta ? 2 : 0) + (tb ? 1 : 0));
        foreach (int m in SmallSizes)
            foreach (int n in SmallSizes)
                foreach (int k in SmallSizes)
                    Check(kind, null, ta, tb, m, n, k, 1f, 0f, 0, rng);
    }

    [Theory]
    [MemberData(nameof(KernelsAndTransposes))]
    public void SampledShapesWithScalingAndPadding(string kernel, bool ta, bool tb)
    {
        SgemmKernelKind kind = GemmReference.Kind(kernel);
        var rng = new Random(17 + (ta ? 2 : 0) + (tb ? 1 : 0));
        float[] alphas = [1f, -0.5f, 2.5f];
        float[] betas = [0f, 1f, -1.5f, 0.25f];
        for (int t = 0; t < 60; t++)
        {
            int m = Sizes[rng.Next(Sizes.Length)], n = Sizes[rng.Next(Sizes.Length)], k = Sizes[rng.Next(Sizes.Length)];
            Check(kind, null, ta, tb, m, n, k, alphas[t % 3], betas[t / 3 % 4], pad: t % 5 == 0 ? 0 : 1 + t % 7, rng);
        }
    }

    [Theory]
    [MemberData(nameof(KernelsAndTransposes))]
    public void BetaZeroDoesNotReadC(string kernel, bool ta, bool tb)
    {
        SgemmKernelKind kind = GemmReference.Kind(kernel);
        var rng = new Random(5);
        foreach ((int m, int n, int k) in new[] { (1, 1, 1), (13, 33, 7), (20, 65, 17), (65, 100, 31), (7, 129, 0) })
            Check(kind, null, ta, tb, m, n, k, 1.5f, 0f, pad: 3, rng, nanC: true);
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public void AlphaZeroScalesCWithoutReadingAB(string kernel)
    {
        SgemmKernelKind kind = GemmReference.Kind(kernel);
        int m = 5, n = 7, k = 3;
        float[] a = new float[m * k], b = new float[k * n];
        Array.Fill(a, float.NaN);
        Array.Fill(b, float.PositiveInfinity);
        float[] c = Enumerable.Range(0, m * n).Select(i => (float)i).ToArray();
        Blas.SgemmCore(kind, null, false, false, m, n, k, 0f, a, k, b, n, 2f, c, n);
        for (int i = 0; i < c.Length; i++) Assert.Equal(2f * i, c[i]);
        Blas.SgemmCore(kind, null, false, false, m, n, k, 0f, a, k, b, n, 0f, c, n);
        Assert.All(c, v => Assert.Equal(0f, v));
    }

    [Theory]
    [MemberData(nameof(KernelsAndTransposes))]
    public void LargeShapesCrossEveryCacheBlock(string kernel, bool ta, bool tb)
    {
        SgemmKernelKind kind = GemmReference.Kind(kernel);
        // m > McBlock, n > NcBlock, k > 2·KcBlock, with ragged remainders in every dimension.
        int m = SgemmDriver.McBlock + 13, n = SgemmDriver.NcBlock + 37, k = 2 * SgemmDriver.KcBlock + 9;
        Check(kind, null, ta, tb, m, n, k, 0.75f, -0.5f, pad: 5, new Random(99));
    }

    [Theory]
    [MemberData(nameof(KernelsAndTransposes))]
    public void SmallMShapesUseEveryBPath(string kernel, bool ta, bool tb)
    {
        SgemmKernelKind kind = GemmReference.Kind(kernel);
        var rng = new Random(3);
        foreach (int m in new[] { 1, 4, 12, 20, 24, 25, 36, 49 })
            Check(kind, null, ta, tb, m, 2600 / 4 + 3, 650 / 2 + 1, 1f, 1f, pad: 2, rng);
    }

    [Theory]
    [MemberData(nameof(KernelsAndTransposes))]
    public void MultiThreadedMatchesReference(string kernel, bool ta, bool tb)
    {
        SgemmKernelKind kind = GemmReference.Kind(kernel);
        using var pool = new WorkerPool(2);
        var rng = new Random(11);
        Check(kind, pool, ta, tb, 20, 1000, 300, 1f, 0f, pad: 1, rng);   // split by columns
        Check(kind, pool, ta, tb, 700, 40, 150, 1f, 0.5f, pad: 0, rng);  // split by rows
        Assert.True(SgemmDriver.SplitKParts(13, 9, SgemmDriver.SplitKMinDepth) > 1);
        Check(kind, pool, ta, tb, 13, 9, SgemmDriver.SplitKMinDepth + 77, 0.5f, 0.5f, pad: 3, rng);  // split along k
        Check(kind, pool, ta, tb, 13, 9, 3 * SgemmDriver.SplitKMinDepth + 5, 1f, 0f, pad: 0, rng, nanC: true);
    }

    public static TheoryData<string, int, int, int, bool, bool> DeterminismCases()
    {
        var data = new TheoryData<string, int, int, int, bool, bool>();
        foreach (string kind in GemmReference.Kinds().Select(k => k.ToString()))
        {
            data.Add(kind, 20, 2600, 650, false, true);
            data.Add(kind, 20, 2600, 650, false, false);
            data.Add(kind, 300, 1100, 700, true, false);
            data.Add(kind, 1000, 40, 600, false, false);
            data.Add(kind, 52, 50, 35_000, false, true);
            data.Add(kind, 100, 26, 17_500, true, false);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(DeterminismCases))]
    public void ResultsAreBitIdenticalForAnyThreadCount(string kernel, int m, int n, int k, bool ta, bool tb)
    {
        SgemmKernelKind kind = GemmReference.Kind(kernel);
        var rng = new Random(m + n + k);
        float[] a = GemmReference.RandomMatrix(rng, ta ? k : m, ta ? m : k, ta ? m : k);
        float[] b = GemmReference.RandomMatrix(rng, tb ? n : k, tb ? k : n, tb ? k : n);
        float[] c0 = GemmReference.RandomMatrix(rng, m, n, n);
        float[]? first = null;
        foreach (int threads in new[] { 1, 2, 3 })
        {
            using var pool = new WorkerPool(threads);
            float[] c = (float[])c0.Clone();
            Blas.SgemmCore(kind, pool, ta, tb, m, n, k, 1.25f, a, ta ? m : k, b, tb ? k : n, 0.5f, c, n);
            if (first is null) first = c;
            else Assert.True(first.AsSpan().SequenceEqual(c), $"{threads} threads differ from 1 thread");
        }
    }

    [Fact]
    public void PublicEntryPointMatchesReference()
    {
        var rng = new Random(8);
        int m = 37, n = 70, k = 45;
        float[] a = GemmReference.RandomMatrix(rng, k, m, m + 2);
        float[] b = GemmReference.RandomMatrix(rng, n, k, k);
        float[] c0 = GemmReference.RandomMatrix(rng, m, n, n);
        float[] c = (float[])c0.Clone();
        Blas.Sgemm(true, true, m, n, k, 1f, a, m + 2, b, k, -1f, c, n);
        GemmReference.AssertGemm(true, true, m, n, k, 1f, a, m + 2, b, k, -1f, c0, c, n, "public Sgemm");
    }

    [Fact]
    public void ValidatesArguments()
    {
        float[] a = new float[6], b = new float[6], c = new float[4];
        Assert.Throws<ArgumentOutOfRangeException>(() => Blas.Sgemm(false, false, -1, 2, 3, 1, a, 3, b, 2, 0, c, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => Blas.Sgemm(false, false, 2, 2, 3, 1, a, 2, b, 2, 0, c, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => Blas.Sgemm(false, true, 2, 2, 3, 1, a, 3, b, 2, 0, c, 2));
        Assert.Throws<ArgumentException>(() => Blas.Sgemm(false, false, 2, 2, 3, 1, a.AsSpan(1), 3, b, 2, 0, c, 2));
        Assert.Throws<ArgumentException>(() => Blas.Sgemm(false, false, 2, 2, 3, 1, a, 3, b, 2, 0, c.AsSpan(0, 3), 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => Blas.Sgemm(false, false, 2, 2, 3, 1, a, 3, b, 2, 0, c, 1));
        Blas.Sgemm(false, false, 0, 0, 0, 1, [], 0, [], 0, 0, [], 0); // empty is fine
    }
}
