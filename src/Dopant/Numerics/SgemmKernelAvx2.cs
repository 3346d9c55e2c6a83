using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Dopant.Numerics;

/// <summary>
/// The AVX2 + FMA micro-kernel: a 6×16 tile of C held in 12 ymm accumulators (the Haswell shape of BLIS: Van Zee and
/// van de Geijn, "BLIS: a framework for rapidly instantiating BLAS functionality", ACM TOMS 41(3), 2015).
/// </summary>
[SkipLocalsInit]
internal readonly unsafe struct SgemmKernelAvx2 : ISgemmMicroKernel
{
    /// <inheritdoc/>
    public static int MR => 6;
    /// <inheritdoc/>
    public static int NR => 16;

    /// <inheritdoc/>
    public static void Tile(int mr, int nr, int kc, float* a, float* b, nint ldb, float* c, nint ldc, float alpha, float beta)
    {
        switch (mr)
        {
            case 1: Tile<C1>(nr, kc, a, b, ldb, c, ldc, alpha, beta); break;
            case 2: Tile<C2>(nr, kc, a, b, ldb, c, ldc, alpha, beta); break;
            case 3: Tile<C3>(nr, kc, a, b, ldb, c, ldc, alpha, beta); break;
            case 4: Tile<C4>(nr, kc, a, b, ldb, c, ldc, alpha, beta); break;
            case 5: Tile<C5>(nr, kc, a, b, ldb, c, ldc, alpha, beta); break;
            case 6: Tile<C6>(nr, kc, a, b, ldb, c, ldc, alpha, beta); break;
            default: throw new ArgumentOutOfRangeException(nameof(mr));
        }
    }

    private static void Tile<TRows>(int nr, int kc, float* a, float* b, nint ldb, float* c, nint ldc, float alpha, float beta)
        where TRows : struct, IConstant
    {
        if (nr <= 8) Tile<TRows, C1>(nr, kc, a, b, ldb, c, ldc, alpha, beta);
        else Tile<TRows, C2>(nr, kc, a, b, ldb, c, ldc, alpha, beta);
    }

    // Rows beyond TRows and the second column vector when TVecs is 1 are folded away by the JIT.
    private static void Tile<TRows, TVecs>(int nr, int kc, float* a, float* b, nint ldb, float* c, nint ldc, float alpha, float beta)
        where TRows : struct, IConstant where TVecs : struct, IConstant
    {
        int rows = TRows.Value;
        bool two = TVecs.Value == 2;
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        int p = 0;
        // Four steps per trip; each accumulator sees the same FMAs in the same order as one step per trip.
        for (; p + 4 <= kc; p += 4)
        {
            Step<TRows, TVecs>(a, b, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31, ref c40, ref c41, ref c50, ref c51);
            Step<TRows, TVecs>(a + rows, b + ldb, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31, ref c40, ref c41, ref c50, ref c51);
            Step<TRows, TVecs>(a + 2 * rows, b + 2 * ldb, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31, ref c40, ref c41, ref c50, ref c51);
            Step<TRows, TVecs>(a + 3 * rows, b + 3 * ldb, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31, ref c40, ref c41, ref c50, ref c51);
            a += 4 * rows;
            b += 4 * ldb;
        }
        for (; p < kc; p++)
        {
            Step<TRows, TVecs>(a, b, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31, ref c40, ref c41, ref c50, ref c51);
            a += rows;
            b += ldb;
        }

        if (nr == TVecs.Value * 8)
        {
            { Update(c + 0 * ldc, c00, alpha, beta); if (two) Update(c + 0 * ldc + 8, c01, alpha, beta); }
            if (rows > 1) { Update(c + 1 * ldc, c10, alpha, beta); if (two) Update(c + 1 * ldc + 8, c11, alpha, beta); }
            if (rows > 2) { Update(c + 2 * ldc, c20, alpha, beta); if (two) Update(c + 2 * ldc + 8, c21, alpha, beta); }
            if (rows > 3) { Update(c + 3 * ldc, c30, alpha, beta); if (two) Update(c + 3 * ldc + 8, c31, alpha, beta); }
            if (rows > 4) { Update(c + 4 * ldc, c40, alpha, beta); if (two) Update(c + 4 * ldc + 8, c41, alpha, beta); }
            if (rows > 5) { Update(c + 5 * ldc, c50, alpha, beta); if (two) Update(c + 5 * ldc + 8, c51, alpha, beta); }
        }
        else
        {
            // A ragged right edge goes through a stack tile; the scalar update rounds exactly like Update.
            float* t = stackalloc float[6 * 16];
            { c00.Store(t + 0); if (two) c01.Store(t + 8); }
            if (rows > 1) { c10.Store(t + 16); if (two) c11.Store(t + 24); }
            if (rows > 2) { c20.Store(t + 32); if (two) c21.Store(t + 40); }
            if (rows > 3) { c30.Store(t + 48); if (two) c31.Store(t + 56); }
            if (rows > 4) { c40.Store(t + 64); if (two) c41.Store(t + 72); }
            if (rows > 5) { c50.Store(t + 80); if (two) c51.Store(t + 88); }
            SgemmMicroKernel.UpdateEdge(rows, nr, t, 16, c, ldc, alpha, beta, fused: true);
        }
    }

    // One rank-1 update of the tile: row r of C += a[r] · b[0..16).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Step<TRows, TVecs>(float* a, float* b,
        ref Vector256<float> c00, ref Vector256<float> c01, ref Vector256<float> c10, ref Vector256<float> c11,
        ref Vector256<float> c20, ref Vector256<float> c21, ref Vector256<float> c30, ref Vector256<float> c31,
        ref Vector256<float> c40, ref Vector256<float> c41, ref Vector256<float> c50, ref Vector256<float> c51)
        where TRows : struct, IConstant where TVecs : struct, IConstant
    {
        int rows = TRows.Value;
        bool two = TVecs.Value == 2;
        Vector256<float> b0 = Vector256.Load(b);
        Vector256<float> b1 = two ? Vector256.Load(b + 8) : default;
        Vector256<float> x;
        x = Vector256.Create(a[0]); c00 = Vector256.FusedMultiplyAdd(x, b0, c00); if (two) c01 = Vector256.FusedMultiplyAdd(x, b1, c01);
        if (rows > 1) { x = Vector256.Create(a[1]); c10 = Vector256.FusedMultiplyAdd(x, b0, c10); if (two) c11 = Vector256.FusedMultiplyAdd(x, b1, c11); }
        if (rows > 2) { x = Vector256.Create(a[2]); c20 = Vector256.FusedMultiplyAdd(x, b0, c20); if (two) c21 = Vector256.FusedMultiplyAdd(x, b1, c21); }
        if (rows > 3) { x = Vector256.Create(a[3]); c30 = Vector256.FusedMultiplyAdd(x, b0, c30); if (two) c31 = Vector256.FusedMultiplyAdd(x, b1, c31); }
        if (rows > 4) { x = Vector256.Create(a[4]); c40 = Vector256.FusedMultiplyAdd(x, b0, c40); if (two) c41 = Vector256.FusedMultiplyAdd(x, b1, c41); }
        if (rows > 5) { x = Vector256.Create(a[5]); c50 = Vector256.FusedMultiplyAdd(x, b0, c50); if (two) c51 = Vector256.FusedMultiplyAdd(x, b1, c51); }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Update(float* c, Vector256<float> acc, float alpha, float beta)
    {
        Vector256<float> v = acc * alpha;
        if (beta == 0) v.Store(c);
        else if (beta == 1) (Vector256.Load(c) + v).Store(c);
        else Vector256.FusedMultiplyAdd(Vector256.Load(c), Vector256.Create(beta), v).Store(c);
    }
}
