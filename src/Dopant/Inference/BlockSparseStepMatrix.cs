using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Dopant.Matrices;

namespace Dopant.Inference;

/// <summary>
/// A sparse W pruned in R×C blocks (<see cref="BlockShape"/>), in block CSR: for each row of blocks, the kept blocks'
/// first columns (one index per block) and their R·C values, row-major within the block. Column blocks (C = 1, R a
/// multiple of 8) take one broadcast of x[j] and R/8 FMAs per block, their sums held in registers along the block row;
/// row blocks (C = 8, R ≤ 4) one FMA per block row with x[j … j + 7], and 4-column blocks (R = 2 or 4) one FMA per two
/// block rows with x[j … j + 3] twice, reduced lane-wise at the end of each block row; other shapes a small dense
/// product per block. Edge blocks are padded with zeros (x and y through padded scratch).
/// </summary>
internal sealed class BlockSparseStepMatrix : IStepMatrix
{
    private readonly BlockShape _block;
    private readonly float[] _values;
    private readonly int[] _columns;
    private readonly int[] _rowStarts;
    private readonly float[] _x, _y;
    private readonly bool _vectorColumns, _vectorRows, _vectorQuads;

    /// <summary>Lays out the kept blocks of <paramref name="pruned"/>.</summary>
    public BlockSparseStepMatrix(PrunedMatrix<float> pruned)
    {
        ArgumentNullException.ThrowIfNull(pruned);
        _block = pruned.Block;
        Rows = pruned.Rows;
        Columns = pruned.Columns;
        (int blockRows, int blockColumns) = _block.GridFor(Rows, Columns);
        int r = _block.Rows, c = _block.Columns;
        ReadOnlySpan<float> mask = pruned.Mask, weights = pruned.Weight.Value;
        var columns = new List<int>();
        var values = new List<float>();
        _rowStarts = new int[blockRows + 1];
        for (int g = 0; g < blockRows; g++)
        {
            for (int b = 0; b < blockColumns; b++)
            {
                int i0 = g * r, j0 = b * c;
                if (mask[i0 * Columns + j0] == 0) continue;
                columns.Add(j0);
                for (int i = i0; i < i0 + r; i++)
                    for (int j = j0; j < j0 + c; j++)
                        values.Add(i < Rows && j < Columns ? weights[i * Columns + j] * mask[i * Columns + j] : 0f);
            }
            _rowStarts[g + 1] = columns.Count;
        }
        _columns = [.. columns];
        _values = [.. values];
        _x = new float[blockColumns * c];
        _y = new float[blockRows * r];
        bool avx = Avx.IsSupported && Fma.IsSupported;
        _vectorColumns = avx && c == 1 && r is 8 or 16 or 32;
        _vectorRows = avx && c == 8 && r <= 4;
        _vectorQuads = avx && c == 4 && r is 2 or 4;
    }

    public int Rows { get; }

    public int Columns { get; }

    /// <summary>The kept blocks.</summary>
    public int BlockCount => _columns.Length;

    /// <summary>Values (whole blocks), one 32-bit column index per block, and the block-row starts.</summary>
    public long WeightBytes => (long)_values.Length * sizeof(float) + ((long)_columns.Length + _rowStarts.Length) * sizeof(int);

    public void MultiplyAdd(ReadOnlySpan<float> x, Span<float> y)
    {
        if (x.Length < Columns || y.Length < Rows) throw new ArgumentException($"Expected x of {Columns} and y of {Rows}.");
        x[..Columns].CopyTo(_x);
        Array.Clear(_y);
        if (_vectorColumns) MultiplyColumnBlocks();
        else if (_vectorRows) MultiplyRowBlocks();
        else if (_vectorQuads) MultiplyQuadBlocks();
        else MultiplyBlocks();
        for (int i = 0; i < Rows; i++) y[i] += _y[i];
    }

    private unsafe void MultiplyColumnBlocks()
    {
        int r = _block.Rows;
        fixed (float* values = _values, xs = _x, ys = _y)
            for (int g = 0; g + 1 < _rowStarts.Length; g++)
            {
                Vector256<float> a0 = Vector256<float>.Zero, a1 = Vector256<float>.Zero, a2 = Vector256<float>.Zero, a3 = Vector256<float>.Zero;
                for (int k = _rowStarts[g]; k < _rowStarts[g + 1]; k++)
                {
                    Vector256<float> xj = Vector256.Create(xs[_columns[k]]);
                    float* v = values + (long)k * r;
                    a0 = Fma.MultiplyAdd(Avx.LoadVector256(v), xj, a0);
                    if (r >= 16) a1 = Fma.MultiplyAdd(Avx.LoadVector256(v + 8), xj, a1);
                    if (r == 32)
                    {
                        a2 = Fma.MultiplyAdd(Avx.LoadVector256(v + 16), xj, a2);
                        a3 = Fma.MultiplyAdd(Avx.LoadVector256(v + 24), xj, a3);
                    }
                }
                float* out0 = ys + (long)g * r;
                Avx.Store(out0, a0);
                if (r >= 16) Avx.Store(out0 + 8, a1);
                if (r == 32)
                {
                    Avx.Store(out0 + 16, a2);
                    Avx.Store(out0 + 24, a3);
                }
            }
    }

    // R × 8 blocks: row i of a block times x[j … j + 7], one FMA into row i's accumulator.
    private unsafe void MultiplyRowBlocks()
    {
        int r = _block.Rows;
        Vector256<float>* sums = stackalloc Vector256<float>[4];
        fixed (float* values = _values, xs = _x, ys = _y)
            for (int g = 0; g + 1 < _rowStarts.Length; g++)
            {
                if (r == 1)
                {
                    // One row: the sum stays in a register.
                    Vector256<float> sum = Vector256<float>.Zero;
                    for (int k = _rowStarts[g]; k < _rowStarts[g + 1]; k++)
                        sum = Fma.MultiplyAdd(Avx.LoadVector256(values + (long)k * 8), Avx.LoadVector256(xs + _columns[k]), sum);
                    ys[g] = Vector256.Sum(sum);
                    continue;
                }
                for (int i = 0; i < r; i++) sums[i] = Vector256<float>.Zero;
                for (int k = _rowStarts[g]; k < _rowStarts[g + 1]; k++)
                {
                    Vector256<float> xv = Avx.LoadVector256(xs + _columns[k]);
                    float* v = values + (long)k * r * 8;
                    for (int i = 0; i < r; i++) sums[i] = Fma.MultiplyAdd(Avx.LoadVector256(v + 8 * i), xv, sums[i]);
                }
                for (int i = 0; i < r; i++) ys[g * r + i] = Vector256.Sum(sums[i]);
            }
    }

    // R × 4 blocks (R = 2 or 4): two block rows a vector against x[j … j + 3] twice; the halves sum to the rows at the end.
    private unsafe void MultiplyQuadBlocks()
    {
        int r = _block.Rows;
        fixed (float* values = _values, xs = _x, ys = _y)
            for (int g = 0; g + 1 < _rowStarts.Length; g++)
            {
                Vector256<float> top = Vector256<float>.Zero, bottom = Vector256<float>.Zero;
                for (int k = _rowStarts[g]; k < _rowStarts[g + 1]; k++)
                {
                    Vector128<float> x4 = Sse.LoadVector128(xs + _columns[k]);
                    Vector256<float> xx = Vector256.Create(x4, x4);
                    float* v = values + (long)k * r * 4;
                    top = Fma.MultiplyAdd(Avx.LoadVector256(v), xx, top);
                    if (r == 4) bottom = Fma.MultiplyAdd(Avx.LoadVector256(v + 8), xx, bottom);
                }
                float* row = ys + g * r;
                row[0] = Vector128.Sum(top.GetLower());
                row[1] = Vector128.Sum(top.GetUpper());
                if (r == 4)
                {
                    row[2] = Vector128.Sum(bottom.GetLower());
                    row[3] = Vector128.Sum(bottom.GetUpper());
                }
            }
    }

    private void MultiplyBlocks()
    {
        int r = _block.Rows, c = _block.Columns, size = r * c;
        for (int g = 0; g + 1 < _rowStarts.Length; g++)
        {
            Span<float> rows = _y.AsSpan(g * r, r);
            for (int k = _rowStarts[g]; k < _rowStarts[g + 1]; k++)
            {
                ReadOnlySpan<float> block = _values.AsSpan(k * size, size), xs = _x.AsSpan(_columns[k], c);
                for (int i = 0; i < r; i++)
                {
                    float sum = 0;
                    for (int j = 0; j < c; j++) sum += block[i * c + j] * xs[j];
                    rows[i] += sum;
                }
            }
        }
    }
}
