using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Dopant.Inference;

/// <summary>
/// C = A·B for products too small to pay a GEMM call's packing and dispatch: C (m × n) and B (k × n) row-major with
/// n a multiple of 8 (callers pad with zero columns), A read through strides (element (i, p) at
/// i·<c>rowStride</c> + p·<c>depthStride</c>), so that a transposed or reshaped operand needs no copy. Each row of C
/// is built in registers, four rows by 16 columns at a time (eight accumulator chains, one broadcast of A and two
/// FMAs per row and step of the inner dimension).
/// </summary>
internal static class SmallProduct
{
    /// <summary>Rounds <paramref name="n"/> up to the vector width the kernel works in.</summary>
    public static int Padded(int n) => (n + 7) & ~7;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Multiply(ReadOnlySpan<float> a, int rowStride, int depthStride, ReadOnlySpan<float> b, Span<float> c,
        int m, int k, int n)
    {
        if ((n & 7) != 0) throw new ArgumentException("n must be a multiple of 8.", nameof(n));
        if (c.Length < m * n || b.Length < k * n || (m > 0 && k > 0 && a.Length <= (m - 1) * rowStride + (k - 1) * depthStride))
            throw new ArgumentException("Operand too short for the product's sizes.");
        if (!Vector256.IsHardwareAccelerated)
        {
            MultiplyScalar(a, rowStride, depthStride, b, c, m, k, n);
            return;
        }
        ref float pa = ref MemoryMarshal.GetReference(a);
        ref float pb = ref MemoryMarshal.GetReference(b);
        ref float pc = ref MemoryMarshal.GetReference(c);
        int i = 0;
        for (; i + 4 <= m; i += 4)
            FourRows(ref Unsafe.Add(ref pa, i * rowStride), rowStride, depthStride, ref pb, ref Unsafe.Add(ref pc, i * n), k, n);
        for (; i < m; i++)
            OneRow(ref Unsafe.Add(ref pa, i * rowStride), depthStride, ref pb, ref Unsafe.Add(ref pc, i * n), k, n);
    }

    // Four rows of C, 16 columns at a time: eight independent accumulator chains, enough to hide the FMA latency.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void FourRows(ref float a, int rowStride, int depthStride, ref float b, ref float c, int k, int n)
    {
        ref float a1 = ref Unsafe.Add(ref a, rowStride);
        ref float a2 = ref Unsafe.Add(ref a, 2 * rowStride);
        ref float a3 = ref Unsafe.Add(ref a, 3 * rowStride);
        int j = 0;
        for (; j + 16 <= n; j += 16)
        {
            Vector256<float> s00 = Vector256<float>.Zero, s01 = s00, s10 = s00, s11 = s00, s20 = s00, s21 = s00, s30 = s00, s31 = s00;
            ref float bj = ref Unsafe.Add(ref b, j);
            for (int p = 0, ap = 0; p < k; p++, ap += depthStride)
            {
                ref float row = ref Unsafe.Add(ref bj, p * n);
                Vector256<float> b0 = Vector256.LoadUnsafe(ref row), b1 = Vector256.LoadUnsafe(ref row, 8);
                var v = Vector256.Create(Unsafe.Add(ref a, ap));
                s00 = Vector256.FusedMultiplyAdd(v, b0, s00);
                s01 = Vector256.FusedMultiplyAdd(v, b1, s01);
                v = Vector256.Create(Unsafe.Add(ref a1, ap));
                s10 = Vector256.FusedMultiplyAdd(v, b0, s10);
                s11 = Vector256.FusedMultiplyAdd(v, b1, s11);
                v = Vector256.Create(Unsafe.Add(ref a2, ap));
                s20 = Vector256.FusedMultiplyAdd(v, b0, s20);
                s21 = Vector256.FusedMultiplyAdd(v, b1, s21);
                v = Vector256.Create(Unsafe.Add(ref a3, ap));
                s30 = Vector256.FusedMultiplyAdd(v, b0, s30);
                s31 = Vector256.FusedMultiplyAdd(v, b1, s31);
            }
            s00.StoreUnsafe(ref c, (nuint)j);
            s01.StoreUnsafe(ref c, (nuint)(j + 8));
            s10.StoreUnsafe(ref c, (nuint)(n + j));
            s11.StoreUnsafe(ref c, (nuint)(n + j + 8));
            s20.StoreUnsafe(ref c, (nuint)(2 * n + j));
            s21.StoreUnsafe(ref c, (nuint)(2 * n + j + 8));
            s30.StoreUnsafe(ref c, (nuint)(3 * n + j));
            s31.StoreUnsafe(ref c, (nuint)(3 * n + j + 8));
        }
        if (j < n)
        {
            Vector256<float> s0 = Vector256<float>.Zero, s1 = s0, s2 = s0, s3 = s0;
            ref float bj = ref Unsafe.Add(ref b, j);
            for (int p = 0, ap = 0; p < k; p++, ap += depthStride)
            {
                Vector256<float> b0 = Vector256.LoadUnsafe(ref Unsafe.Add(ref bj, p * n));
                s0 = Vector256.FusedMultiplyAdd(Vector256.Create(Unsafe.Add(ref a, ap)), b0, s0);
                s1 = Vector256.FusedMultiplyAdd(Vector256.Create(Unsafe.Add(ref a1, ap)), b0, s1);
                s2 = Vector256.FusedMultiplyAdd(Vector256.Create(Unsafe.Add(ref a2, ap)), b0, s2);
                s3 = Vector256.FusedMultiplyAdd(Vector256.Create(Unsafe.Add(ref a3, ap)), b0, s3);
            }
            s0.StoreUnsafe(ref c, (nuint)j);
            s1.StoreUnsafe(ref c, (nuint)(n + j));
            s2.StoreUnsafe(ref c, (nuint)(2 * n + j));
            s3.StoreUnsafe(ref c, (nuint)(3 * n + j));
        }
    }

    // One row of C, 32 columns (four accumulators) at a time, then 8.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void OneRow(ref float a, int depthStride, ref float b, ref float c, int k, int n)
    {
        int j = 0;
        for (; j + 32 <= n; j += 32)
        {
            Vector256<float> s0 = Vector256<float>.Zero, s1 = s0, s2 = s0, s3 = s0;
            ref float bj = ref Unsafe.Add(ref b, j);
            for (int p = 0; p < k; p++)
            {
                var v = Vector256.Create(Unsafe.Add(ref a, p * depthStride));
                ref float row = ref Unsafe.Add(ref bj, p * n);
                s0 = Vector256.FusedMultiplyAdd(v, Vector256.LoadUnsafe(ref row), s0);
                s1 = Vector256.FusedMultiplyAdd(v, Vector256.LoadUnsafe(ref row, 8), s1);
                s2 = Vector256.FusedMultiplyAdd(v, Vector256.LoadUnsafe(ref row, 16), s2);
                s3 = Vector256.FusedMultiplyAdd(v, Vector256.LoadUnsafe(ref row, 24), s3);
            }
            s0.StoreUnsafe(ref c, (nuint)j);
            s1.StoreUnsafe(ref c, (nuint)(j + 8));
            s2.StoreUnsafe(ref c, (nuint)(j + 16));
            s3.StoreUnsafe(ref c, (nuint)(j + 24));
        }
        for (; j < n; j += 8)
        {
            Vector256<float> s0 = Vector256<float>.Zero;
            ref float bj = ref Unsafe.Add(ref b, j);
            for (int p = 0; p < k; p++)
                s0 = Vector256.FusedMultiplyAdd(Vector256.Create(Unsafe.Add(ref a, p * depthStride)),
                    Vector256.LoadUnsafe(ref Unsafe.Add(ref bj, p * n)), s0);
            s0.StoreUnsafe(ref c, (nuint)j);
        }
    }

    private static void MultiplyScalar(ReadOnlySpan<float> a, int rowStride, int depthStride, ReadOnlySpan<float> b, Span<float> c,
        int m, int k, int n)
    {
        for (int i = 0; i < m; i++)
        {
            Span<float> ci = c.Slice(i * n, n);
            ci.Clear();
            for (int p = 0; p < k; p++)
            {
                float s = a[i * rowStride + p * depthStride];
                ReadOnlySpan<float> bp = b.Slice(p * n, n);
                for (int j = 0; j < n; j++) ci[j] = MathF.FusedMultiplyAdd(s, bp[j], ci[j]);
            }
        }
    }
}
