using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Dopant.Matrices;
using Dopant.Numerics;

namespace Dopant.Inference;

/// <summary>
/// A sparse W in sliced ELLPACK within column windows, x gathered from registers: the nonempty rows, ordered so that a
/// slice's rows are alike (by their number of entries, longest first, or grouped by their counts per window, whichever
/// needs fewer steps), are cut into slices of 16 and the columns into
/// windows of at most 64; for each slice and window, a step holds one entry of each of the 16 rows (padded with zeros
/// where a row has fewer entries in that window than the slice's fullest row) and its column as one byte, relative to
/// the window. A product loads the window of x into four 512-bit registers and fetches the 16 entries of x a step needs
/// with two in-register permutes and a blend, so that one step costs about as much as an FMA, where a memory gather
/// costs many. A balanced N:M matrix whose groups tile the windows needs no padding at all: every row of a slice has N
/// entries in every group, and the rows keep their order, so that a slice's sums add into y as one vector; nor does a
/// matrix balanced in tiles of 16 rows and the window's columns (<see cref="BlockShape.HasTiles"/>), its rows grouped
/// by their counts per window. Values are
/// <typeparamref name="TValue"/>: <see cref="float"/>, or <see cref="sbyte"/> with one float scale per row
/// (<see cref="RowQuantization"/>) applied once to each slice's sums, a quarter of the value bytes. Without AVX-512 the
/// same layout is walked lane by lane.
/// </summary>
internal sealed class WindowedEllStepMatrix<TValue> : IStepMatrix where TValue : unmanaged
{
    /// <summary>Rows per slice: one 512-bit vector of floats.</summary>
    public const int SliceRows = 16;

    /// <summary>The widest window: four 512-bit registers of x.</summary>
    public const int MaxWindow = 64;

    private const int HalfWindow = MaxWindow / 2;
    private const sbyte UpperHalf = unchecked((sbyte)0x80);

    private readonly int _window, _windows, _slices;
    private readonly TValue[] _values;
    // For 8-bit values, the scale of each slice lane's row (0 for padding lanes); else empty.
    private readonly float[] _scales;
    // The low five bits index 32 entries of x; the sign bit picks the window's upper half.
    private readonly sbyte[] _offsets;
    private readonly int[] _stepStarts;
    // The row of each slice's lanes (−1 for padding lanes), or empty when slice s holds rows 16s … 16s + 15 in order.
    private readonly int[] _rows;
    // With the rows reordered, each slice's sums in slice order (one vector store a slice), added into y once at the end.
    private readonly float[] _slicedSums;
    private readonly float[] _x;
    private readonly bool _vector;

    /// <summary>
    /// Lays out <paramref name="csr"/> in windows of <paramref name="window"/> columns (1 to 64; for an N:M matrix a
    /// multiple of M, so that no group straddles two windows); <paramref name="allowVector"/> false keeps to the scalar
    /// kernel. <paramref name="sortRows"/> true reorders the rows (by length or by counts per window, whichever needs
    /// fewer steps), false keeps them in order, and null (the default) reorders them only if that saves a tenth of the
    /// steps, which pays for adding each slice's sums into y row by row.
    /// </summary>
    public WindowedEllStepMatrix(CsrMatrix<float> csr, int window = MaxWindow, bool allowVector = true, bool? sortRows = null)
    {
        ArgumentNullException.ThrowIfNull(csr);
        if (typeof(TValue) != typeof(float) && typeof(TValue) != typeof(sbyte)) throw new NotSupportedException($"Windowed ELL of {typeof(TValue).Name} values.");
        ArgumentOutOfRangeException.ThrowIfLessThan(window, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(window, MaxWindow);
        Rows = csr.Rows;
        Columns = csr.Columns;
        _window = window;
        _windows = Math.Max(1, (Columns + window - 1) / window);
        int[] pointers = csr.RowPointers.ToArray(), columns = csr.ColumnIndices.ToArray();

        int[] inOrder = [.. Enumerable.Range(0, Rows)];
        int[] sorted = [.. inOrder.Where(i => pointers[i + 1] > pointers[i]).OrderByDescending(i => pointers[i + 1] - pointers[i]).ThenBy(i => i)];
        int[] inOrderStarts = StepStarts(inOrder, pointers, columns), sortedStarts = StepStarts(sorted, pointers, columns);
        int[] grouped = GroupedByWindowCounts(pointers, columns), groupedStarts = StepStarts(grouped, pointers, columns);
        if (groupedStarts[^1] < sortedStarts[^1]) (sorted, sortedStarts) = (grouped, groupedStarts);
        bool sort = sortRows ?? sortedStarts[^1] < 0.9 * inOrderStarts[^1];
        if (sort && sorted.SequenceEqual(inOrder)) sort = false;
        _stepStarts = sort ? sortedStarts : inOrderStarts;
        _slices = (_stepStarts.Length - 1) / _windows;
        _rows = [];
        _slicedSums = [];
        if (sort)
        {
            _slicedSums = new float[_slices * SliceRows];
            _rows = new int[_slices * SliceRows];
            _rows.AsSpan().Fill(-1);
            sorted.CopyTo(_rows, 0);
        }

        int total = _stepStarts[^1];
        var values = new float[total * SliceRows];
        _offsets = new sbyte[total * SliceRows];
        var counts = new int[_windows];
        for (int slot = 0; slot < _slices * SliceRows; slot++)
        {
            int s = slot / SliceRows, lane = slot % SliceRows, i = RowOf(s, lane);
            if (i < 0) continue;
            Array.Clear(counts);
            for (int k = pointers[i]; k < pointers[i + 1]; k++)
            {
                int w = columns[k] / window, offset = columns[k] - w * window;
                int at = (_stepStarts[s * _windows + w] + counts[w]++) * SliceRows + lane;
                values[at] = csr.Values[k];
                _offsets[at] = offset < HalfWindow ? (sbyte)offset : (sbyte)(UpperHalf | (offset - HalfWindow));
            }
        }
        (_values, _scales) = typeof(TValue) == typeof(float) ? ((TValue[])(object)values, []) : Quantize(values);
        NonZeroCount = csr.NonZeroCount;
        // x padded so that every window's four registers load whole, however narrow the window.
        _x = new float[(_windows - 1) * window + MaxWindow];
        _vector = allowVector && Avx512F.IsSupported;
    }

    // Each lane of each slice (one row of W) against the largest magnitude of its entries.
    private (TValue[] Values, float[] Scales) Quantize(float[] values)
    {
        var quantized = new sbyte[values.Length];
        var scales = new float[_slices * SliceRows];
        int longest = Enumerable.Range(0, _slices).Select(s => _stepStarts[(s + 1) * _windows] - _stepStarts[s * _windows]).DefaultIfEmpty().Max();
        var row = new float[longest];
        var row8 = new sbyte[longest];
        for (int s = 0; s < _slices; s++)
        {
            int first = _stepStarts[s * _windows], steps = _stepStarts[(s + 1) * _windows] - first;
            for (int lane = 0; lane < SliceRows; lane++)
            {
                for (int k = 0; k < steps; k++) row[k] = values[(first + k) * SliceRows + lane];
                RowQuantization.ToInt8(row.AsSpan(0, steps), 1, steps, row8.AsSpan(0, steps), scales.AsSpan(s * SliceRows + lane, 1));
                for (int k = 0; k < steps; k++) quantized[(first + k) * SliceRows + lane] = row8[k];
            }
        }
        return ((TValue[])(object)quantized, scales);
    }

    public int Rows { get; }

    public int Columns { get; }

    // Steps per (slice, window) for rows cut into slices in this order, as running starts: the most entries any of the
    // slice's rows has in the window.
    private int[] StepStarts(int[] order, int[] pointers, int[] columns)
    {
        int slices = (order.Length + SliceRows - 1) / SliceRows;
        var starts = new int[slices * _windows + 1];
        var counts = new int[_windows];
        var steps = new int[_windows];
        for (int s = 0; s < slices; s++)
        {
            Array.Clear(steps);
            foreach (int i in order.AsSpan(s * SliceRows, Math.Min(SliceRows, order.Length - s * SliceRows)))
            {
                Array.Clear(counts);
                for (int k = pointers[i]; k < pointers[i + 1]; k++) counts[columns[k] / _window]++;
                for (int w = 0; w < _windows; w++) steps[w] = Math.Max(steps[w], counts[w]);
            }
            for (int w = 0; w < _windows; w++) starts[s * _windows + w + 1] = starts[s * _windows + w] + steps[w];
        }
        return starts;
    }

    // The nonempty rows with equal counts per window together (TileRowOrder), so that a matrix balanced in tiles of
    // 16 rows by a whole number of windows needs no padding.
    private int[] GroupedByWindowCounts(int[] pointers, int[] columns)
    {
        int[] nonempty = [.. Enumerable.Range(0, Rows).Where(i => pointers[i + 1] > pointers[i])];
        var counts = new int[nonempty.Length * _windows];
        for (int r = 0; r < nonempty.Length; r++)
            for (int k = pointers[nonempty[r]]; k < pointers[nonempty[r] + 1]; k++) counts[r * _windows + columns[k] / _window]++;
        int[] order = TileRowOrder.Order(counts, nonempty.Length, _windows, SliceRows);
        for (int r = 0; r < order.Length; r++) order[r] = nonempty[order[r]];
        return order;
    }

    private int RowOf(int slice, int lane)
    {
        if (_rows.Length != 0) return _rows[slice * SliceRows + lane];
        int row = slice * SliceRows + lane;
        return row < Rows ? row : -1;
    }

    /// <summary>The stored entries (the padding not counted).</summary>
    public int NonZeroCount { get; }

    /// <summary>Steps of 16 entries, padding included.</summary>
    public int StepCount => _stepStarts[^1];

    /// <summary>Values and one-byte offsets (padding included), the steps' starts, the slices' rows and the row scales.</summary>
    public long WeightBytes => (long)_values.Length * (Unsafe.SizeOf<TValue>() + sizeof(sbyte))
        + ((long)_stepStarts.Length + _rows.Length) * sizeof(int) + (long)_scales.Length * sizeof(float);

    public void MultiplyAdd(ReadOnlySpan<float> x, Span<float> y)
    {
        if (x.Length < Columns || y.Length < Rows) throw new ArgumentException($"Expected x of {Columns} and y of {Rows}.");
        x[..Columns].CopyTo(_x);
        if (_vector) MultiplyAddVector(y);
        else MultiplyAddScalar(y);
    }

    private unsafe void MultiplyAddVector(Span<float> y)
    {
        float* sums = stackalloc float[SliceRows];
        fixed (float* xs = _x, ys = y, scales = _scales)
        fixed (TValue* values = _values)
        fixed (sbyte* offsets = _offsets)
        fixed (int* starts = _stepStarts, rows = _rows)
        fixed (float* slicedSums = _slicedSums)
        {
            for (int s = 0; s < _slices; s++)
            {
                Vector512<float> even = Vector512<float>.Zero, odd = Vector512<float>.Zero;
                for (int w = 0; w < _windows; w++)
                {
                    int k = starts[s * _windows + w], end = starts[s * _windows + w + 1];
                    if (k == end) continue;
                    float* table = xs + w * _window;
                    Vector512<float> t0 = Avx512F.LoadVector512(table), t1 = Avx512F.LoadVector512(table + 16);
                    Vector512<float> t2 = Avx512F.LoadVector512(table + 32), t3 = Avx512F.LoadVector512(table + 48);
                    for (; k + 2 <= end; k += 2)
                    {
                        even = Avx512F.FusedMultiplyAdd(Load(values, k), Lookup(t0, t1, t2, t3, Offsets(offsets, k)), even);
                        odd = Avx512F.FusedMultiplyAdd(Load(values, k + 1), Lookup(t0, t1, t2, t3, Offsets(offsets, k + 1)), odd);
                    }
                    if (k < end) even = Avx512F.FusedMultiplyAdd(Load(values, k), Lookup(t0, t1, t2, t3, Offsets(offsets, k)), even);
                }
                Vector512<float> sum = even + odd;
                if (typeof(TValue) == typeof(sbyte)) sum *= Avx512F.LoadVector512(scales + s * SliceRows);
                if (_rows.Length != 0)
                {
                    Avx512F.Store(slicedSums + s * SliceRows, sum);
                    continue;
                }
                float* row = ys + s * SliceRows;
                if ((s + 1) * SliceRows <= Rows)
                {
                    Avx512F.Store(row, Avx512F.LoadVector512(row) + sum);
                    continue;
                }
                Avx512F.Store(sums, sum);
                AddSums(sums, s, ys);
            }
            // The reordered rows come first, the padding lanes (row −1) after them.
            for (int lane = 0; lane < _rows.Length && rows[lane] >= 0; lane++) ys[rows[lane]] += slicedSums[lane];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector512<float> Load(TValue* values, int step) =>
        typeof(TValue) == typeof(float) ? Avx512F.LoadVector512((float*)values + (long)step * SliceRows)
        : Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(Sse2.LoadVector128((sbyte*)values + (long)step * SliceRows)));

    // Sign-extended, so that the sign bit of each 32-bit offset says which half of the window it reads.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector512<int> Offsets(sbyte* offsets, int step) =>
        Avx512F.ConvertToVector512Int32(Sse2.LoadVector128(offsets + (long)step * SliceRows));

    // x at the offsets: from the window's first 32 entries (t0, t1), or from the next 32 (t2, t3) where the sign bit is set.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Lookup(Vector512<float> t0, Vector512<float> t1, Vector512<float> t2, Vector512<float> t3, Vector512<int> offsets) =>
        Avx512F.BlendVariable(Avx512F.PermuteVar16x32x2(t0, offsets, t1), Avx512F.PermuteVar16x32x2(t2, offsets, t3), offsets.AsSingle());

    private unsafe void MultiplyAddScalar(Span<float> y)
    {
        Span<float> sums = stackalloc float[SliceRows];
        for (int s = 0; s < _slices; s++)
        {
            sums.Clear();
            for (int w = 0; w < _windows; w++)
            {
                int origin = w * _window;
                for (int k = _stepStarts[s * _windows + w]; k < _stepStarts[s * _windows + w + 1]; k++)
                    for (int lane = 0; lane < SliceRows; lane++)
                    {
                        int offset = _offsets[k * SliceRows + lane];
                        int column = origin + (offset < 0 ? HalfWindow + (offset & (HalfWindow - 1)) : offset);
                        TValue value = _values[k * SliceRows + lane];
                        sums[lane] += (typeof(TValue) == typeof(float) ? Unsafe.As<TValue, float>(ref value) : Unsafe.As<TValue, sbyte>(ref value)) * _x[column];
                    }
            }
            if (typeof(TValue) == typeof(sbyte))
                for (int lane = 0; lane < SliceRows; lane++) sums[lane] *= _scales[s * SliceRows + lane];
            fixed (float* sum = sums, ys = y) AddSums(sum, s, ys);
        }
    }

    private unsafe void AddSums(float* sums, int slice, float* ys)
    {
        for (int lane = 0; lane < SliceRows; lane++)
        {
            int row = RowOf(slice, lane);
            if (row >= 0) ys[row] += sums[lane];
        }
    }

    /// <summary>
    /// The window for a pruned matrix: for an N:M pattern over single entries with M ≤ 64, the largest multiple of M
    /// that fits 64 columns; for tiles of C ≤ 64 columns, the largest multiple of C; otherwise 64.
    /// </summary>
    public static int WindowFor(BlockShape block) =>
        block.IsElement && block.Group is > 0 and <= MaxWindow ? MaxWindow / block.Group * block.Group
        : block.HasTiles && block.TileColumns <= MaxWindow ? MaxWindow / block.TileColumns * block.TileColumns : MaxWindow;
}
