namespace Dopant.Numerics;

/// <summary>
/// The portable micro-kernel for machines without AVX2 + FMA: a 4×4 tile of C in 16 scalar accumulators, with
/// separate multiply and add (a software fused multiply-add would be far slower). Same blocking scheme as the
/// vector kernels (Goto and van de Geijn, ACM TOMS 34(3), 2008).
/// </summary>
internal readonly unsafe struct SgemmKernelScalar : ISgemmMicroKernel
{
    /// <inheritdoc/>
    public static int MR => 4;
    /// <inheritdoc/>
    public static int NR => 4;

    /// <inheritdoc/>
    public static void Tile(int mr, int nr, int kc, float* a, float* b, nint ldb, float* c, nint ldc, float alpha, float beta)
    {
        switch (mr)
        {
            case 1: Tile<C1>(nr, kc, a, b, ldb, c, ldc, alpha, beta); break;
            case 2: Tile<C2>(nr, kc, a, b, ldb, c, ldc, alpha, beta); break;
            case 3: Tile<C3>(nr, kc, a, b, ldb, c, ldc, alpha, beta); break;
            case 4: Tile<C4>(nr, kc, a, b, ldb, c, ldc, alpha, beta); break;
            default: throw new ArgumentOutOfRangeException(nameof(mr));
        }
    }

    private static void Tile<TRows>(int nr, int kc, float* a, float* b, nint ldb, float* c, nint ldc, float alpha, float beta)
        where TRows : struct, IConstant
    {
        switch (nr)
        {
            case 1: Tile<TRows, C1>(kc, a, b, ldb, c, ldc, alpha, beta); break;
            case 2: Tile<TRows, C2>(kc, a, b, ldb, c, ldc, alpha, beta); break;
            case 3: Tile<TRows, C3>(kc, a, b, ldb, c, ldc, alpha, beta); break;
            case 4: Tile<TRows, C4>(kc, a, b, ldb, c, ldc, alpha, beta); break;
            default: throw new ArgumentOutOfRangeException(nameof(nr));
        }
    }

    private static void Tile<TRows, TCols>(int kc, float* a, float* b, nint ldb, float* c, nint ldc, float alpha, float beta)
        where TRows : struct, IConstant where TCols : struct, IConstant
    {
        int rows = TRows.Value, cols = TCols.Value;
        float c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0, c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
        for (int p = 0; p < kc; p++)
        {
            float b0 = b[0], b1 = cols > 1 ? b[1] : 0, b2 = cols > 2 ? b[2] : 0, b3 = cols > 3 ? b[3] : 0;
            { float x = a[0]; c00 += x * b0; if (cols > 1) c01 += x * b1; if (cols > 2) c02 += x * b2; if (cols > 3) c03 += x * b3; }
            if (rows > 1) { float x = a[1]; c10 += x * b0; if (cols > 1) c11 += x * b1; if (cols > 2) c12 += x * b2; if (cols > 3) c13 += x * b3; }
            if (rows > 2) { float x = a[2]; c20 += x * b0; if (cols > 1) c21 += x * b1; if (cols > 2) c22 += x * b2; if (cols > 3) c23 += x * b3; }
            if (rows > 3) { float x = a[3]; c30 += x * b0; if (cols > 1) c31 += x * b1; if (cols > 2) c32 += x * b2; if (cols > 3) c33 += x * b3; }
            a += rows;
            b += ldb;
        }
        { Update(c + 0 * ldc, c00, alpha, beta); if (cols > 1) Update(c + 0 * ldc + 1, c01, alpha, beta); if (cols > 2) Update(c + 0 * ldc + 2, c02, alpha, beta); if (cols > 3) Update(c + 0 * ldc + 3, c03, alpha, beta); }
        if (rows > 1) { Update(c + 1 * ldc, c10, alpha, beta); if (cols > 1) Update(c + 1 * ldc + 1, c11, alpha, beta); if (cols > 2) Update(c + 1 * ldc + 2, c12, alpha, beta); if (cols > 3) Update(c + 1 * ldc + 3, c13, alpha, beta); }
        if (rows > 2) { Update(c + 2 * ldc, c20, alpha, beta); if (cols > 1) Update(c + 2 * ldc + 1, c21, alpha, beta); if (cols > 2) Update(c + 2 * ldc + 2, c22, alpha, beta); if (cols > 3) Update(c + 2 * ldc + 3, c23, alpha, beta); }
        if (rows > 3) { Update(c + 3 * ldc, c30, alpha, beta); if (cols > 1) Update(c + 3 * ldc + 1, c31, alpha, beta); if (cols > 2) Update(c + 3 * ldc + 2, c32, alpha, beta); if (cols > 3) Update(c + 3 * ldc + 3, c33, alpha, beta); }
    }

    private static void Update(float* c, float acc, float alpha, float beta)
    {
        float v = acc * alpha;
        if (beta == 0) *c = v;
        else if (beta == 1) *c += v;
        else *c = *c * beta + v;
    }
}
