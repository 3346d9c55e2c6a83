using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Dopant.Numerics;

public static partial class Blas
{
    /// <summary>
    /// C[m×n] = alpha · op(A) · op(B) + beta · C for <see cref="float"/> (the packed kernel) or
    /// <see cref="double"/> (a plain reference loop, used by gradient checks). Row-major; see <see cref="Sgemm"/>.
    /// </summary>
    public static void Gemm<T>(bool transA, bool transB, int m, int n, int k, T alpha,
        ReadOnlySpan<T> a, int lda, ReadOnlySpan<T> b, int ldb, T beta, Span<T> c, int ldc)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float))
        {
            Sgemm(transA, transB, m, n, k, Unsafe.As<T, float>(ref alpha),
                MemoryMarshal.Cast<T, float>(a), lda, MemoryMarshal.Cast<T, float>(b), ldb,
                Unsafe.As<T, float>(ref beta), MemoryMarshal.Cast<T, float>(c), ldc);
            return;
        }
        ReferenceGemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }

    /// <summary>Straightforward GEMM accumulated in <typeparamref name="T"/>; the reference for any element type.</summary>
    internal static void ReferenceGemm<T>(bool transA, bool transB, int m, int n, int k, T alpha,
        ReadOnlySpan<T> a, int lda, ReadOnlySpan<T> b, int ldb, T beta, Span<T> c, int ldc)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < m; i++)
        {
            Span<T> row = c.Slice(i * ldc, n);
            if (T.IsZero(beta)) row.Clear();
            else if (beta != T.One)
                for (int j = 0; j < n; j++) row[j] *= beta;
            for (int p = 0; p < k; p++)
            {
                T aip = alpha * (transA ? a[p * lda + i] : a[i * lda + p]);
                if (transB)
                    for (int j = 0; j < n; j++) row[j] += aip * b[j * ldb + p];
                else
                {
                    ReadOnlySpan<T> brow = b.Slice(p * ldb, n);
                    for (int j = 0; j < n; j++) row[j] += aip * brow[j];
                }
            }
        }
    }
}
