using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Dopant.Numerics;

/// <summary>
/// Single-precision dense linear algebra on row-major matrices.
/// </summary>
public static partial class Blas
{
    /// <summary>
    /// C[m×n] = alpha · op(A) · op(B) + beta · C, row-major. op(A) is m×k (A is k×m when <paramref name="transA"/>),
    /// op(B) is k×n (B is n×k when <paramref name="transB"/>). With beta = 0, C is not read (NaN in C does not propagate).
    /// </summary>
    /// <remarks>
    /// A packed, cache-blocked kernel (AVX-512, AVX2 + FMA or portable, chosen at start-up), multi-threaded on
    /// <see cref="WorkerPool.Shared"/> when the product is large enough. Every element of C is computed in the same
    /// order whatever the thread count, so results are bit-identical for any <see cref="WorkerPool.SharedThreadCount"/>.
    /// With k = 0 or alpha = 0, C = beta · C and A, B are not read.
    /// </remarks>
    /// <param name="transA">Whether op(A) = Aᵀ.</param>
    /// <param name="transB">Whether op(B) = Bᵀ.</param>
    /// <param name="m">Rows of op(A) and C.</param>
    /// <param name="n">Columns of op(B) and C.</param>
    /// <param name="k">Columns of op(A), rows of op(B).</param>
    /// <param name="alpha">The scale of the product.</param>
    /// <param name="a">A, row-major with leading dimension <paramref name="lda"/>.</param>
    /// <param name="lda">The distance between rows of A, at least its width (k, or m when transposed).</param>
    /// <param name="b">B, row-major with leading dimension <paramref name="ldb"/>.</param>
    /// <param name="ldb">The distance between rows of B, at least its width (n, or k when transposed).</param>
    /// <param name="beta">The scale of the previous C; 0 means C is write-only.</param>
    /// <param name="c">C, row-major with leading dimension <paramref name="ldc"/>.</param>
    /// <param name="ldc">The distance between rows of C, at least n.</param>
    public static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        ValidateMatrix(transA ? k : m, transA ? m : k, a.Length, lda, nameof(a), nameof(lda));
        ValidateMatrix(transB ? n : k, transB ? k : n, b.Length, ldb, nameof(b), nameof(ldb));
        ValidateMatrix(m, n, c.Length, ldc, nameof(c), nameof(ldc));
        SgemmCore(ActiveKernel, WorkerPool.Shared, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }

    /// <summary>The micro-kernel family <see cref="Sgemm"/> uses on this machine.</summary>
    internal static SgemmKernelKind ActiveKernel { get; } = DetectKernel();

    /// <summary>The name of the SGEMM micro-kernel chosen for this machine (for reports): Avx512, Avx2Fma or Scalar.</summary>
    public static string KernelName => ActiveKernel.ToString();

    /// <summary>Whether <paramref name="kind"/> can run on this machine.</summary>
    internal static bool IsSupported(SgemmKernelKind kind) => kind switch
    {
        SgemmKernelKind.Avx512Fma => Vector512.IsHardwareAccelerated && Avx512F.IsSupported && Fma.IsSupported,
        SgemmKernelKind.Avx2Fma => Vector256.IsHardwareAccelerated && Fma.IsSupported,
        _ => true,
    };

    /// <summary>
    /// <see cref="Sgemm"/> after validation, with the kernel family and the pool (null: one thread) chosen by the caller,
    /// so that tests and benchmarks can run every path side by side.
    /// </summary>
    internal static unsafe void SgemmCore(SgemmKernelKind kernel, WorkerPool? pool, bool transA, bool transB,
        int m, int n, int k, float alpha, ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb,
        float beta, Span<float> c, int ldc)
    {
        if (m == 0 || n == 0) return;
        if (k == 0 || alpha == 0)
        {
            ScaleMatrix(m, n, beta, c, ldc);
            return;
        }
        if (!IsSupported(kernel)) throw new PlatformNotSupportedException($"The {kernel} GEMM kernel needs instructions this machine lacks.");

        fixed (float* pa = a, pb = b, pc = c)
        {
            var args = new SgemmArgs
            {
                TransA = transA, TransB = transB, M = m, N = n, K = k, Alpha = alpha, Beta = beta,
                A = pa, B = pb, C = pc, Lda = lda, Ldb = ldb, Ldc = ldc,
            };
            switch (kernel)
            {
                case SgemmKernelKind.Avx512Fma: SgemmDriver.Run<SgemmKernelAvx512>(args, pool); break;
                case SgemmKernelKind.Avx2Fma: SgemmDriver.Run<SgemmKernelAvx2>(args, pool); break;
                default: SgemmDriver.Run<SgemmKernelScalar>(args, pool); break;
            }
        }
    }

    private static SgemmKernelKind DetectKernel() =>
        IsSupported(SgemmKernelKind.Avx512Fma) ? SgemmKernelKind.Avx512Fma
        : IsSupported(SgemmKernelKind.Avx2Fma) ? SgemmKernelKind.Avx2Fma
        : SgemmKernelKind.Scalar;

    /// <summary>C = beta · C over an m×n block (beta = 0 clears without reading).</summary>
    private static void ScaleMatrix(int m, int n, float beta, Span<float> c, int ldc)
    {
        if (beta == 1) return;
        for (int i = 0; i < m; i++)
        {
            Span<float> row = c.Slice(i * ldc, n);
            if (beta == 0) row.Clear();
            else System.Numerics.Tensors.TensorPrimitives.Multiply(row, beta, row);
        }
    }

    /// <summary>Throws unless a rows×cols matrix with leading dimension <paramref name="ld"/> fits in <paramref name="length"/> floats.</summary>
    internal static void ValidateMatrix(int rows, int cols, int length, int ld, string name, string ldName)
    {
        if (ld < cols)
            throw new ArgumentOutOfRangeException(ldName, ld, $"The leading dimension must be at least the row width {cols}.");
        long needed = rows == 0 || cols == 0 ? 0 : (long)(rows - 1) * ld + cols;
        if (length < needed)
            throw new ArgumentException($"A {rows}×{cols} matrix with leading dimension {ld} needs {needed} elements; the span has {length}.", name);
    }
}

/// <summary>The GEMM micro-kernel families, from the most portable to the widest.</summary>
internal enum SgemmKernelKind
{
    /// <summary>Scalar 4×4, no fused multiply-add: any machine.</summary>
    Scalar,

    /// <summary>Vector256 6×16 with FMA (x86-64-v3).</summary>
    Avx2Fma,

    /// <summary>Vector512 12×32 with FMA (AVX-512F).</summary>
    Avx512Fma,
}
