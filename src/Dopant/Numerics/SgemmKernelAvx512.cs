using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Dopant.Numerics;

/// <summary>
/// The AVX-512 micro-kernel: a 12×32 tile of C held in 24 zmm accumulators, updated per step of k with two loads
/// of B, twelve broadcasts of A and 24 FMAs (the register-blocked kernel of Goto and van de Geijn, "Anatomy of
/// high-performance matrix multiplication", ACM TOMS 34(3), 2008, shaped for row-major C as in BLIS).
/// </summary>
[SkipLocalsInit]
internal readonly unsafe struct SgemmKernelAvx512 : ISgemmMicroKernel
{
    /// <inheritdoc/>
    public static int MR => 12;
    /// <inheritdoc/>
    public static int NR => 32;

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
            case 7: Tile<C7>(nr, kc, a, b, ldb, c, ldc, alpha, beta); break;
            case 8: Tile<C8>(nr, kc, a, b, ldb, c, ldc, alpha, beta); break;
            case 9: Tile<C9>(nr, kc, a, b, ldb, c, ldc, alpha, beta); break;
            case 10: Tile<C10>(nr, kc, a, b, ldb, c, ldc, alpha, beta); break;
            case 11: Tile<C11>(nr, kc, a, b, ldb, c, ldc, alpha, beta); break;
            case 12: Tile<C12>(nr, kc, a, b, ldb, c, ldc, alpha, beta); break;
            default: throw new ArgumentOutOfRangeException(nameof(mr));
        }
    }

    private static void Tile<TRows>(int nr, int kc, float* a, float* b, nint ldb, float* c, nint ldc, float alpha, float beta)
        where TRows : struct, IConstant
    {
        if (nr <= 16) Tile<TRows, C1>(nr, kc, a, b, ldb, c, ldc, alpha, beta);
        else Tile<TRows, C2>(nr, kc, a, b, ldb, c, ldc, alpha, beta);
    }

    // Rows beyond TRows and the second column vector when TVecs is 1 are folded away by the JIT.
    private static void Tile<TRows, TVecs>(int nr, int kc, float* a, float* b, nint ldb, float* c, nint ldc, float alpha, float beta)
        where TRows : struct, IConstant where TVecs : struct, IConstant
    {
        int rows = TRows.Value;
        bool two = TVecs.Value == 2;
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default, c60 = default, c61 = default, c70 = default, c71 = default, c80 = default, c81 = default, c90 = default, c91 = default, ca0 = default, ca1 = default, cb0 = default, cb1 = default;
        for (int p = 0; p < kc; p++)
        {
            Vector512<float> b0 = Vector512.Load(b);
            Vector512<float> b1 = two ? Vector512.Load(b + 16) : default;
            Vector512<float> x;
            x = Vector512.Create(a[0]); c00 = Vector512.FusedMultiplyAdd(x, b0, c00); if (two) c01 = Vector512.FusedMultiplyAdd(x, b1, c01);
            if (rows > 1) { x = Vector512.Create(a[1]); c10 = Vector512.FusedMultiplyAdd(x, b0, c10); if (two) c11 = Vector512.FusedMultiplyAdd(x, b1, c11); }
            if (rows > 2) { x = Vector512.Create(a[2]); c20 = Vector512.FusedMultiplyAdd(x, b0, c20); if (two) c21 = Vector512.FusedMultiplyAdd(x, b1, c21); }
            if (rows > 3) { x = Vector512.Create(a[3]); c30 = Vector512.FusedMultiplyAdd(x, b0, c30); if (two) c31 = Vector512.FusedMultiplyAdd(x, b1, c31); }
            if (rows > 4) { x = Vector512.Create(a[4]); c40 = Vector512.FusedMultiplyAdd(x, b0, c40); if (two) c41 = Vector512.FusedMultiplyAdd(x, b1, c41); }
            if (rows > 5) { x = Vector512.Create(a[5]); c50 = Vector512.FusedMultiplyAdd(x, b0, c50); if (two) c51 = Vector512.FusedMultiplyAdd(x, b1, c51); }
            if (rows > 6) { x = Vector512.Create(a[6]); c60 = Vector512.FusedMultiplyAdd(x, b0, c60); if (two) c61 = Vector512.FusedMultiplyAdd(x, b1, c61); }
            if (rows > 7) { x = Vector512.Create(a[7]); c70 = Vector512.FusedMultiplyAdd(x, b0, c70); if (two) c71 = Vector512.FusedMultiplyAdd(x, b1, c71); }
            if (rows > 8) { x = Vector512.Create(a[8]); c80 = Vector512.FusedMultiplyAdd(x, b0, c80); if (two) c81 = Vector512.FusedMultiplyAdd(x, b1, c81); }
            if (rows > 9) { x = Vector512.Create(a[9]); c90 = Vector512.FusedMultiplyAdd(x, b0, c90); if (two) c91 = Vector512.FusedMultiplyAdd(x, b1, c91); }
            if (rows > 10) { x = Vector512.Create(a[10]); ca0 = Vector512.FusedMultiplyAdd(x, b0, ca0); if (two) ca1 = Vector512.FusedMultiplyAdd(x, b1, ca1); }
            if (rows > 11) { x = Vector512.Create(a[11]); cb0 = Vector512.FusedMultiplyAdd(x, b0, cb0); if (two) cb1 = Vector512.FusedMultiplyAdd(x, b1, cb1); }
            a += rows;
            b += ldb;
        }

        if (nr == TVecs.Value * 16)
        {
            { Update(c + 0 * ldc, c00, alpha, beta); if (two) Update(c + 0 * ldc + 16, c01, alpha, beta); }
            if (rows > 1) { Update(c + 1 * ldc, c10, alpha, beta); if (two) Update(c + 1 * ldc + 16, c11, alpha, beta); }
            if (rows > 2) { Update(c + 2 * ldc, c20, alpha, beta); if (two) Update(c + 2 * ldc + 16, c21, alpha, beta); }
            if (rows > 3) { Update(c + 3 * ldc, c30, alpha, beta); if (two) Update(c + 3 * ldc + 16, c31, alpha, beta); }
            if (rows > 4) { Update(c + 4 * ldc, c40, alpha, beta); if (two) Update(c + 4 * ldc + 16, c41, alpha, beta); }
            if (rows > 5) { Update(c + 5 * ldc, c50, alpha, beta); if (two) Update(c + 5 * ldc + 16, c51, alpha, beta); }
            if (rows > 6) { Update(c + 6 * ldc, c60, alpha, beta); if (two) Update(c + 6 * ldc + 16, c61, alpha, beta); }
            if (rows > 7) { Update(c + 7 * ldc, c70, alpha, beta); if (two) Update(c + 7 * ldc + 16, c71, alpha, beta); }
            if (rows > 8) { Update(c + 8 * ldc, c80, alpha, beta); if (two) Update(c + 8 * ldc + 16, c81, alpha, beta); }
            if (rows > 9) { Update(c + 9 * ldc, c90, alpha, beta); if (two) Update(c + 9 * ldc + 16, c91, alpha, beta); }
            if (rows > 10) { Update(c + 10 * ldc, ca0, alpha, beta); if (two) Update(c + 10 * ldc + 16, ca1, alpha, beta); }
            if (rows > 11) { Update(c + 11 * ldc, cb0, alpha, beta); if (two) Update(c + 11 * ldc + 16, cb1, alpha, beta); }
        }
        else
        {
            // A ragged right edge goes through a stack tile; the scalar update rounds exactly like Update.
            float* t = stackalloc float[12 * 32];
            { c00.Store(t + 0); if (two) c01.Store(t + 16); }
            if (rows > 1) { c10.Store(t + 32); if (two) c11.Store(t + 48); }
            if (rows > 2) { c20.Store(t + 64); if (two) c21.Store(t + 80); }
            if (rows > 3) { c30.Store(t + 96); if (two) c31.Store(t + 112); }
            if (rows > 4) { c40.Store(t + 128); if (two) c41.Store(t + 144); }
            if (rows > 5) { c50.Store(t + 160); if (two) c51.Store(t + 176); }
            if (rows > 6) { c60.Store(t + 192); if (two) c61.Store(t + 208); }
            if (rows > 7) { c70.Store(t + 224); if (two) c71.Store(t + 240); }
            if (rows > 8) { c80.Store(t + 256); if (two) c81.Store(t + 272); }
            if (rows > 9) { c90.Store(t + 288); if (two) c91.Store(t + 304); }
            if (rows > 10) { ca0.Store(t + 320); if (two) ca1.Store(t + 336); }
            if (rows > 11) { cb0.Store(t + 352); if (two) cb1.Store(t + 368); }
            SgemmMicroKernel.UpdateEdge(rows, nr, t, 32, c, ldc, alpha, beta, fused: true);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Update(float* c, Vector512<float> acc, float alpha, float beta)
    {
        Vector512<float> v = acc * alpha;
        if (beta == 0) v.Store(c);
        else if (beta == 1) (Vector512.Load(c) + v).Store(c);
        else Vector512.FusedMultiplyAdd(Vector512.Load(c), Vector512.Create(beta), v).Store(c);
    }
}
