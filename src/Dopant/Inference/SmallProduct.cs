using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Dopant.Inference;

/// <summary>
/// C = A·B or C += A·B for products too small to pay a GEMM call's packing and dispatch: B (k × n, row stride ldb) and
/// C (m × n, row stride ldc) row-major with n a multiple of 4 (callers pad with zero columns otherwise), A read through
/// strides (element (i, p) at i·<c>rowStride</c> + p·<c>depthStride</c>), so that a transposed or reshaped operand
/// needs no copy. C's columns are taken 16 (AVX-512; without it, two strips of 8 across four rows), 8 and 4 at a time,
/// each across eight rows, then four, then one:
/// one broadcast of A and one FMA per row and step of the inner dimension, eight independent accumulator chains (four
/// rows take two chains each, one row four, over alternate steps of the inner dimension).
/// Adding into C in place lets a caller write straight into an output whose rows are not whole vectors.
/// </summary>
internal static class SmallProduct
{
    /// <summary>Rounds <paramref name="n"/> up to the narrowest vector the kernel works in.</summary>
    public static int Padded(int n) => (n + 3) & ~3;

    /// <summary>C = A·B (or C += A·B when <paramref name="accumulate"/>); see the class summary for the layout.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Multiply(ReadOnlySpan<float> a, int rowStride, int depthStride, ReadOnlySpan<float> b, int ldb,
        Span<float> c, int ldc, int m, int k, int n, bool accumulate)
    {
        if ((n & 3) != 0) throw new ArgumentException("n must be a multiple of 4.", nameof(n));
        if (m == 0 || n == 0) return;
        if (ldb < n || ldc < n || c.Length < (m - 1) * ldc + n || (k > 0 && b.Length < (k - 1) * ldb + n)
            || (k > 0 && a.Length <= (m - 1) * rowStride + (k - 1) * depthStride))
            throw new ArgumentException("Operand too short for the product's sizes.");
        if (!Vector128.IsHardwareAccelerated)
        {
            MultiplyScalar(a, rowStride, depthStride, b, ldb, c, ldc, m, k, n, accumulate);
            return;
        }
        var operands = new Operands(ref MemoryMarshal.GetReference(a), rowStride, depthStride,
            ref MemoryMarshal.GetReference(b), ldb, ref MemoryMarshal.GetReference(c), ldc, m, k, accumulate);
        int j = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; j + 16 <= n; j += 16)
            {
                int rest = n - j - 16;
                if (rest >= 16) Paired<Lanes16>(operands, j);
                else if (rest >= 8) Paired<Lanes8>(operands, j);
                else if (rest >= 4) Paired<Lanes4>(operands, j);
                else Paired<NoLanes>(operands, j);
                j += rest >= 16 ? 16 : rest >= 8 ? 8 : rest >= 4 ? 4 : 0;
            }
        else if (Vector256.IsHardwareAccelerated)
            for (; j + 16 <= n; j += 16) Sixteen256(operands, j);
        if (Vector256.IsHardwareAccelerated)
            for (; j + 8 <= n; j += 8) Columns<Lanes8>(operands, j);
        for (; j < n; j += 4) Columns<Lanes4>(operands, j);
    }

    private readonly ref struct Operands(ref float a, int rowStride, int depthStride, ref float b, int ldb, ref float c, int ldc,
        int m, int k, bool accumulate)
    {
        public readonly ref float A = ref a, B = ref b, C = ref c;
        public readonly int RowStride = rowStride, DepthStride = depthStride, Ldb = ldb, Ldc = ldc, M = m, K = k;
        public readonly bool Accumulate = accumulate;
    }

    // One strip of T.Count columns starting at j, all m rows: eight rows at a time, then four, then one. The row blocks
    // are compiled as methods of their own: inlined into one body, they left the JIT no budget to inline the vector
    // operations, and the kernel ran several times slower.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Columns<T>(in Operands o, int j) where T : struct, ILanes<T>
    {
        ref float b = ref Unsafe.Add(ref o.B, j);
        int i = 0;
        for (; i + 8 <= o.M; i += 8)
            EightRows<T>(ref Unsafe.Add(ref o.A, i * o.RowStride), o.RowStride, o.DepthStride, ref b, o.Ldb,
                ref Unsafe.Add(ref o.C, i * o.Ldc + j), o.Ldc, o.K, o.Accumulate);
        for (; i + 4 <= o.M; i += 4)
            FourRows<T>(ref Unsafe.Add(ref o.A, i * o.RowStride), o.RowStride, o.DepthStride, ref b, o.Ldb,
                ref Unsafe.Add(ref o.C, i * o.Ldc + j), o.Ldc, o.K, o.Accumulate);
        for (; i < o.M; i++)
            OneRow<T>(ref Unsafe.Add(ref o.A, i * o.RowStride), o.DepthStride, ref b, o.Ldb, ref Unsafe.Add(ref o.C, i * o.Ldc + j), o.K, o.Accumulate);
    }

    // A strip of 16 columns at j beside one of U.Count at j + 16 (AVX-512, whose 32 registers hold the 16 accumulators of
    // eight rows): each broadcast of A feeds both, halving the broadcasts per FMA. Four and single rows go strip by strip.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Paired<U>(in Operands o, int j) where U : struct, ILanes<U>
    {
        ref float b = ref Unsafe.Add(ref o.B, j);
        int i = 0;
        for (; i + 8 <= o.M; i += 8)
            PairedEightRows<U>(ref Unsafe.Add(ref o.A, i * o.RowStride), o.RowStride, o.DepthStride, ref b, o.Ldb,
                ref Unsafe.Add(ref o.C, i * o.Ldc + j), o.Ldc, o.K, o.Accumulate);
        if (i == o.M) return;
        var rest = new Operands(ref Unsafe.Add(ref o.A, i * o.RowStride), o.RowStride, o.DepthStride, ref o.B, o.Ldb,
            ref Unsafe.Add(ref o.C, i * o.Ldc), o.Ldc, o.M - i, o.K, o.Accumulate);
        Columns<Lanes16>(rest, j);
        if (U.Count > 0) Columns<U>(rest, j + 16);
    }

    // Without AVX-512 (16 vector registers): 16 columns as two 8-lane strips across four rows, eight accumulators, each
    // broadcast of A feeding two FMAs; the remaining rows strip by strip.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Sixteen256(in Operands o, int j)
    {
        ref float b = ref Unsafe.Add(ref o.B, j);
        int i = 0;
        for (; i + 4 <= o.M; i += 4)
            FourRowsSixteen256(ref Unsafe.Add(ref o.A, i * o.RowStride), o.RowStride, o.DepthStride, ref b, o.Ldb,
                ref Unsafe.Add(ref o.C, i * o.Ldc + j), o.Ldc, o.K, o.Accumulate);
        for (; i < o.M; i++)
        {
            ref float a = ref Unsafe.Add(ref o.A, i * o.RowStride);
            ref float c = ref Unsafe.Add(ref o.C, i * o.Ldc + j);
            OneRow<Lanes8>(ref a, o.DepthStride, ref b, o.Ldb, ref c, o.K, o.Accumulate);
            OneRow<Lanes8>(ref a, o.DepthStride, ref Unsafe.Add(ref b, 8), o.Ldb, ref Unsafe.Add(ref c, 8), o.K, o.Accumulate);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    private static void FourRowsSixteen256(ref float a, int rowStride, int depthStride, ref float b, int ldb, ref float c, int ldc, int k,
        bool accumulate)
    {
        Lanes8 s0 = default, s1 = s0, s2 = s0, s3 = s0, t0 = s0, t1 = s0, t2 = s0, t3 = s0;
        for (int p = 0, ap = 0; p < k; p++, ap += depthStride)
        {
            ref float rowStart = ref Unsafe.Add(ref b, p * ldb);
            Lanes8 left = Lanes8.Load(ref rowStart), right = Lanes8.Load(ref Unsafe.Add(ref rowStart, 8));
            ref float column = ref Unsafe.Add(ref a, ap);
            Lanes8 v = Lanes8.Splat(column);
            (s0, t0) = (Lanes8.MultiplyAdd(v, left, s0), Lanes8.MultiplyAdd(v, right, t0));
            v = Lanes8.Splat(Unsafe.Add(ref column, rowStride));
            (s1, t1) = (Lanes8.MultiplyAdd(v, left, s1), Lanes8.MultiplyAdd(v, right, t1));
            v = Lanes8.Splat(Unsafe.Add(ref column, 2 * rowStride));
            (s2, t2) = (Lanes8.MultiplyAdd(v, left, s2), Lanes8.MultiplyAdd(v, right, t2));
            v = Lanes8.Splat(Unsafe.Add(ref column, 3 * rowStride));
            (s3, t3) = (Lanes8.MultiplyAdd(v, left, s3), Lanes8.MultiplyAdd(v, right, t3));
        }
        ref float half = ref Unsafe.Add(ref c, 8);
        Finish(s0, ref c, accumulate);
        Finish(t0, ref half, accumulate);
        Finish(s1, ref Unsafe.Add(ref c, ldc), accumulate);
        Finish(t1, ref Unsafe.Add(ref half, ldc), accumulate);
        Finish(s2, ref Unsafe.Add(ref c, 2 * ldc), accumulate);
        Finish(t2, ref Unsafe.Add(ref half, 2 * ldc), accumulate);
        Finish(s3, ref Unsafe.Add(ref c, 3 * ldc), accumulate);
        Finish(t3, ref Unsafe.Add(ref half, 3 * ldc), accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    private static void PairedEightRows<U>(ref float a, int rowStride, int depthStride, ref float b, int ldb, ref float c, int ldc, int k,
        bool accumulate) where U : struct, ILanes<U>
    {
        Lanes16 s0 = default, s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0, s7 = s0;
        U u0 = U.Zero, u1 = u0, u2 = u0, u3 = u0, u4 = u0, u5 = u0, u6 = u0, u7 = u0;
        for (int p = 0, ap = 0; p < k; p++, ap += depthStride)
        {
            ref float rowStart = ref Unsafe.Add(ref b, p * ldb);
            Lanes16 row = Lanes16.Load(ref rowStart);
            U tail = U.Load(ref Unsafe.Add(ref rowStart, 16));
            ref float column = ref Unsafe.Add(ref a, ap);
            Lanes16 v = Lanes16.Splat(column);
            (s0, u0) = (Lanes16.MultiplyAdd(v, row, s0), U.MultiplyAdd(U.Lower(v), tail, u0));
            v = Lanes16.Splat(Unsafe.Add(ref column, rowStride));
            (s1, u1) = (Lanes16.MultiplyAdd(v, row, s1), U.MultiplyAdd(U.Lower(v), tail, u1));
            v = Lanes16.Splat(Unsafe.Add(ref column, 2 * rowStride));
            (s2, u2) = (Lanes16.MultiplyAdd(v, row, s2), U.MultiplyAdd(U.Lower(v), tail, u2));
            v = Lanes16.Splat(Unsafe.Add(ref column, 3 * rowStride));
            (s3, u3) = (Lanes16.MultiplyAdd(v, row, s3), U.MultiplyAdd(U.Lower(v), tail, u3));
            v = Lanes16.Splat(Unsafe.Add(ref column, 4 * rowStride));
            (s4, u4) = (Lanes16.MultiplyAdd(v, row, s4), U.MultiplyAdd(U.Lower(v), tail, u4));
            v = Lanes16.Splat(Unsafe.Add(ref column, 5 * rowStride));
            (s5, u5) = (Lanes16.MultiplyAdd(v, row, s5), U.MultiplyAdd(U.Lower(v), tail, u5));
            v = Lanes16.Splat(Unsafe.Add(ref column, 6 * rowStride));
            (s6, u6) = (Lanes16.MultiplyAdd(v, row, s6), U.MultiplyAdd(U.Lower(v), tail, u6));
            v = Lanes16.Splat(Unsafe.Add(ref column, 7 * rowStride));
            (s7, u7) = (Lanes16.MultiplyAdd(v, row, s7), U.MultiplyAdd(U.Lower(v), tail, u7));
        }
        ref float tailC = ref Unsafe.Add(ref c, 16);
        Finish(s0, ref c, accumulate);
        Finish(u0, ref tailC, accumulate);
        Finish(s1, ref Unsafe.Add(ref c, ldc), accumulate);
        Finish(u1, ref Unsafe.Add(ref tailC, ldc), accumulate);
        Finish(s2, ref Unsafe.Add(ref c, 2 * ldc), accumulate);
        Finish(u2, ref Unsafe.Add(ref tailC, 2 * ldc), accumulate);
        Finish(s3, ref Unsafe.Add(ref c, 3 * ldc), accumulate);
        Finish(u3, ref Unsafe.Add(ref tailC, 3 * ldc), accumulate);
        Finish(s4, ref Unsafe.Add(ref c, 4 * ldc), accumulate);
        Finish(u4, ref Unsafe.Add(ref tailC, 4 * ldc), accumulate);
        Finish(s5, ref Unsafe.Add(ref c, 5 * ldc), accumulate);
        Finish(u5, ref Unsafe.Add(ref tailC, 5 * ldc), accumulate);
        Finish(s6, ref Unsafe.Add(ref c, 6 * ldc), accumulate);
        Finish(u6, ref Unsafe.Add(ref tailC, 6 * ldc), accumulate);
        Finish(s7, ref Unsafe.Add(ref c, 7 * ldc), accumulate);
        Finish(u7, ref Unsafe.Add(ref tailC, 7 * ldc), accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    private static void EightRows<T>(ref float a, int rowStride, int depthStride, ref float b, int ldb, ref float c, int ldc, int k,
        bool accumulate) where T : struct, ILanes<T>
    {
        T s0 = T.Zero, s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0, s7 = s0;
        for (int p = 0, ap = 0; p < k; p++, ap += depthStride)
        {
            T row = T.Load(ref Unsafe.Add(ref b, p * ldb));
            ref float column = ref Unsafe.Add(ref a, ap);
            s0 = T.MultiplyAdd(T.Splat(column), row, s0);
            s1 = T.MultiplyAdd(T.Splat(Unsafe.Add(ref column, rowStride)), row, s1);
            s2 = T.MultiplyAdd(T.Splat(Unsafe.Add(ref column, 2 * rowStride)), row, s2);
            s3 = T.MultiplyAdd(T.Splat(Unsafe.Add(ref column, 3 * rowStride)), row, s3);
            s4 = T.MultiplyAdd(T.Splat(Unsafe.Add(ref column, 4 * rowStride)), row, s4);
            s5 = T.MultiplyAdd(T.Splat(Unsafe.Add(ref column, 5 * rowStride)), row, s5);
            s6 = T.MultiplyAdd(T.Splat(Unsafe.Add(ref column, 6 * rowStride)), row, s6);
            s7 = T.MultiplyAdd(T.Splat(Unsafe.Add(ref column, 7 * rowStride)), row, s7);
        }
        Finish(s0, ref c, accumulate);
        Finish(s1, ref Unsafe.Add(ref c, ldc), accumulate);
        Finish(s2, ref Unsafe.Add(ref c, 2 * ldc), accumulate);
        Finish(s3, ref Unsafe.Add(ref c, 3 * ldc), accumulate);
        Finish(s4, ref Unsafe.Add(ref c, 4 * ldc), accumulate);
        Finish(s5, ref Unsafe.Add(ref c, 5 * ldc), accumulate);
        Finish(s6, ref Unsafe.Add(ref c, 6 * ldc), accumulate);
        Finish(s7, ref Unsafe.Add(ref c, 7 * ldc), accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    private static void FourRows<T>(ref float a, int rowStride, int depthStride, ref float b, int ldb, ref float c, int ldc, int k,
        bool accumulate) where T : struct, ILanes<T>
    {
        // Two chains a row, over even and odd steps of the inner dimension: four chains alone would wait on the FMA latency.
        T s0 = T.Zero, s1 = s0, s2 = s0, s3 = s0, t0 = s0, t1 = s0, t2 = s0, t3 = s0;
        int p = 0, ap = 0;
        for (; p + 2 <= k; p += 2, ap += 2 * depthStride)
        {
            T row = T.Load(ref Unsafe.Add(ref b, p * ldb)), next = T.Load(ref Unsafe.Add(ref b, (p + 1) * ldb));
            ref float column = ref Unsafe.Add(ref a, ap);
            ref float after = ref Unsafe.Add(ref column, depthStride);
            s0 = T.MultiplyAdd(T.Splat(column), row, s0);
            s1 = T.MultiplyAdd(T.Splat(Unsafe.Add(ref column, rowStride)), row, s1);
            s2 = T.MultiplyAdd(T.Splat(Unsafe.Add(ref column, 2 * rowStride)), row, s2);
            s3 = T.MultiplyAdd(T.Splat(Unsafe.Add(ref column, 3 * rowStride)), row, s3);
            t0 = T.MultiplyAdd(T.Splat(after), next, t0);
            t1 = T.MultiplyAdd(T.Splat(Unsafe.Add(ref after, rowStride)), next, t1);
            t2 = T.MultiplyAdd(T.Splat(Unsafe.Add(ref after, 2 * rowStride)), next, t2);
            t3 = T.MultiplyAdd(T.Splat(Unsafe.Add(ref after, 3 * rowStride)), next, t3);
        }
        if (p < k)
        {
            T row = T.Load(ref Unsafe.Add(ref b, p * ldb));
            ref float column = ref Unsafe.Add(ref a, ap);
            s0 = T.MultiplyAdd(T.Splat(column), row, s0);
            s1 = T.MultiplyAdd(T.Splat(Unsafe.Add(ref column, rowStride)), row, s1);
            s2 = T.MultiplyAdd(T.Splat(Unsafe.Add(ref column, 2 * rowStride)), row, s2);
            s3 = T.MultiplyAdd(T.Splat(Unsafe.Add(ref column, 3 * rowStride)), row, s3);
        }
        Finish(T.Add(s0, t0), ref c, accumulate);
        Finish(T.Add(s1, t1), ref Unsafe.Add(ref c, ldc), accumulate);
        Finish(T.Add(s2, t2), ref Unsafe.Add(ref c, 2 * ldc), accumulate);
        Finish(T.Add(s3, t3), ref Unsafe.Add(ref c, 3 * ldc), accumulate);
    }

    // One row in four chains over the steps of the inner dimension taken four at a time.
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    private static void OneRow<T>(ref float a, int depthStride, ref float b, int ldb, ref float c, int k, bool accumulate)
        where T : struct, ILanes<T>
    {
        T s0 = T.Zero, s1 = s0, s2 = s0, s3 = s0;
        int p = 0;
        for (; p + 4 <= k; p += 4)
        {
            ref float column = ref Unsafe.Add(ref a, p * depthStride);
            ref float row = ref Unsafe.Add(ref b, p * ldb);
            s0 = T.MultiplyAdd(T.Splat(column), T.Load(ref row), s0);
            s1 = T.MultiplyAdd(T.Splat(Unsafe.Add(ref column, depthStride)), T.Load(ref Unsafe.Add(ref row, ldb)), s1);
            s2 = T.MultiplyAdd(T.Splat(Unsafe.Add(ref column, 2 * depthStride)), T.Load(ref Unsafe.Add(ref row, 2 * ldb)), s2);
            s3 = T.MultiplyAdd(T.Splat(Unsafe.Add(ref column, 3 * depthStride)), T.Load(ref Unsafe.Add(ref row, 3 * ldb)), s3);
        }
        for (; p < k; p++) s0 = T.MultiplyAdd(T.Splat(Unsafe.Add(ref a, p * depthStride)), T.Load(ref Unsafe.Add(ref b, p * ldb)), s0);
        Finish(T.Add(T.Add(s0, s1), T.Add(s2, s3)), ref c, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Finish<T>(T sum, ref float c, bool accumulate) where T : struct, ILanes<T> =>
        (accumulate ? T.Add(T.Load(ref c), sum) : sum).Store(ref c);

    private static void MultiplyScalar(ReadOnlySpan<float> a, int rowStride, int depthStride, ReadOnlySpan<float> b, int ldb,
        Span<float> c, int ldc, int m, int k, int n, bool accumulate)
    {
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                float sum = 0;
                for (int p = 0; p < k; p++) sum = MathF.FusedMultiplyAdd(a[i * rowStride + p * depthStride], b[p * ldb + j], sum);
                c[i * ldc + j] = accumulate ? c[i * ldc + j] + sum : sum;
            }
    }

    // The vector widths as one generic shape, so that each row block is written once for all three.
    private interface ILanes<TSelf> where TSelf : struct, ILanes<TSelf>
    {
        static abstract int Count { get; }
        static abstract TSelf Zero { get; }
        static abstract TSelf Lower(Lanes16 wide);
        static abstract TSelf Load(ref float source);
        static abstract TSelf Splat(float value);
        static abstract TSelf MultiplyAdd(TSelf a, TSelf b, TSelf addend);
        static abstract TSelf Add(TSelf a, TSelf b);
        void Store(ref float destination);
    }

    private readonly struct Lanes16(Vector512<float> v) : ILanes<Lanes16>
    {
        private readonly Vector512<float> _v = v;
        public static int Count => 16;
        public static Lanes16 Zero => default;
        public static Lanes16 Lower(Lanes16 wide) => wide;
        public Vector512<float> Value => _v;
        public static Lanes16 Load(ref float source) => new(Vector512.LoadUnsafe(ref source));
        public static Lanes16 Splat(float value) => new(Vector512.Create(value));
        public static Lanes16 MultiplyAdd(Lanes16 a, Lanes16 b, Lanes16 addend) => new(Vector512.FusedMultiplyAdd(a._v, b._v, addend._v));
        public static Lanes16 Add(Lanes16 a, Lanes16 b) => new(a._v + b._v);
        public void Store(ref float destination) => _v.StoreUnsafe(ref destination);
    }

    private readonly struct Lanes8(Vector256<float> v) : ILanes<Lanes8>
    {
        private readonly Vector256<float> _v = v;
        public static int Count => 8;
        public static Lanes8 Zero => default;
        public static Lanes8 Lower(Lanes16 wide) => new(wide.Value.GetLower());
        public static Lanes8 Load(ref float source) => new(Vector256.LoadUnsafe(ref source));
        public static Lanes8 Splat(float value) => new(Vector256.Create(value));
        public static Lanes8 MultiplyAdd(Lanes8 a, Lanes8 b, Lanes8 addend) => new(Vector256.FusedMultiplyAdd(a._v, b._v, addend._v));
        public static Lanes8 Add(Lanes8 a, Lanes8 b) => new(a._v + b._v);
        public void Store(ref float destination) => _v.StoreUnsafe(ref destination);
    }

    private readonly struct Lanes4(Vector128<float> v) : ILanes<Lanes4>
    {
        private readonly Vector128<float> _v = v;
        public static int Count => 4;
        public static Lanes4 Zero => default;
        public static Lanes4 Lower(Lanes16 wide) => new(wide.Value.GetLower().GetLower());
        public static Lanes4 Load(ref float source) => new(Vector128.LoadUnsafe(ref source));
        public static Lanes4 Splat(float value) => new(Vector128.Create(value));
        public static Lanes4 MultiplyAdd(Lanes4 a, Lanes4 b, Lanes4 addend) => new(Vector128.FusedMultiplyAdd(a._v, b._v, addend._v));
        public static Lanes4 Add(Lanes4 a, Lanes4 b) => new(a._v + b._v);
        public void Store(ref float destination) => _v.StoreUnsafe(ref destination);
    }

    // No second strip: every operation vanishes once the JIT specializes the paired kernel for it.
    private readonly struct NoLanes : ILanes<NoLanes>
    {
        public static int Count => 0;
        public static NoLanes Zero => default;
        public static NoLanes Lower(Lanes16 wide) => default;
        public static NoLanes Load(ref float source) => default;
        public static NoLanes Splat(float value) => default;
        public static NoLanes MultiplyAdd(NoLanes a, NoLanes b, NoLanes addend) => default;
        public static NoLanes Add(NoLanes a, NoLanes b) => default;
        public void Store(ref float destination) { }
    }
}
