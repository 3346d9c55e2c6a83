using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Dopant.Numerics;

namespace Dopant.Matrices;

/// <summary>
/// A magnitude-pruned matrix: dense values <c>{prefix}.weight</c> [m, n] and a persistent 0/1 mask. Pruned entries
/// (mask 0) are zero in every pass, get no gradient, and stay pruned: <see cref="PruneToSparsity"/> only adds to them.
/// </summary>
/// <remarks>
/// The passes multiply the values by the mask (in a pooled copy, O(m·n) per pass, skipped while nothing is pruned)
/// rather than trust the stored values, because an optimizer with momentum (Adam's running averages, say) may move a
/// pruned value off zero; <see cref="ApplyMask"/> zeroes such values in place. A pruned value that became infinite or
/// NaN would still poison the product (0·∞ is NaN); the gradient of pruned entries is zero, so only a diverged
/// optimizer state can cause that. Training runs on
/// the dense values (pruned entries skipped through the mask); <see cref="ToCsr"/> gives the sparse form for inference.
/// </remarks>
public sealed class PrunedMatrix<T> : IWeightMatrix<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Parameter<T>[] _parameters;
    private readonly T[] _mask;
    private long _prunedCount;
    private StepPacking<T>? _steps;
    private SparsePattern? _pattern;  // the kept entries, while few enough to train sparse; rebuilt when the mask changes

    /// <summary>
    /// At or below this share of kept entries, fp32 passes run on the kept entries only (<see cref="SparseTrainingKernels"/>)
    /// instead of a GEMM on the masked dense values.
    /// </summary>
    public const double SparseTrainingDensity = 0.1;

    /// <summary>
    /// Creates a zero, unpruned matrix whose values are named <c>{prefix}.weight</c> [rows, columns], pruned in blocks
    /// of <paramref name="block"/> (single entries when null).
    /// </summary>
    public PrunedMatrix(string prefix, int rows, int columns, BlockShape? block = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(columns);
        Weight = new Parameter<T>(prefix + ".weight", rows, columns);
        _parameters = [Weight];
        _mask = new T[Weight.Length];
        _mask.AsSpan().Fill(T.One);
        Block = block ?? BlockShape.Element;
        if (Block.LoosePercent != 0 && (Block.IsElement || Block.Group != 0 || Block.LoosePercent is < 1 or > 99))
            throw new ArgumentException($"Loose entries need blocks larger than 1x1, no N:M pattern and a share of 1 to 99 percent (got {Block}).", nameof(block));
        if ((Block.TileRows != 0 || Block.TileColumns != 0)
            && (!Block.IsElement || Block.Group != 0 || Block.LoosePercent != 0 || Block.TileRows is < 1 or > 256 || Block.TileColumns is < 1 or > 256))
            throw new ArgumentException($"Balanced tiles need single entries, no N:M pattern, no loose entries and tiles of 1 to 256 rows and columns (got {Block}).", nameof(block));
    }

    /// <summary>The blocks that pruning keeps or removes whole (1×1: unstructured).</summary>
    public BlockShape Block { get; }

    /// <summary>The values, [Rows, Columns]; pruned entries are zero after <see cref="ApplyMask"/>.</summary>
    public Parameter<T> Weight { get; }

    /// <summary>The mask, row-major: 1 for a kept entry, 0 for a pruned one.</summary>
    public ReadOnlySpan<T> Mask => _mask;

    /// <summary>The number of pruned entries.</summary>
    public long PrunedCount => _prunedCount;

    /// <summary>The pruned fraction of the entries, PrunedCount / (Rows·Columns).</summary>
    public double Sparsity => (double)_prunedCount / _mask.Length;

    /// <inheritdoc/>
    public int Rows => Weight.Shape[0];

    /// <inheritdoc/>
    public int Columns => Weight.Shape[1];

    /// <inheritdoc/>
    public IReadOnlyList<Parameter<T>> Parameters => _parameters;

    /// <inheritdoc/>
    /// <remarks>The kept entries (mask 1), whether or not their value happens to be zero.</remarks>
    public long ParameterCount => _mask.Length - _prunedCount;

    /// <inheritdoc/>
    /// <remarks>
    /// The CSR form of the kept entries (<see cref="CsrMatrix{T}.StorageBytes"/>): ParameterCount values at
    /// <typeparamref name="T"/> precision, a 32-bit column index per value, and Rows + 1 32-bit row pointers. With
    /// blocks, block CSR: the values, one 32-bit column index per kept block, and a 32-bit pointer per block row + 1.
    /// Blocks with loose entries add, for those, a 32-bit column index each and Rows + 1 32-bit row pointers.
    /// </remarks>
    public long StorageBytes => Block.IsElement
        ? CsrMatrix<T>.StorageBytesFor(Rows, ParameterCount, Unsafe.SizeOf<T>())
        : ParameterCount * Unsafe.SizeOf<T>() + (KeptBlocks() + Block.GridFor(Rows, Columns).BlockRows + 1L) * sizeof(int)
          + (Block.HasLooseEntries ? (LooseCount() + Rows + 1L) * sizeof(int) : 0);

    /// <summary>
    /// An unpruned matrix holding a copy of <paramref name="dense"/> (row-major, rows × columns), to be pruned in blocks
    /// of <paramref name="block"/> (single entries when null).
    /// </summary>
    public static PrunedMatrix<T> FromDense(string prefix, ReadOnlySpan<T> dense, int rows, int columns, BlockShape? block = null)
    {
        var result = new PrunedMatrix<T>(prefix, rows, columns, block);
        if (dense.Length != result.Weight.Length)
            throw new ArgumentException($"Expected {result.Weight.Length} dense values for {rows}×{columns}, got {dense.Length}.", nameof(dense));
        dense.CopyTo(result.Weight.Value);
        return result;
    }

    /// <summary>
    /// A matrix holding a copy of <paramref name="dense"/> with the entries where <paramref name="mask"/> is 0 pruned
    /// (for instance to restore a pruned model from a checkpoint). Every mask value must be 0 or 1.
    /// </summary>
    public static PrunedMatrix<T> FromDense(string prefix, ReadOnlySpan<T> dense, ReadOnlySpan<T> mask, int rows, int columns)
    {
        PrunedMatrix<T> result = FromDense(prefix, dense, rows, columns);
        if (mask.Length != result._mask.Length)
            throw new ArgumentException($"Expected {result._mask.Length} mask values for {rows}×{columns}, got {mask.Length}.", nameof(mask));
        long pruned = 0;
        for (int k = 0; k < mask.Length; k++)
        {
            if (T.IsZero(mask[k])) pruned++;
            else if (mask[k] != T.One) throw new ArgumentException($"Mask value {k} is {mask[k]}, neither 0 nor 1.", nameof(mask));
        }
        mask.CopyTo(result._mask);
        result._prunedCount = pruned;
        result.ApplyMask();
        return result;
    }

    /// <summary>
    /// Replaces the mask by <paramref name="mask"/> (row-major, every value 0 or 1) and leaves the values as they are,
    /// so that a checkpoint, which stores both, restores the matrix bit for bit. The gradients of pruned entries are cleared.
    /// </summary>
    /// <exception cref="ArgumentException">The mask has the wrong length or a value that is neither 0 nor 1.</exception>
    public void RestoreMask(ReadOnlySpan<T> mask)
    {
        if (mask.Length != _mask.Length)
            throw new ArgumentException($"Expected {_mask.Length} mask values for {Rows}×{Columns}, got {mask.Length}.", nameof(mask));
        long pruned = 0;
        for (int k = 0; k < mask.Length; k++)
        {
            if (T.IsZero(mask[k])) pruned++;
            else if (mask[k] != T.One) throw new ArgumentException($"Mask value {k} is {mask[k]}, neither 0 nor 1.", nameof(mask));
        }
        CheckBlocks(mask, Rows, Columns, Block, nameof(mask));
        mask.CopyTo(_mask);
        _prunedCount = pruned;
        _pattern = null;
        TensorPrimitives.Multiply(Weight.Gradient, _mask, Weight.Gradient);
    }

    /// <summary>
    /// Prunes the smallest-magnitude kept entries until round(<paramref name="sparsity"/>·Rows·Columns) entries are
    /// pruned in all (midpoints rounded away from zero). Entries already pruned stay pruned, so when at least that many
    /// are pruned nothing changes. Equal magnitudes are pruned in index (row-major) order; NaN counts as the largest
    /// magnitude. The pruned values and their gradients are set to zero. With blocks, whole kept blocks go in the
    /// order of their root-mean-square value (the l2 norm scaled by the block's size, so that cut-short edge blocks
    /// compete fairly; ties in block order) until at least that many entries are pruned. With an N:M pattern
    /// (<see cref="BlockShape.Group"/>), the target holds in every group instead: each run of M blocks along a block row
    /// keeps its <see cref="BlockShape.KeptPerGroup"/> strongest blocks (a shorter last run at most as many). Blocks
    /// with loose entries (<see cref="BlockShape.LoosePercent"/> P) prune exactly that many entries: the weakest whole
    /// kept blocks become loose until the blocks hold at most round((100 − P)% · entries to keep), then the smallest
    /// loose entries go (loose entries that happen to fill a block count as a whole block from then on). Single entries
    /// balanced in tiles (<see cref="BlockShape.HasTiles"/>) keep at most the target: the rows are cut into slices of
    /// <see cref="BlockShape.TileRows"/> in the order of <see cref="TileRowOrder"/> (rows of equal counts per window
    /// together, the strongest first by their kept squares), and every row of a slice keeps its same number of strongest
    /// entries in each window of <see cref="BlockShape.TileColumns"/> columns, at most the fewest any of them holds there;
    /// the numbers go up one at a time, the raise that adds the largest mean square first, while they fit the target.
    /// </summary>
    /// <param name="sparsity">The target pruned fraction, in [0, 1].</param>
    /// <returns>The number of entries pruned by this call.</returns>
    public long PruneToSparsity(double sparsity)
    {
        if (!(sparsity >= 0 && sparsity <= 1))
            throw new ArgumentOutOfRangeException(nameof(sparsity), sparsity, "The sparsity must be in [0, 1].");
        _pattern = null;
        if (Block.Group > 0) return PruneGroups(sparsity);
        long target = (long)Math.Round(sparsity * _mask.Length, MidpointRounding.AwayFromZero);
        long toPrune = Math.Min(target, _mask.Length) - _prunedCount;
        if (toPrune <= 0) return 0;
        if (Block.HasLooseEntries) return PruneWithLooseEntries(_prunedCount + toPrune);
        if (Block.HasTiles) return PruneTiles(_prunedCount + toPrune);
        if (!Block.IsElement) return PruneBlocks(_prunedCount + toPrune);

        return PruneSmallestEntries(toPrune);
    }

    // Prunes the count smallest-magnitude kept entries, those of the blocks marked in wholeBlocks (if given) exempt.
    private long PruneSmallestEntries(long count, bool[]? wholeBlocks = null, int blockColumns = 0)
    {
        var candidates = new List<Candidate>(_mask.Length - (int)_prunedCount);
        T[] values = Weight.Value;
        for (int k = 0; k < _mask.Length; k++)
        {
            if (T.IsZero(_mask[k]) || wholeBlocks is not null && wholeBlocks[BlockOf(k, blockColumns)]) continue;
            T magnitude = T.Abs(values[k]);
            candidates.Add(new Candidate(T.IsNaN(magnitude) ? double.PositiveInfinity : double.CreateChecked(magnitude), k));
        }
        // The key is (magnitude, index), a total order, so the unstable sort still gives one answer.
        candidates.Sort();
        for (int c = 0; c < count; c++)
        {
            int k = candidates[c].Index;
            _mask[k] = T.Zero;
            values[k] = T.Zero;
            Weight.Gradient[k] = T.Zero;
        }
        _prunedCount += count;
        return count;
    }

    private long PruneTiles(long target)
    {
        int sliceRows = Block.TileRows, width = Block.TileColumns, windows = (Columns + width - 1) / width;
        // Each row's kept columns, window by window, strongest first: window w's in ranked[i·Columns + w·width …].
        var ranked = new int[_mask.Length];
        var squares = new double[_mask.Length];
        var counts = new int[Rows * windows];
        var strength = new double[Rows];
        T[] values = Weight.Value;
        for (int k = 0; k < _mask.Length; k++)
        {
            double square = double.CreateChecked(values[k] * values[k]);
            squares[k] = double.IsNaN(square) ? double.PositiveInfinity : square;
        }
        for (int i = 0; i < Rows; i++)
            for (int w = 0; w < windows; w++)
            {
                int start = i * Columns + w * width, held = 0;
                for (int k = start; k < i * Columns + Math.Min((w + 1) * width, Columns); k++)
                    if (!T.IsZero(_mask[k]))
                    {
                        ranked[start + held++] = k;
                        strength[i] += squares[k];
                    }
                ranked.AsSpan(start, held).Sort((a, b) => squares[b].CompareTo(squares[a]) is var c && c != 0 ? c : a.CompareTo(b));
                counts[i * windows + w] = held;
            }

        int[] order = TileRowOrder.Order(counts, Rows, windows, sliceRows, strength);
        int slices = (Rows + sliceRows - 1) / sliceRows;
        var raises = new List<TileRaise>();
        for (int s = 0; s < slices; s++)
        {
            ReadOnlySpan<int> slice = order.AsSpan(s * sliceRows, Math.Min(sliceRows, Rows - s * sliceRows));
            for (int w = 0; w < windows; w++)
            {
                int most = int.MaxValue;
                foreach (int i in slice) most = Math.Min(most, counts[i * windows + w]);
                for (int n = 0; n < most; n++)
                {
                    double sum = 0;
                    foreach (int i in slice) sum += squares[ranked[i * Columns + w * width + n]];
                    raises.Add(new TileRaise(sum / slice.Length, s * windows + w, n));
                }
            }
        }
        // Ties go by slice-window, then by number, so that a slice-window's raises come in order.
        raises.Sort();
        var chosen = new int[slices * windows];
        long keep = _mask.Length - target, kept = 0;
        foreach (TileRaise raise in raises)
        {
            int size = Math.Min(sliceRows, Rows - raise.SliceWindow / windows * sliceRows);
            if (kept + size > keep) break;
            kept += size;
            chosen[raise.SliceWindow]++;
        }

        long before = _prunedCount;
        for (int s = 0; s < slices; s++)
            foreach (int i in order.AsSpan(s * sliceRows, Math.Min(sliceRows, Rows - s * sliceRows)))
                for (int w = 0; w < windows; w++)
                    for (int n = chosen[s * windows + w]; n < counts[i * windows + w]; n++)
                    {
                        int k = ranked[i * Columns + w * width + n];
                        _mask[k] = T.Zero;
                        values[k] = T.Zero;
                        Weight.Gradient[k] = T.Zero;
                        _prunedCount++;
                    }
        return _prunedCount - before;
    }

    private long PruneBlocks(long target)
    {
        (int blockRows, int blockColumns) = Block.GridFor(Rows, Columns);
        var candidates = new List<Candidate>(blockRows * blockColumns);
        for (int b = 0; b < blockRows * blockColumns; b++)
        {
            (int r0, _, int c0, _) = BlockBounds(b, blockColumns);
            if (!T.IsZero(_mask[r0 * Columns + c0])) candidates.Add(new Candidate(BlockScore(b, blockColumns), b));
        }
        candidates.Sort();
        long before = _prunedCount;
        foreach (Candidate candidate in candidates)
        {
            if (_prunedCount >= target) break;
            PruneBlock(candidate.Index, blockColumns);
        }
        return _prunedCount - before;
    }

    // The whole kept blocks are the fully kept ones, so that the mask alone (which a checkpoint stores) decides the next step.
    private long PruneWithLooseEntries(long target)
    {
        (_, int blockColumns) = Block.GridFor(Rows, Columns);
        bool[] whole = WholeBlocks();
        long keep = _mask.Length - target, blockEntries = 0;
        var blocks = new List<Candidate>();
        for (int b = 0; b < whole.Length; b++)
        {
            if (!whole[b]) continue;
            blocks.Add(new Candidate(BlockScore(b, blockColumns), b));
            blockEntries += BlockEntries(b, blockColumns);
        }
        blocks.Sort();
        long blockBudget = (long)Math.Round((100 - Block.LoosePercent) / 100.0 * keep, MidpointRounding.AwayFromZero);
        for (int c = 0; c < blocks.Count && blockEntries > blockBudget; c++)
        {
            whole[blocks[c].Index] = false;
            blockEntries -= BlockEntries(blocks[c].Index, blockColumns);
        }

        // The blocks hold at most keep entries, so the loose ones outnumber what is left to keep by exactly this.
        return PruneSmallestEntries(ParameterCount - keep, whole, blockColumns);
    }

    // Whether each block (row-major over the block grid) is kept whole, every entry of it inside the matrix kept.
    private bool[] WholeBlocks()
    {
        (int blockRows, int blockColumns) = Block.GridFor(Rows, Columns);
        var whole = new bool[blockRows * blockColumns];
        for (int b = 0; b < whole.Length; b++)
        {
            (int r0, int r1, int c0, int c1) = BlockBounds(b, blockColumns);
            whole[b] = true;
            for (int i = r0; i < r1 && whole[b]; i++)
                for (int j = c0; j < c1; j++)
                    if (T.IsZero(_mask[i * Columns + j]))
                    {
                        whole[b] = false;
                        break;
                    }
        }
        return whole;
    }

    // The block (row-major over the block grid) that holds entry k (row-major over the matrix).
    private int BlockOf(int k, int blockColumns) => k / Columns / Block.Rows * blockColumns + k % Columns / Block.Columns;

    private int BlockEntries(int block, int blockColumns)
    {
        (int r0, int r1, int c0, int c1) = BlockBounds(block, blockColumns);
        return (r1 - r0) * (c1 - c0);
    }

    // N:M: in every run of M blocks along a block row, the weakest kept blocks go until N = M − round(sparsity·M) are
    // left (min(N, length) in a shorter last run).
    private long PruneGroups(double sparsity)
    {
        (int blockRows, int blockColumns) = Block.GridFor(Rows, Columns);
        int group = Block.Group, keep = Block.KeptPerGroup(sparsity);
        var candidates = new List<Candidate>(group);
        long before = _prunedCount;
        for (int br = 0; br < blockRows; br++)
            for (int g0 = 0; g0 < blockColumns; g0 += group)
            {
                candidates.Clear();
                for (int b = br * blockColumns + g0; b < br * blockColumns + Math.Min(g0 + group, blockColumns); b++)
                {
                    (int r0, _, int c0, _) = BlockBounds(b, blockColumns);
                    if (!T.IsZero(_mask[r0 * Columns + c0])) candidates.Add(new Candidate(BlockScore(b, blockColumns), b));
                }
                if (candidates.Count <= keep) continue;
                candidates.Sort();
                for (int c = 0; c < candidates.Count - keep; c++) PruneBlock(candidates[c].Index, blockColumns);
            }
        return _prunedCount - before;
    }

    // The block's root-mean-square value; NaN counts as the largest.
    private double BlockScore(int block, int blockColumns)
    {
        (int r0, int r1, int c0, int c1) = BlockBounds(block, blockColumns);
        double squares = 0;
        for (int i = r0; i < r1; i++)
            for (int j = c0; j < c1; j++) squares += double.CreateChecked(Weight.Value[i * Columns + j] * Weight.Value[i * Columns + j]);
        double score = Math.Sqrt(squares / ((r1 - r0) * (c1 - c0)));
        return double.IsNaN(score) ? double.PositiveInfinity : score;
    }

    private void PruneBlock(int block, int blockColumns)
    {
        (int r0, int r1, int c0, int c1) = BlockBounds(block, blockColumns);
        for (int i = r0; i < r1; i++)
            for (int j = c0; j < c1; j++)
            {
                int k = i * Columns + j;
                _mask[k] = T.Zero;
                Weight.Value[k] = T.Zero;
                Weight.Gradient[k] = T.Zero;
            }
        _prunedCount += (r1 - r0) * (c1 - c0);
    }

    // Rows [r0, r1) and columns [c0, c1) of block b (row-major over the block grid).
    private (int R0, int R1, int C0, int C1) BlockBounds(int block, int blockColumns)
    {
        int r0 = block / blockColumns * Block.Rows, c0 = block % blockColumns * Block.Columns;
        return (r0, Math.Min(r0 + Block.Rows, Rows), c0, Math.Min(c0 + Block.Columns, Columns));
    }

    /// <summary>The number of kept blocks (kept entries, for single-entry blocks; whole blocks, for blocks with loose entries).</summary>
    public long KeptBlocks()
    {
        if (Block.IsElement) return ParameterCount;
        if (Block.HasLooseEntries) return WholeBlocks().Count(w => w);
        (int blockRows, int blockColumns) = Block.GridFor(Rows, Columns);
        long kept = 0;
        for (int b = 0; b < blockRows * blockColumns; b++)
        {
            (int r0, _, int c0, _) = BlockBounds(b, blockColumns);
            if (!T.IsZero(_mask[r0 * Columns + c0])) kept++;
        }
        return kept;
    }

    /// <summary>The kept entries outside whole kept blocks (none, for other shapes).</summary>
    public long LooseCount()
    {
        if (!Block.HasLooseEntries) return 0;
        (_, int blockColumns) = Block.GridFor(Rows, Columns);
        bool[] whole = WholeBlocks();
        long inBlocks = 0;
        for (int b = 0; b < whole.Length; b++)
            if (whole[b]) inBlocks += BlockEntries(b, blockColumns);
        return ParameterCount - inBlocks;
    }

    /// <summary>
    /// This matrix split into its whole kept blocks (a copy pruned in <see cref="BlockShape.Blocks"/>) and its loose
    /// entries (a copy pruned in single entries), whose sum is this matrix.
    /// </summary>
    /// <exception cref="InvalidOperationException">The block shape has no loose entries.</exception>
    public (PrunedMatrix<T> Blocks, PrunedMatrix<T> Loose) SplitLooseEntries()
    {
        if (!Block.HasLooseEntries) throw new InvalidOperationException($"A {Block} matrix has no loose entries.");
        (_, int blockColumns) = Block.GridFor(Rows, Columns);
        bool[] whole = WholeBlocks();
        var blockMask = new T[_mask.Length];
        var looseMask = new T[_mask.Length];
        for (int k = 0; k < _mask.Length; k++)
        {
            if (T.IsZero(_mask[k])) continue;
            if (whole[BlockOf(k, blockColumns)]) blockMask[k] = T.One;
            else looseMask[k] = T.One;
        }
        var blocks = new PrunedMatrix<T>(Weight.Name, Rows, Columns, Block.Blocks);
        Weight.Value.CopyTo(blocks.Weight.Value, 0);
        blocks.RestoreMask(blockMask);
        blocks.ApplyMask();
        return (blocks, FromDense(Weight.Name, Weight.Value, looseMask, Rows, Columns));
    }

    // A mask of blocks keeps or prunes every block whole (one with loose entries may keep single entries anywhere).
    private static void CheckBlocks(ReadOnlySpan<T> mask, int rows, int columns, BlockShape block, string name)
    {
        if (block.IsElement || block.HasLooseEntries) return;
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < columns; j++)
            {
                int i0 = i / block.Rows * block.Rows, j0 = j / block.Columns * block.Columns;
                if (mask[i * columns + j] != mask[i0 * columns + j0])
                    throw new ArgumentException($"The mask splits the {block} block at row {i0}, column {j0}: it must keep or prune a block whole.", name);
            }
    }

    /// <summary>Sets the values of pruned entries back to zero (after an optimizer step that may have moved them).</summary>
    public void ApplyMask() => TensorPrimitives.Multiply(Weight.Value, _mask, Weight.Value);

    /// <summary>The kept entries in compressed sparse row form, for inference.</summary>
    public CsrMatrix<T> ToCsr() => CsrMatrix<T>.FromMasked(Weight.Value, _mask, Rows, Columns);

    /// <inheritdoc/>
    public void Forward(ReadOnlySpan<T> x, Span<T> y, int count, bool accumulate)
    {
        BatchCheck.Rows(x.Length, Columns, y.Length, Rows, count, nameof(x), nameof(y));
        if (count == 0) return;
        if (SparseTraining() is { } pattern)
        {
            ForwardSparse(pattern, MemoryMarshal.Cast<T, float>(x)[..(count * Columns)], MemoryMarshal.Cast<T, float>(y)[..(count * Rows)], count, accumulate);
            return;
        }
        if (_steps is { IsOpen: true } steps)
        {
            if (steps.NeedsForwardPack) WithMaskedWeights(static (weights, packing) => packing.PackForward(weights), steps);
            steps.Forward(x, y, count, accumulate);
            return;
        }
        T[]? rented = RentMaskedWeights(out ReadOnlySpan<T> weights);
        try
        {
            Blas.Gemm(false, true, count, Rows, Columns, T.One, x, Columns, weights, Columns, accumulate ? T.One : T.Zero, y, Rows);
        }
        finally
        {
            if (rented is not null) ArrayPool<T>.Shared.Return(rented);
        }
    }

    /// <inheritdoc/>
    public void BackwardInput(ReadOnlySpan<T> dy, Span<T> dx, int count, bool accumulate)
    {
        BatchCheck.Rows(dy.Length, Rows, dx.Length, Columns, count, nameof(dy), nameof(dx));
        if (count == 0) return;
        if (SparseTraining() is { } pattern)
        {
            BackwardSparse(pattern, MemoryMarshal.Cast<T, float>(dy)[..(count * Rows)], MemoryMarshal.Cast<T, float>(dx)[..(count * Columns)], count, accumulate);
            return;
        }
        if (_steps is { IsOpen: true } steps)
        {
            if (steps.NeedsBackwardPack) WithMaskedWeights(static (weights, packing) => packing.PackBackward(weights), steps);
            steps.BackwardInput(dy, dx, count, accumulate);
            return;
        }
        T[]? rented = RentMaskedWeights(out ReadOnlySpan<T> weights);
        try
        {
            Blas.Gemm(false, false, count, Columns, Rows, T.One, dy, Rows, weights, Columns, accumulate ? T.One : T.Zero, dx, Columns);
        }
        finally
        {
            if (rented is not null) ArrayPool<T>.Shared.Return(rented);
        }
    }

    /// <inheritdoc/>
    /// <remarks>
    /// The gradient of W∘M with respect to W is dyᵀ·x masked; the gradient of pruned entries is kept at zero
    /// (gradient = (gradient + dyᵀ·x)∘M, and it was zero there already).
    /// </remarks>
    public void AccumulateGradients(ReadOnlySpan<T> x, ReadOnlySpan<T> dy, int count)
    {
        BatchCheck.Rows(x.Length, Columns, dy.Length, Rows, count, nameof(x), nameof(dy));
        if (count == 0) return;
        if (SparseTraining() is { } pattern)
        {
            GradientsSparse(pattern, MemoryMarshal.Cast<T, float>(x)[..(count * Columns)], MemoryMarshal.Cast<T, float>(dy)[..(count * Rows)], count);
            return;
        }
        Blas.Gemm(true, false, Rows, Columns, count, T.One, dy, Rows, x, Columns, T.One, Weight.Gradient, Columns);
        if (_prunedCount > 0) TensorPrimitives.Multiply(Weight.Gradient, _mask, Weight.Gradient);
    }

    /// <inheritdoc/>
    public void GatherRows(ReadOnlySpan<int> rows, Span<T> output)
    {
        int n = Columns;
        for (int k = 0; k < rows.Length; k++)
        {
            int at = CheckedRow(rows[k]) * n;
            TensorPrimitives.Multiply(Weight.Value.AsSpan(at, n), _mask.AsSpan(at, n), output.Slice(k * n, n));
        }
    }

    /// <inheritdoc/>
    /// <remarks>Pruned entries' gradients stay zero, as in <see cref="AccumulateGradients"/>.</remarks>
    public void AccumulateRowGradients(ReadOnlySpan<int> rows, ReadOnlySpan<T> dOutput)
    {
        int n = Columns;
        for (int k = 0; k < rows.Length; k++)
        {
            int at = CheckedRow(rows[k]) * n;
            Span<T> gradient = Weight.Gradient.AsSpan(at, n);
            TensorPrimitives.FusedMultiplyAdd(dOutput.Slice(k * n, n), _mask.AsSpan(at, n), gradient, gradient);
        }
    }

    private int CheckedRow(int row) =>
        (uint)row < (uint)Rows ? row : throw new ArgumentOutOfRangeException(nameof(row), row, $"Row {row} is outside [0, {Rows}).");

    /// <inheritdoc/>
    /// <remarks>Pruned entries are zero.</remarks>
    public T[] ToDense()
    {
        var dense = new T[Weight.Length];
        TensorPrimitives.Multiply(Weight.Value, _mask, dense);
        return dense;
    }

    /// <inheritdoc/>
    public void BeginSteps() => (_steps ??= new StepPacking<T>(Rows, Columns)).Begin();

    /// <inheritdoc/>
    public void EndSteps() => _steps?.End();

    /// <summary>Whether the fp32 passes run on the kept entries alone (at most <see cref="SparseTrainingDensity"/> kept).</summary>
    internal bool TrainsSparse => SparseTraining() is not null;

    // Once few entries are kept, these two touch the kept entries alone (a 2600 × 650 S with 3.6% kept: about 0.6 ms a
    // call for the masked pass over every entry, which forming a doped Kronecker W pays on every pass).

    /// <summary>Adds W∘M to <paramref name="dense"/> (Rows × Columns, row-major).</summary>
    internal void AddMaskedTo(Span<T> dense)
    {
        if (SparseTraining() is { } pattern)
        {
            T[] values = Weight.Value;
            foreach (int at in pattern.Positions) dense[at] += values[at];
            return;
        }
        MaskedAdd(Weight.Value, _mask, dense[..Weight.Length]);
    }

    /// <summary>Adds ∂L/∂W∘M (<paramref name="gradient"/>, Rows × Columns) to the gradient: what a product with W∘M passes to W.</summary>
    internal void AccumulateDenseGradient(ReadOnlySpan<T> gradient)
    {
        if (SparseTraining() is { } pattern)
        {
            T[] sink = Weight.Gradient;
            foreach (int at in pattern.Positions) sink[at] += gradient[at];
            return;
        }
        MaskedAdd(gradient[..Weight.Length], _mask, Weight.Gradient);
    }

    // target += values∘mask, in chunks split over the pool: memory-bound, and 26 MB a pass for a 10,000 × 650 matrix.
    private static void MaskedAdd(ReadOnlySpan<T> values, ReadOnlySpan<T> mask, Span<T> target)
    {
        var body = new MaskedAddBody(values, mask, target);
        int chunks = (target.Length + MaskedAddBody.Chunk - 1) / MaskedAddBody.Chunk;
        if (chunks < 4) body.Invoke(0, chunks);
        else WorkerPool.Shared.For(chunks, body);
    }

    private readonly ref struct MaskedAddBody(ReadOnlySpan<T> values, ReadOnlySpan<T> mask, Span<T> target) : IRangeBody
    {
        public const int Chunk = 1 << 15;
        private readonly ReadOnlySpan<T> _values = values, _mask = mask;
        private readonly Span<T> _target = target;

        public void Invoke(int start, int end)
        {
            for (int c = start; c < end; c++)
            {
                int at = c * Chunk, length = Math.Min(Chunk, _target.Length - at);
                Span<T> target = _target.Slice(at, length);
                TensorPrimitives.FusedMultiplyAdd(_values.Slice(at, length), _mask.Slice(at, length), target, target);
            }
        }
    }

    // The kept entries when the passes should run on them alone: fp32, and at most SparseTrainingDensity of the entries kept.
    private SparsePattern? SparseTraining()
    {
        if (typeof(T) != typeof(float) || _mask.Length - _prunedCount > SparseTrainingDensity * _mask.Length) return null;
        return _pattern ??= SparsePattern.FromMask<T>(_mask, Rows, Columns);
    }

    // y (+)= x·(W∘M)ᵀ over the kept entries, in the batch-minor layout: xᵀ, then yᵀ by rows of S, then y.
    private void ForwardSparse(SparsePattern pattern, ReadOnlySpan<float> x, Span<float> y, int count, bool accumulate)
    {
        float[] xT = ArrayPool<float>.Shared.Rent(Columns * count), yT = ArrayPool<float>.Shared.Rent(Rows * count);
        float[] values = ArrayPool<float>.Shared.Rent(pattern.NonZeros);
        try
        {
            SparseTrainingKernels.Transpose(x, count, Columns, xT);
            SparsePattern.Gather(MemoryMarshal.Cast<T, float>(Weight.Value.AsSpan()), pattern.Positions, values);
            SparseTrainingKernels.Forward(pattern, values, xT, yT, count);
            SparseTrainingKernels.Transpose(yT, Rows, count, y, accumulate);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(xT);
            ArrayPool<float>.Shared.Return(yT);
            ArrayPool<float>.Shared.Return(values);
        }
    }

    // dx (+)= dy·(W∘M) over the kept entries: dyᵀ, then dxᵀ by columns of S, then dx.
    private void BackwardSparse(SparsePattern pattern, ReadOnlySpan<float> dy, Span<float> dx, int count, bool accumulate)
    {
        float[] dyT = ArrayPool<float>.Shared.Rent(Rows * count), dxT = ArrayPool<float>.Shared.Rent(Columns * count);
        float[] values = ArrayPool<float>.Shared.Rent(pattern.NonZeros);
        try
        {
            SparseTrainingKernels.Transpose(dy, count, Rows, dyT);
            SparsePattern.Gather(MemoryMarshal.Cast<T, float>(Weight.Value.AsSpan()), pattern.ColumnPositions, values);
            SparseTrainingKernels.BackwardInput(pattern, values, dyT, dxT, count);
            SparseTrainingKernels.Transpose(dxT, Columns, count, dx, accumulate);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(dyT);
            ArrayPool<float>.Shared.Return(dxT);
            ArrayPool<float>.Shared.Return(values);
        }
    }

    // The gradient += dyᵀ·x at the kept entries only (pruned ones stay zero).
    private void GradientsSparse(SparsePattern pattern, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, int count)
    {
        float[] xT = ArrayPool<float>.Shared.Rent(Columns * count), dyT = ArrayPool<float>.Shared.Rent(Rows * count);
        float[] sums = ArrayPool<float>.Shared.Rent(pattern.NonZeros);
        try
        {
            SparseTrainingKernels.Transpose(x, count, Columns, xT);
            SparseTrainingKernels.Transpose(dy, count, Rows, dyT);
            Span<float> kept = sums.AsSpan(0, pattern.NonZeros);
            kept.Clear();
            SparseTrainingKernels.AccumulateGradients(pattern, xT, dyT, count, kept);
            Span<float> gradient = MemoryMarshal.Cast<T, float>(Weight.Gradient.AsSpan());
            int[] positions = pattern.Positions;
            for (int k = 0; k < kept.Length; k++) gradient[positions[k]] += kept[k];
        }
        finally
        {
            ArrayPool<float>.Shared.Return(xT);
            ArrayPool<float>.Shared.Return(dyT);
            ArrayPool<float>.Shared.Return(sums);
        }
    }

    private void WithMaskedWeights<TArg>(ReadOnlySpanAction<T, TArg> use, TArg argument)
    {
        T[]? rented = RentMaskedWeights(out ReadOnlySpan<T> weights);
        try
        {
            use(weights, argument);
        }
        finally
        {
            if (rented is not null) ArrayPool<T>.Shared.Return(rented);
        }
    }

    // The weights the passes read: the values themselves while nothing is pruned, else a pooled masked copy (returned,
    // for the caller to give back to the pool).
    private T[]? RentMaskedWeights(out ReadOnlySpan<T> weights)
    {
        if (_prunedCount == 0)
        {
            weights = Weight.Value;
            return null;
        }
        T[] rented = ArrayPool<T>.Shared.Rent(Weight.Length);
        Span<T> masked = rented.AsSpan(0, Weight.Length);
        TensorPrimitives.Multiply(Weight.Value, _mask, masked);
        weights = masked;
        return rented;
    }

    // Raising slice-window SliceWindow's number of entries per row from Number to Number + 1, worth the mean square it adds.
    private readonly record struct TileRaise(double Worth, int SliceWindow, int Number) : IComparable<TileRaise>
    {
        public int CompareTo(TileRaise other)
        {
            int byWorth = other.Worth.CompareTo(Worth);
            if (byWorth != 0) return byWorth;
            int bySliceWindow = SliceWindow.CompareTo(other.SliceWindow);
            return bySliceWindow != 0 ? bySliceWindow : Number.CompareTo(other.Number);
        }
    }

    private readonly record struct Candidate(double Magnitude, int Index) : IComparable<Candidate>
    {
        public int CompareTo(Candidate other)
        {
            int byMagnitude = Magnitude.CompareTo(other.Magnitude);
            return byMagnitude != 0 ? byMagnitude : Index.CompareTo(other.Index);
        }
    }
}
