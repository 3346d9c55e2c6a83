using System.Runtime.CompilerServices;

namespace Dopant.Numerics;

/// <summary>
/// A register-blocked GEMM micro-kernel: it computes one MR×NR tile of C from a packed micro-panel of A and kc rows
/// of B. The blocked driver (<see cref="SgemmDriver"/>) is generic over it so that each kernel gets its own
/// specialised copy of the loops.
/// </summary>
internal unsafe interface ISgemmMicroKernel
{
    /// <summary>The rows of C per tile (the broadcast side).</summary>
    static abstract int MR { get; }

    /// <summary>The columns of C per tile (the vector side).</summary>
    static abstract int NR { get; }

    /// <summary>
    /// C[mr×nr] = alpha · Ã · B + beta · C, where Ã is a packed micro-panel (element (r, p) at a[p·mr + r]) and row p
    /// of B starts at b + p·ldb with at least NR readable floats (zero padding past nr). With beta = 0, C is not read.
    /// </summary>
    static abstract void Tile(int mr, int nr, int kc, float* a, float* b, nint ldb, float* c, nint ldc, float alpha, float beta);
}

/// <summary>Helpers shared by the micro-kernels.</summary>
internal static unsafe class SgemmMicroKernel
{
    /// <summary>
    /// Applies C = alpha·T + beta·C to the valid rows × cols corner of the accumulator tile <paramref name="t"/>,
    /// rounding exactly as the vector update does (fused multiply-add when <paramref name="fused"/>), so that an
    /// element gets the same bits whether it lies in a full tile or an edge tile.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void UpdateEdge(int rows, int cols, float* t, int ldt, float* c, nint ldc, float alpha, float beta, bool fused)
    {
        for (int r = 0; r < rows; r++)
        {
            float* tr = t + r * ldt;
            float* cr = c + r * ldc;
            for (int j = 0; j < cols; j++)
            {
                float v = tr[j] * alpha;
                if (beta == 0) cr[j] = v;
                else if (beta == 1) cr[j] += v;
                else cr[j] = fused ? MathF.FusedMultiplyAdd(cr[j], beta, v) : cr[j] * beta + v;
            }
        }
    }
}
