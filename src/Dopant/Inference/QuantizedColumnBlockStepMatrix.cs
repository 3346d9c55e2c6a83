using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Dopant.Matrices;
using Dopant.Numerics;

namespace Dopant.Inference;

/// <summary>
/// A sparse W pruned in R×1 column blocks (R = 8, 16 or 32) with 8-bit integer (<typeparamref name="TValue"/> =
/// <see cref="sbyte"/>) or 16-bit float (<see cref="Half"/>) values and one float scale per row: the kept blocks of each
/// block row in block CSR as <see cref="BlockSparseStepMatrix"/> does, each block's R values quantized against their
/// rows' largest kept magnitudes (<see cref="RowQuantization"/>). A product widens R values to floats, FMAs them with
/// x[j] broadcast, and scales the block row's sums once at its end: a quarter (a half) of the value bytes.
/// </summary>
internal sealed class QuantizedColumnBlockStepMatrix<TValue> : IStepMatrix where TValue : unmanaged
{
    private readonly int _blockRows;
    private readonly TValue[] _values;
    private readonly float[] _scales;
    private readonly int[] _columns, _rowStarts;
    private readonly float[] _y;

    /// <summary>Lays out and quantizes the kept blocks of <paramref name="pruned"/>.</summary>
    public QuantizedColumnBlockStepMatrix(PrunedMatrix<float> pruned)
    {
        ArgumentNullException.ThrowIfNull(pruned);
        if (typeof(TValue) != typeof(sbyte) && typeof(TValue) != typeof(Half)) throw new NotSupportedException($"Column blocks of {typeof(TValue).Name} values.");
        if (!IsSupported(pruned.Block)) throw new ArgumentException($"Quantized blocks need Rx1 blocks with R = 8, 16 or 32 and AVX2 (got {pruned.Block}).", nameof(pruned));
        Rows = pruned.Rows;
        Columns = pruned.Columns;
        int r = _blockRows = pruned.Block.Rows;
        int groups = (Rows + r - 1) / r;
        // The masked values, padded to whole block rows, give each row's scale; then each kept block is quantized.
        var padded = new float[groups * r * Columns];
        for (int k = 0; k < Rows * Columns; k++) padded[k] = pruned.Weight.Value[k] * pruned.Mask[k];
        var quantized = new TValue[padded.Length];
        _scales = new float[groups * r];
        if (typeof(TValue) == typeof(sbyte))
            RowQuantization.ToInt8(padded, groups * r, Columns, Unsafe.As<TValue[], sbyte[]>(ref quantized), _scales);
        else
            RowQuantization.ToFloat16(padded, groups * r, Columns, Unsafe.As<TValue[], Half[]>(ref quantized), _scales);
        var columns = new List<int>();
        var values = new List<TValue>();
        _rowStarts = new int[groups + 1];
        for (int g = 0; g < groups; g++)
        {
            for (int j = 0; j < Columns; j++)
            {
                if (pruned.Mask[g * r * Columns + j] == 0) continue;
                columns.Add(j);
                for (int i = g * r; i < (g + 1) * r; i++) values.Add(quantized[i * Columns + j]);
            }
            _rowStarts[g + 1] = columns.Count;
        }
        _columns = [.. columns];
        _values = [.. values];
        _y = new float[groups * r];
    }

    /// <summary>Whether this kernel takes blocks of <paramref name="block"/> on this machine.</summary>
    public static bool IsSupported(BlockShape block) =>
        block.Columns == 1 && block.Rows is 8 or 16 or 32 && Avx2.IsSupported && Fma.IsSupported;

    public int Rows { get; }

    public int Columns { get; }

    /// <summary>The quantized values, one 32-bit column index per block, block-row starts and the row scales.</summary>
    public long WeightBytes => (long)_values.Length * Unsafe.SizeOf<TValue>() + ((long)_columns.Length + _rowStarts.Length + _scales.Length) * sizeof(float);

    /// <summary>W[i, j] as this matrix computes with it (0 where no block is kept).</summary>
    public float this[int row, int column]
    {
        get
        {
            int g = row / _blockRows;
            int k = Array.BinarySearch(_columns, _rowStarts[g], _rowStarts[g + 1] - _rowStarts[g], column);
            if (k < 0) return 0;
            TValue v = _values[k * _blockRows + row % _blockRows];
            return _scales[row] * (typeof(TValue) == typeof(sbyte) ? Unsafe.As<TValue, sbyte>(ref v) : (float)Unsafe.As<TValue, Half>(ref v));
        }
    }

    public unsafe void MultiplyAdd(ReadOnlySpan<float> x, Span<float> y)
    {
        if (x.Length < Columns || y.Length < Rows) throw new ArgumentException($"Expected x of {Columns} and y of {Rows}.");
        int r = _blockRows;
        fixed (TValue* values = _values)
        fixed (float* xs = x, ys = _y, scales = _scales)
            for (int g = 0; g + 1 < _rowStarts.Length; g++)
            {
                Vector256<float> a0 = Vector256<float>.Zero, a1 = Vector256<float>.Zero, a2 = Vector256<float>.Zero, a3 = Vector256<float>.Zero;
                for (int k = _rowStarts[g]; k < _rowStarts[g + 1]; k++)
                {
                    Vector256<float> xj = Vector256.Create(xs[_columns[k]]);
                    TValue* v = values + (long)k * r;
                    a0 = Fma.MultiplyAdd(Widen(v), xj, a0);
                    if (r >= 16) a1 = Fma.MultiplyAdd(Widen(v + 8), xj, a1);
                    if (r == 32)
                    {
                        a2 = Fma.MultiplyAdd(Widen(v + 16), xj, a2);
                        a3 = Fma.MultiplyAdd(Widen(v + 24), xj, a3);
                    }
                }
                float* out0 = ys + (long)g * r, scale = scales + (long)g * r;
                Avx.Store(out0, a0 * Avx.LoadVector256(scale));
                if (r >= 16) Avx.Store(out0 + 8, a1 * Avx.LoadVector256(scale + 8));
                if (r == 32)
                {
                    Avx.Store(out0 + 16, a2 * Avx.LoadVector256(scale + 16));
                    Avx.Store(out0 + 24, a3 * Avx.LoadVector256(scale + 24));
                }
            }
        for (int i = 0; i < Rows; i++) y[i] += _y[i];
    }

    // Eight values as floats.
    private static unsafe Vector256<float> Widen(TValue* values) => typeof(TValue) == typeof(sbyte)
        ? Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32((sbyte*)values))
        : HalfVectors.Widen((ushort*)values);
}
