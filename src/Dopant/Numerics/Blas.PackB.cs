namespace Dopant.Numerics;

public static partial class Blas
{
    /// <summary>
    /// Packs op(B) (k×n) for repeated use as the right-hand operand of <see cref="SgemmPacked"/>: the packing cost,
    /// about a read and a write of B, is paid once instead of on every product.
    /// </summary>
    /// <param name="transB">Whether op(B) = Bᵀ (B is n×k).</param>
    /// <param name="k">Rows of op(B).</param>
    /// <param name="n">Columns of op(B).</param>
    /// <param name="b">B, row-major with leading dimension <paramref name="ldb"/>.</param>
    /// <param name="ldb">The distance between rows of B, at least its width (n, or k when transposed).</param>
    /// <returns>The packed operand; dispose it to free its native memory.</returns>
    public static PackedMatrix PackB(bool transB, int k, int n, ReadOnlySpan<float> b, int ldb)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ValidateMatrix(transB ? n : k, transB ? k : n, b.Length, ldb, nameof(b), nameof(ldb));
        return PackBCore(ActiveKernel, WorkerPool.Shared, transB, k, n, b, ldb);
    }

    /// <summary>
    /// C[m×n] = alpha · op(A) · op(B) + beta · C with op(B) prepacked by <see cref="PackB"/> (k = its rows, n = its
    /// columns). Same conventions as <see cref="Sgemm"/>, and bit-identical to it for the same operands.
    /// </summary>
    /// <param name="transA">Whether op(A) = Aᵀ (A is k×m).</param>
    /// <param name="m">Rows of op(A) and C.</param>
    /// <param name="alpha">The scale of the product.</param>
    /// <param name="a">A, row-major with leading dimension <paramref name="lda"/>.</param>
    /// <param name="lda">The distance between rows of A, at least its width (k, or m when transposed).</param>
    /// <param name="b">The packed op(B).</param>
    /// <param name="beta">The scale of the previous C; 0 means C is write-only.</param>
    /// <param name="c">C, row-major with leading dimension <paramref name="ldc"/>.</param>
    /// <param name="ldc">The distance between rows of C, at least n.</param>
    public static void SgemmPacked(bool transA, int m, float alpha, ReadOnlySpan<float> a, int lda,
        PackedMatrix b, float beta, Span<float> c, int ldc)
    {
        ArgumentNullException.ThrowIfNull(b);
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        int k = b.Rows, n = b.Columns;
        ValidateMatrix(transA ? k : m, transA ? m : k, a.Length, lda, nameof(a), nameof(lda));
        ValidateMatrix(m, n, c.Length, ldc, nameof(c), nameof(ldc));
        SgemmPackedCore(WorkerPool.Shared, transA, m, alpha, a, lda, b, beta, c, ldc);
    }

    /// <summary><see cref="PackB"/> after validation, for a chosen kernel family and pool.</summary>
    internal static PackedMatrix PackBCore(SgemmKernelKind kernel, WorkerPool? pool, bool transB, int k, int n,
        ReadOnlySpan<float> b, int ldb)
    {
        if (!IsSupported(kernel)) throw new PlatformNotSupportedException($"The {kernel} GEMM kernel needs instructions this machine lacks.");
        int nr = kernel switch
        {
            SgemmKernelKind.Avx512Fma => SgemmKernelAvx512.NR,
            SgemmKernelKind.Avx2Fma => SgemmKernelAvx2.NR,
            _ => SgemmKernelScalar.NR,
        };
        var packed = new PackedMatrix(kernel, k, n, nr, SgemmDriver.BlockDepth(k));
        PackInto(packed, transB, b, ldb, pool);
        return packed;
    }

    /// <summary>Packs B into <paramref name="packed"/>, whose shape and layout are already set.</summary>
    internal static unsafe void PackInto(PackedMatrix packed, bool transB, ReadOnlySpan<float> b, int ldb, WorkerPool? pool)
    {
        if (packed.Rows == 0 || packed.Columns == 0) return;
        fixed (float* pb = b)
        {
            switch (packed.Kernel)
            {
                case SgemmKernelKind.Avx512Fma: SgemmDriver.PackWholeB<SgemmKernelAvx512>(transB, pb, ldb, packed.Rows, packed.Columns, packed.Kc, packed.Data, pool); break;
                case SgemmKernelKind.Avx2Fma: SgemmDriver.PackWholeB<SgemmKernelAvx2>(transB, pb, ldb, packed.Rows, packed.Columns, packed.Kc, packed.Data, pool); break;
                default: SgemmDriver.PackWholeB<SgemmKernelScalar>(transB, pb, ldb, packed.Rows, packed.Columns, packed.Kc, packed.Data, pool); break;
            }
        }
    }

    /// <summary><see cref="SgemmPacked"/> after validation, on a chosen pool (null: one thread).</summary>
    internal static unsafe void SgemmPackedCore(WorkerPool? pool, bool transA, int m, float alpha,
        ReadOnlySpan<float> a, int lda, PackedMatrix b, float beta, Span<float> c, int ldc)
    {
        int k = b.Rows, n = b.Columns;
        if (m == 0 || n == 0) return;
        if (k == 0 || alpha == 0)
        {
            ScaleMatrix(m, n, beta, c, ldc);
            return;
        }
        fixed (float* pa = a, pc = c)
        {
            var args = new SgemmArgs
            {
                TransA = transA, M = m, N = n, K = k, Alpha = alpha, Beta = beta,
                A = pa, C = pc, Lda = lda, Ldc = ldc,
                PackedB = b.Data, PackedPanels = b.Panels, PackedKc = b.Kc,
            };
            switch (b.Kernel)
            {
                case SgemmKernelKind.Avx512Fma: SgemmDriver.Run<SgemmKernelAvx512>(args, pool); break;
                case SgemmKernelKind.Avx2Fma: SgemmDriver.Run<SgemmKernelAvx2>(args, pool); break;
                default: SgemmDriver.Run<SgemmKernelScalar>(args, pool); break;
            }
        }
        GC.KeepAlive(b);
    }
}
