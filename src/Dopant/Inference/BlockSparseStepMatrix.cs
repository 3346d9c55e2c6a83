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
/// product per block. The kernels add into y in place; where the block grid overhangs the matrix, edge blocks are
/// padded with zeros and x and y go through padded scratch.
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
        // Padded scratch only where the block grid overhangs the matrix.
        _x = blockColumns * c == Columns ? [] : new float[blockColumns * c];
        _y = blockRows * r == Rows ? [] : new float[blockRows * r];
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

    public unsafe void MultiplyAdd(ReadOnlySpan<float> x, Span<float> y)
    {
        if (x.Length < Columns || y.Length < Rows) throw new ArgumentException($"Expected x of {Columns} and y of {Rows}.");
        // The kernels add into y; padded scratch stands in for x and y where the grid overhangs the matrix.
        bool scratchX = _x.Length != 0, scratchY = _y.Length != 0;
        if (scratchX) x[..Columns].CopyTo(_x);
        if (scratchY) Array.Clear(_y);
        fixed (float* px = x, py = y, sx = _x, sy = _y)
        {
            float* xs = scratchX ? sx : px, ys = scratchY ? sy : py;
            if (_vectorColumns) MultiplyColumnBlocks(xs, ys);
            else if (_vectorRows) MultiplyRowBlocks(xs, ys);
            else if (_vectorQuads) MultiplyQuadBlocks(xs, ys);
            else MultiplyBlocks(xs, ys);
        }
        if (scratchY)
            for (int i = 0; i < Rows; i++) y[i] += _y[i];
    }

    // R × 1 blocks: one broadcast of x[j] and R/8 (R/16 with AVX-512) FMAs per block, even and odd blocks of a block row
    // in two accumulator chains so that each FMA waits on the one two blocks back.
    private unsafe void MultiplyColumnBlocks(float* xs, float* ys)
    {
        if (Avx512F.IsSupported && _block.Rows is 16 or 32)
        {
            MultiplyColumnBlocks512(xs, ys);
            return;
        }
        int r = _block.Rows;
        fixed (float* values = _values)
        fixed (int* columns = _columns, starts = _rowStarts)
            for (int g = 0; g + 1 < _rowStarts.Length; g++)
            {
                Vector256<float> e0 = Vector256<float>.Zero, e1 = e0, e2 = e0, e3 = e0, o0 = e0, o1 = e0, o2 = e0, o3 = e0;
                int k = starts[g], end = starts[g + 1];
                for (; k + 2 <= end; k += 2)
                {
                    Vector256<float> xe = Vector256.Create(xs[columns[k]]), xo = Vector256.Create(xs[columns[k + 1]]);
                    float* v = values + (long)k * r, w = v + r;
                    e0 = Fma.MultiplyAdd(Avx.LoadVector256(v), xe, e0);
                    o0 = Fma.MultiplyAdd(Avx.LoadVector256(w), xo, o0);
                    if (r >= 16)
                    {
                        e1 = Fma.MultiplyAdd(Avx.LoadVector256(v + 8), xe, e1);
                        o1 = Fma.MultiplyAdd(Avx.LoadVector256(w + 8), xo, o1);
                    }
                    if (r == 32)
                    {
                        e2 = Fma.MultiplyAdd(Avx.LoadVector256(v + 16), xe, e2);
                        o2 = Fma.MultiplyAdd(Avx.LoadVector256(w + 16), xo, o2);
                        e3 = Fma.MultiplyAdd(Avx.LoadVector256(v + 24), xe, e3);
                        o3 = Fma.MultiplyAdd(Avx.LoadVector256(w + 24), xo, o3);
                    }
                }
                if (k < end)
                {
                    Vector256<float> xe = Vector256.Create(xs[columns[k]]);
                    float* v = values + (long)k * r;
                    e0 = Fma.MultiplyAdd(Avx.LoadVector256(v), xe, e0);
                    if (r >= 16) e1 = Fma.MultiplyAdd(Avx.LoadVector256(v + 8), xe, e1);
                    if (r == 32)
                    {
                        e2 = Fma.MultiplyAdd(Avx.LoadVector256(v + 16), xe, e2);
                        e3 = Fma.MultiplyAdd(Avx.LoadVector256(v + 24), xe, e3);
                    }
                }
                float* row = ys + (long)g * r;
                Avx.Store(row, Avx.LoadVector256(row) + e0 + o0);
                if (r >= 16) Avx.Store(row + 8, Avx.LoadVector256(row + 8) + e1 + o1);
                if (r == 32)
                {
                    Avx.Store(row + 16, Avx.LoadVector256(row + 16) + e2 + o2);
                    Avx.Store(row + 24, Avx.LoadVector256(row + 24) + e3 + o3);
                }
            }
    }

    // The same with 512-bit vectors: one FMA per 16×1 block, two per 32×1.
    private unsafe void MultiplyColumnBlocks512(float* xs, float* ys)
    {
        int r = _block.Rows;
        fixed (float* values = _values)
        fixed (int* columns = _columns, starts = _rowStarts)
            for (int g = 0; g + 1 < _rowStarts.Length; g++)
            {
                Vector512<float> e0 = Vector512<float>.Zero, e1 = e0, o0 = e0, o1 = e0;
                int k = starts[g], end = starts[g + 1];
                for (; k + 2 <= end; k += 2)
                {
                    Vector512<float> xe = Vector512.Create(xs[columns[k]]), xo = Vector512.Create(xs[columns[k + 1]]);
                    float* v = values + (long)k * r, w = v + r;
                    e0 = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(v), xe, e0);
                    o0 = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(w), xo, o0);
                    if (r == 32)
                    {
                        e1 = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(v + 16), xe, e1);
                        o1 = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(w + 16), xo, o1);
                    }
                }
                if (k < end)
                {
                    Vector512<float> xe = Vector512.Create(xs[columns[k]]);
                    float* v = values + (long)k * r;
                    e0 = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(v), xe, e0);
                    if (r == 32) e1 = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(v + 16), xe, e1);
                }
                float* row = ys + (long)g * r;
                Avx512F.Store(row, Avx512F.LoadVector512(row) + e0 + o0);
                if (r == 32) Avx512F.Store(row + 16, Avx512F.LoadVector512(row + 16) + e1 + o1);
            }
    }

    // R × 8 blocks: row i of a block times x[j … j + 7], one FMA into row i's accumulator.
    private unsafe void MultiplyRowBlocks(float* xs, float* ys)
    {
        int r = _block.Rows;
        Vector256<float>* sums = stackalloc Vector256<float>[4];
        fixed (float* values = _values)
            for (int g = 0; g + 1 < _rowStarts.Length; g++)
            {
                if (r == 1)
                {
                    // One row: the sum stays in a register.
                    Vector256<float> sum = Vector256<float>.Zero;
                    for (int k = _rowStarts[g]; k < _rowStarts[g + 1]; k++)
                        sum = Fma.MultiplyAdd(Avx.LoadVector256(values + (long)k * 8), Avx.LoadVector256(xs + _columns[k]), sum);
                    ys[g] += Vector256.Sum(sum);
                    continue;
                }
                for (int i = 0; i < r; i++) sums[i] = Vector256<float>.Zero;
                for (int k = _rowStarts[g]; k < _rowStarts[g + 1]; k++)
                {
                    Vector256<float> xv = Avx.LoadVector256(xs + _columns[k]);
                    float* v = values + (long)k * r * 8;
                    for (int i = 0; i < r; i++) sums[i] = Fma.MultiplyAdd(Avx.LoadVector256(v + 8 * i), xv, sums[i]);
                }
                for (int i = 0; i < r; i++) ys[g * r + i] += Vector256.Sum(sums[i]);
            }
    }

    // R × 4 blocks (R = 2 or 4): two block rows a vector against x[j … j + 3] twice; the halves sum to the rows at the end.
    private unsafe void MultiplyQuadBlocks(float* xs, float* ys)
    {
        int r = _block.Rows;
        fixed (float* values = _values)
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
                row[0] += Vector128.Sum(top.GetLower());
                row[1] += Vector128.Sum(top.GetUpper());
                if (r == 4)
                {
                    row[2] += Vector128.Sum(bottom.GetLower());
                    row[3] += Vector128.Sum(bottom.GetUpper());
                }
            }
    }

    private unsafe void MultiplyBlocks(float* xs, float* ys)
    {
        int r = _block.Rows, c = _block.Columns, size = r * c;
        for (int g = 0; g + 1 < _rowStarts.Length; g++)
        {
            float* rows = ys + g * r;
            for (int k = _rowStarts[g]; k < _rowStarts[g + 1]; k++)
            {
                ReadOnlySpan<float> block = _values.AsSpan(k * size, size);
                float* xj = xs + _columns[k];
                for (int i = 0; i < r; i++)
                {
                    float sum = 0;
                    for (int j = 0; j < c; j++) sum += block[i * c + j] * xj[j];
                    rows[i] += sum;
                }
            }
        }
    }
}
