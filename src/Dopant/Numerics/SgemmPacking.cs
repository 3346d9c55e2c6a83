using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Dopant.Numerics;

/// <summary>
/// Copies blocks of op(A) and op(B) into the contiguous micro-panel layouts the micro-kernels stream through
/// (Goto and van de Geijn, ACM TOMS 34(3), 2008, §4). The transposes are absorbed here, so one kernel serves all
/// four combinations of transA and transB.
/// </summary>
internal static unsafe class SgemmPacking
{
    /// <summary>
    /// Packs op(A)[i0 : i0+mc, p0 : p0+kc] as consecutive micro-panels of <paramref name="mr"/> rows: the panel of
    /// rows ir.. starts at dst + ir·kc and holds element (r, p) at p·rows + r, where rows = min(mr, mc − ir).
    /// </summary>
    public static void PackA(bool transA, float* a, nint lda, int i0, int p0, int mc, int kc, int mr, float* dst)
    {
        for (int ir = 0; ir < mc; ir += mr)
        {
            int rows = Math.Min(mr, mc - ir);
            float* d = dst + (nint)ir * kc;
            if (transA)
            {
                // op(A) rows are columns of A: each k step is a contiguous run of `rows` floats.
                float* src = a + (nint)p0 * lda + i0 + ir;
                for (int p = 0; p < kc; p++, src += lda, d += rows)
                    CopySmall(src, d, rows);
            }
            else
            {
                int p0v = 0;
                if (Avx512F.IsSupported && rows <= 16)
                {
                    // 16 k steps at a time through a register transpose (rows beyond the panel read as zero).
                    float* src = a + (nint)(i0 + ir) * lda + p0;
                    for (; p0v + 16 <= kc; p0v += 16)
                        Transpose16x16(src + p0v, lda, rows, d + (nint)p0v * rows, rows);
                }
                for (int r = 0; r < rows; r++)
                {
                    float* src = a + (nint)(i0 + ir + r) * lda + p0;
                    float* dr = d + r;
                    for (int p = p0v; p < kc; p++)
                        dr[(nint)p * rows] = src[p];
                }
            }
        }
    }

    /// <summary>
    /// Packs op(B)[p0 : p0+kc, j0 : j0+nc] as consecutive micro-panels of <paramref name="nr"/> columns: the panel of
    /// columns jr.. starts at dst + jr·kc and holds element (p, j) at p·nr + j, zero-padded to nr columns.
    /// </summary>
    public static void PackB(bool transB, float* b, nint ldb, int p0, int j0, int kc, int nc, int nr, float* dst)
    {
        for (int jr = 0; jr < nc; jr += nr)
            PackBPanel(transB, b, ldb, p0, j0 + jr, kc, Math.Min(nr, nc - jr), nr, dst + (nint)jr * kc);
    }

    /// <summary>Packs one micro-panel of <paramref name="cols"/> ≤ <paramref name="nr"/> columns of op(B).</summary>
    public static void PackBPanel(bool transB, float* b, nint ldb, int p0, int j0, int kc, int cols, int nr, float* d)
    {
        if (!transB)
        {
            float* src = b + (nint)p0 * ldb + j0;
            if (cols == nr)
            {
                for (int p = 0; p < kc; p++, src += ldb, d += nr)
                    CopySmall(src, d, nr);
            }
            else
            {
                for (int p = 0; p < kc; p++, src += ldb, d += nr)
                {
                    CopySmall(src, d, cols);
                    new Span<float>(d + cols, nr - cols).Clear();
                }
            }
        }
        else
        {
            int j = 0;
            if (Avx512F.IsSupported && nr % 16 == 0 && kc >= 16)
            {
                // Whole 16×16 blocks through registers; the k tail and a ragged column edge go element by element.
                int kc16 = kc & ~15;
                for (; j + 16 <= cols; j += 16)
                {
                    float* src = b + (nint)(j0 + j) * ldb + p0;
                    for (int p = 0; p < kc16; p += 16)
                        Transpose16x16(src + p, ldb, 16, d + (nint)p * nr + j, nr);
                    for (int jj = j; jj < j + 16; jj++)
                    {
                        float* s = b + (nint)(j0 + jj) * ldb + p0;
                        for (int p = kc16; p < kc; p++)
                            d[(nint)p * nr + jj] = s[p];
                    }
                }
            }
            // op(B) columns are rows of B: gather each k step across `cols` rows.
            for (; j < cols; j++)
            {
                float* src = b + (nint)(j0 + j) * ldb + p0;
                float* dj = d + j;
                for (int p = 0; p < kc; p++)
                    dj[(nint)p * nr] = src[p];
            }
            if (cols < nr)
                for (int p = 0; p < kc; p++)
                    new Span<float>(d + (nint)p * nr + cols, nr - cols).Clear();
        }
    }

    /// <summary>
    /// dst[q·ldd + i] = src[i·lds + q] for q &lt; 16 and i &lt; <paramref name="rows"/> (≤ 16): a 16×16 transpose in
    /// four rounds of 16 shuffles (32-bit and 64-bit unpacks, then two 128-bit lane shuffles). Missing rows read
    /// as zero; with fewer than 16 rows only the first <paramref name="rows"/> floats of each output row are written.
    /// </summary>
    internal static void Transpose16x16(float* src, nint lds, int rows, float* dst, nint ldd)
    {
        Vector512<float> r0 = Row(src, lds, 0, rows), r1 = Row(src, lds, 1, rows), r2 = Row(src, lds, 2, rows), r3 = Row(src, lds, 3, rows);
        Vector512<float> r4 = Row(src, lds, 4, rows), r5 = Row(src, lds, 5, rows), r6 = Row(src, lds, 6, rows), r7 = Row(src, lds, 7, rows);
        Vector512<float> r8 = Row(src, lds, 8, rows), r9 = Row(src, lds, 9, rows), r10 = Row(src, lds, 10, rows), r11 = Row(src, lds, 11, rows);
        Vector512<float> r12 = Row(src, lds, 12, rows), r13 = Row(src, lds, 13, rows), r14 = Row(src, lds, 14, rows), r15 = Row(src, lds, 15, rows);

        // Lane L of t(2q) holds rows 2q, 2q+1 at columns 4L, 4L+1; of t(2q+1) at columns 4L+2, 4L+3.
        Vector512<double> t0 = Avx512F.UnpackLow(r0, r1).AsDouble(), t1 = Avx512F.UnpackHigh(r0, r1).AsDouble();
        Vector512<double> t2 = Avx512F.UnpackLow(r2, r3).AsDouble(), t3 = Avx512F.UnpackHigh(r2, r3).AsDouble();
        Vector512<double> t4 = Avx512F.UnpackLow(r4, r5).AsDouble(), t5 = Avx512F.UnpackHigh(r4, r5).AsDouble();
        Vector512<double> t6 = Avx512F.UnpackLow(r6, r7).AsDouble(), t7 = Avx512F.UnpackHigh(r6, r7).AsDouble();
        Vector512<double> t8 = Avx512F.UnpackLow(r8, r9).AsDouble(), t9 = Avx512F.UnpackHigh(r8, r9).AsDouble();
        Vector512<double> t10 = Avx512F.UnpackLow(r10, r11).AsDouble(), t11 = Avx512F.UnpackHigh(r10, r11).AsDouble();
        Vector512<double> t12 = Avx512F.UnpackLow(r12, r13).AsDouble(), t13 = Avx512F.UnpackHigh(r12, r13).AsDouble();
        Vector512<double> t14 = Avx512F.UnpackLow(r14, r15).AsDouble(), t15 = Avx512F.UnpackHigh(r14, r15).AsDouble();

        // Lane L of u(4g+c) holds column 4L+c of rows 4g..4g+3.
        Vector512<float> u0 = Avx512F.UnpackLow(t0, t2).AsSingle(), u1 = Avx512F.UnpackHigh(t0, t2).AsSingle();
        Vector512<float> u2 = Avx512F.UnpackLow(t1, t3).AsSingle(), u3 = Avx512F.UnpackHigh(t1, t3).AsSingle();
        Vector512<float> u4 = Avx512F.UnpackLow(t4, t6).AsSingle(), u5 = Avx512F.UnpackHigh(t4, t6).AsSingle();
        Vector512<float> u6 = Avx512F.UnpackLow(t5, t7).AsSingle(), u7 = Avx512F.UnpackHigh(t5, t7).AsSingle();
        Vector512<float> u8 = Avx512F.UnpackLow(t8, t10).AsSingle(), u9 = Avx512F.UnpackHigh(t8, t10).AsSingle();
        Vector512<float> u10 = Avx512F.UnpackLow(t9, t11).AsSingle(), u11 = Avx512F.UnpackHigh(t9, t11).AsSingle();
        Vector512<float> u12 = Avx512F.UnpackLow(t12, t14).AsSingle(), u13 = Avx512F.UnpackHigh(t12, t14).AsSingle();
        Vector512<float> u14 = Avx512F.UnpackLow(t13, t15).AsSingle(), u15 = Avx512F.UnpackHigh(t13, t15).AsSingle();

        // Output row 4L+c gathers lane L of u(c), u(4+c), u(8+c), u(12+c).
        Vector512<float> mask = rows >= 16 ? Vector512<float>.AllBitsSet
            : Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(rows)).AsSingle();
        TransposeLanes(u0, u4, u8, u12, dst, ldd, mask, rows);
        TransposeLanes(u1, u5, u9, u13, dst + ldd, ldd, mask, rows);
        TransposeLanes(u2, u6, u10, u14, dst + 2 * ldd, ldd, mask, rows);
        TransposeLanes(u3, u7, u11, u15, dst + 3 * ldd, ldd, mask, rows);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Row(float* src, nint lds, int i, int rows)
        => i < rows ? Vector512.Load(src + i * lds) : Vector512<float>.Zero;

    /// <summary>Writes lanes 0..3 of the column chunks (x, y, z, w) as rows dst, dst + 4·ldd, dst + 8·ldd, dst + 12·ldd.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void TransposeLanes(Vector512<float> x, Vector512<float> y, Vector512<float> z, Vector512<float> w,
        float* dst, nint ldd, Vector512<float> mask, int rows)
    {
        Vector512<float> a = Avx512F.Shuffle4x128(x, y, 0x44), b = Avx512F.Shuffle4x128(x, y, 0xEE);
        Vector512<float> a2 = Avx512F.Shuffle4x128(z, w, 0x44), b2 = Avx512F.Shuffle4x128(z, w, 0xEE);
        StoreRow(Avx512F.Shuffle4x128(a, a2, 0x88), dst, mask, rows);
        StoreRow(Avx512F.Shuffle4x128(a, a2, 0xDD), dst + 4 * ldd, mask, rows);
        StoreRow(Avx512F.Shuffle4x128(b, b2, 0x88), dst + 8 * ldd, mask, rows);
        StoreRow(Avx512F.Shuffle4x128(b, b2, 0xDD), dst + 12 * ldd, mask, rows);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow(Vector512<float> v, float* dst, Vector512<float> mask, int rows)
    {
        if (rows >= 16) v.Store(dst);
        else Avx512F.MaskStore(dst, mask, v);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopySmall(float* src, float* dst, int count)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; i + 16 <= count; i += 16) Vector512.Store(Vector512.Load(src + i), dst + i);
        if (Vector256.IsHardwareAccelerated)
            for (; i + 8 <= count; i += 8) Vector256.Store(Vector256.Load(src + i), dst + i);
        for (; i < count; i++) dst[i] = src[i];
    }
}
