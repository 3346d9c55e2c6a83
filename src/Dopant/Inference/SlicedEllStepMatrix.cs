using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Dopant.Matrices;

namespace Dopant.Inference;

/// <summary>
/// A sparse W in sliced ELLPACK (SELL-8, Kreutzer et al. 2014): the nonempty rows, sorted by their number of
/// entries (longest first), are cut into slices of 8; a slice stores its rows' k-th entries side by side for
/// k = 0 … (its longest row − 1), padding shorter rows with zeros. A product walks each slice as 8 independent
/// sums, one gather of x and one FMA per 8 entries, where CSR pays a data-dependent branch per row; sorting keeps
/// the padding small. Column indices are <typeparamref name="TIndex"/>: 16-bit when the matrix has at most 65,536
/// columns.
/// </summary>
internal sealed class SlicedEllStepMatrix<TIndex> : IStepMatrix where TIndex : unmanaged, IBinaryInteger<TIndex>, IMinMaxValue<TIndex>
{
    /// <summary>Rows per slice: one 256-bit vector of floats.</summary>
    public const int SliceRows = 8;

    private readonly float[] _values;
    private readonly TIndex[] _columns;
    private readonly int[] _sliceStarts;
    private readonly int[] _rows;
    private readonly bool _gather;

    /// <summary>Lays out <paramref name="csr"/>; <paramref name="allowGather"/> false keeps to the scalar kernel.</summary>
    public SlicedEllStepMatrix(CsrMatrix<float> csr, bool allowGather = true)
    {
        ArgumentNullException.ThrowIfNull(csr);
        if (csr.Columns - 1 > int.CreateSaturating(TIndex.MaxValue))
            throw new ArgumentException($"{csr.Columns} columns do not fit {typeof(TIndex).Name} indices.", nameof(csr));
        Rows = csr.Rows;
        Columns = csr.Columns;
        int[] pointers = csr.RowPointers.ToArray();
        int[] order = [.. Enumerable.Range(0, Rows).Where(i => pointers[i + 1] > pointers[i])
            .OrderByDescending(i => pointers[i + 1] - pointers[i]).ThenBy(i => i)];
        int slices = (order.Length + SliceRows - 1) / SliceRows;
        _rows = new int[slices * SliceRows];
        _sliceStarts = new int[slices + 1];
        for (int s = 0; s < slices; s++)
        {
            int longest = pointers[order[s * SliceRows] + 1] - pointers[order[s * SliceRows]];
            _sliceStarts[s + 1] = _sliceStarts[s] + longest * SliceRows;
        }
        _values = new float[_sliceStarts[slices]];
        _columns = new TIndex[_sliceStarts[slices]];
        for (int lane = 0; lane < _rows.Length; lane++)
        {
            // Padding lanes of the last slice add zeros into the slice's first row.
            int row = lane < order.Length ? order[lane] : order[lane / SliceRows * SliceRows];
            _rows[lane] = row;
            if (lane >= order.Length) continue;
            int s = lane / SliceRows, offset = lane % SliceRows;
            for (int k = pointers[row]; k < pointers[row + 1]; k++)
            {
                int at = _sliceStarts[s] + (k - pointers[row]) * SliceRows + offset;
                _values[at] = csr.Values[k];
                _columns[at] = TIndex.CreateTruncating(csr.ColumnIndices[k]);
            }
        }
        NonZeroCount = csr.NonZeroCount;
        _gather = allowGather && Avx2.IsSupported && Fma.IsSupported;
    }

    public int Rows { get; }

    public int Columns { get; }

    /// <summary>The stored entries (the padding not counted).</summary>
    public int NonZeroCount { get; }

    /// <summary>Values and column indices (padding included), the slices' row numbers and starts.</summary>
    public long WeightBytes => (long)_values.Length * (sizeof(float) + Unsafe.SizeOf<TIndex>()) + ((long)_rows.Length + _sliceStarts.Length) * sizeof(int);

    public void MultiplyAdd(ReadOnlySpan<float> x, Span<float> y)
    {
        if (x.Length < Columns || y.Length < Rows) throw new ArgumentException($"Expected x of {Columns} and y of {Rows}.");
        if (_gather) MultiplyAddGather(x, y);
        else MultiplyAddScalar(x, y);
    }

    private unsafe void MultiplyAddGather(ReadOnlySpan<float> x, Span<float> y)
    {
        fixed (float* xs = x, values = _values)
        fixed (TIndex* columns = _columns)
        {
            float* sums = stackalloc float[SliceRows];
            for (int s = 0; s + 1 < _sliceStarts.Length; s++)
            {
                Vector256<float> even = Vector256<float>.Zero, odd = Vector256<float>.Zero;
                int k = _sliceStarts[s], end = _sliceStarts[s + 1];
                for (; k + 2 * SliceRows <= end; k += 2 * SliceRows)
                {
                    even = Fma.MultiplyAdd(Avx.LoadVector256(values + k), Avx2.GatherVector256(xs, Indices(columns + k), sizeof(float)), even);
                    odd = Fma.MultiplyAdd(Avx.LoadVector256(values + k + SliceRows), Avx2.GatherVector256(xs, Indices(columns + k + SliceRows), sizeof(float)), odd);
                }
                if (k < end) even = Fma.MultiplyAdd(Avx.LoadVector256(values + k), Avx2.GatherVector256(xs, Indices(columns + k), sizeof(float)), even);
                Avx.Store(sums, even + odd);
                ScatterAdd(sums, s, y);
            }
        }
    }

    private unsafe void MultiplyAddScalar(ReadOnlySpan<float> x, Span<float> y)
    {
        fixed (float* xs = x, values = _values)
        fixed (TIndex* columns = _columns)
        {
            float* sums = stackalloc float[SliceRows];
            for (int s = 0; s + 1 < _sliceStarts.Length; s++)
            {
                float s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
                for (int k = _sliceStarts[s], end = _sliceStarts[s + 1]; k < end; k += SliceRows)
                {
                    float* v = values + k;
                    TIndex* c = columns + k;
                    s0 += v[0] * xs[int.CreateTruncating(c[0])];
                    s1 += v[1] * xs[int.CreateTruncating(c[1])];
                    s2 += v[2] * xs[int.CreateTruncating(c[2])];
                    s3 += v[3] * xs[int.CreateTruncating(c[3])];
                    s4 += v[4] * xs[int.CreateTruncating(c[4])];
                    s5 += v[5] * xs[int.CreateTruncating(c[5])];
                    s6 += v[6] * xs[int.CreateTruncating(c[6])];
                    s7 += v[7] * xs[int.CreateTruncating(c[7])];
                }
                sums[0] = s0; sums[1] = s1; sums[2] = s2; sums[3] = s3; sums[4] = s4; sums[5] = s5; sums[6] = s6; sums[7] = s7;
                ScatterAdd(sums, s, y);
            }
        }
    }

    private unsafe void ScatterAdd(float* sums, int slice, Span<float> y)
    {
        ref int rows = ref MemoryMarshal.GetArrayDataReference(_rows);
        for (int lane = 0; lane < SliceRows; lane++) y[Unsafe.Add(ref rows, slice * SliceRows + lane)] += sums[lane];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector256<int> Indices(TIndex* columns) =>
        typeof(TIndex) == typeof(ushort) ? Avx2.ConvertToVector256Int32((ushort*)columns)
        : typeof(TIndex) == typeof(int) ? Avx.LoadVector256((int*)columns)
        : throw new NotSupportedException($"{typeof(TIndex).Name} column indices.");
}
