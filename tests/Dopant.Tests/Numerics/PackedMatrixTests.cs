using Dopant.Numerics;

namespace Dopant.Tests.Numerics;

public class PackedMatrixTests
{
    public static TheoryData<string, bool, bool> KernelsAndTransposes()
    {
        var data = new TheoryData<string, bool, bool>();
        foreach (string kind in GemmReference.Kinds().Select(k => k.ToString()))
            foreach (bool ta in new[] { false, true })
                foreach (bool tb in new[] { false, true })
                    data.Add(kind, ta, tb);
        return data;
    }

    [Theory]
    [MemberData(nameof(KernelsAndTransposes))]
    public void PackedProductIsBitIdenticalToSgemm(string kernel, bool ta, bool tb)
    {
        SgemmKernelKind kind = GemmReference.Kind(kernel);
        var rng = new Random(21);
        using var pool = new WorkerPool(2);
        foreach ((int m, int n, int k) in new[] { (1, 1, 1), (20, 260, 65), (5, 33, 17), (13, 100, 2 * SgemmDriver.KcBlock + 3), (150, 70, 31), (0, 5, 5), (4, 7, 0) })
        {
            int lda = (ta ? m : k) + 1, ldb = (tb ? k : n) + 2, ldc = n + 3;
            float[] a = GemmReference.RandomMatrix(rng, ta ? k : m, ta ? m : k, lda);
            float[] b = GemmReference.RandomMatrix(rng, tb ? n : k, tb ? k : n, ldb);
            float[] c0 = GemmReference.RandomMatrix(rng, m, n, ldc);
            for (int i = 0; i < m; i++) for (int j = n; j < ldc; j++) c0[i * ldc + j] = -7f;
            float[] expected = (float[])c0.Clone(), got1 = (float[])c0.Clone(), got2 = (float[])c0.Clone();
            Blas.SgemmCore(kind, null, ta, tb, m, n, k, 0.5f, a, lda, b, ldb, -1f, expected, ldc);
            using PackedMatrix packed = Blas.PackBCore(kind, pool, tb, k, n, b, ldb);
            Assert.Equal(k, packed.Rows);
            Assert.Equal(n, packed.Columns);
            Blas.SgemmPackedCore(null, ta, m, 0.5f, a, lda, packed, -1f, got1, ldc);
            Blas.SgemmPackedCore(pool, ta, m, 0.5f, a, lda, packed, -1f, got2, ldc);
            string context = $"{kind} ta={ta} tb={tb} m={m} n={n} k={k}";
            Assert.True(expected.AsSpan().SequenceEqual(got1), context);
            Assert.True(expected.AsSpan().SequenceEqual(got2), context + " (2 threads)");
            GemmReference.AssertGemm(ta, tb, m, n, k, 0.5f, a, lda, b, ldb, -1f, c0, got1, ldc, context);
        }
    }

    [Fact]
    public void UpdateRepacksNewValues()
    {
        var rng = new Random(2);
        int m = 20, n = 130, k = 65;
        float[] a = GemmReference.RandomMatrix(rng, m, k, k);
        float[] b1 = GemmReference.RandomMatrix(rng, n, k, k), b2 = GemmReference.RandomMatrix(rng, n, k, k);
        using PackedMatrix packed = Blas.PackB(true, k, n, b1, k);
        packed.Update(true, b2, k);
        float[] c0 = new float[m * n], c = new float[m * n];
        Blas.SgemmPacked(false, m, 1f, a, k, packed, 0f, c, n);
        GemmReference.AssertGemm(false, true, m, n, k, 1f, a, k, b2, k, 0f, c0, c, n, "updated");
        Assert.Throws<ArgumentException>(() => packed.Update(true, b2.AsSpan(1), k));
    }

    [Fact]
    public void DisposedMatrixThrows()
    {
        PackedMatrix packed = Blas.PackB(false, 3, 3, new float[9], 3);
        packed.Dispose();
        packed.Dispose();
        Assert.Throws<ObjectDisposedException>(() => Blas.SgemmPacked(false, 2, 1f, new float[6], 3, packed, 0f, new float[6], 3));
    }

    [Fact]
    public void ValidatesArguments()
    {
        using PackedMatrix packed = Blas.PackB(false, 3, 4, new float[12], 4);
        Assert.Throws<ArgumentException>(() => Blas.SgemmPacked(false, 2, 1f, new float[5], 3, packed, 0f, new float[8], 4));
        Assert.Throws<ArgumentException>(() => Blas.SgemmPacked(false, 2, 1f, new float[6], 3, packed, 0f, new float[7], 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => Blas.PackB(true, 3, 4, new float[12], 2));
        Assert.Throws<ArgumentNullException>(() => Blas.SgemmPacked(false, 2, 1f, new float[6], 3, null!, 0f, new float[8], 4));
    }

    [Fact]
    public void Transpose16x16MatchesScalar()
    {
        if (!System.Runtime.Intrinsics.X86.Avx512F.IsSupported) return;
        float[] src = Enumerable.Range(0, 16 * 19).Select(i => (float)i).ToArray();
        float[] dst = new float[16 * 21];
        unsafe
        {
            fixed (float* s = src, d = dst) SgemmPacking.Transpose16x16(s, 19, 16, d, 21);
        }
        for (int i = 0; i < 16; i++)
            for (int q = 0; q < 16; q++)
                Assert.Equal(src[i * 19 + q], dst[q * 21 + i]);
    }
}
