using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;
using Dopant.Numerics;

namespace Dopant.Matrices;

/// <summary>
/// A doped matrix W = M + S (Thakker et al., "Doping: a technique for efficient compression of LSTM models using
/// sparse structured additive matrices", MLSys 2021): a structured matrix M (Kronecker, low-rank, hybrid) plus an
/// extremely sparse additive matrix S. S is a <see cref="PrunedMatrix{T}"/>: it starts dense (or at some density)
/// and is pruned by magnitude on an annealed schedule to its final sparsity; pruned entries stay pruned.
/// </summary>
/// <remarks>
/// Co-matrix dropout (<see cref="SparseDropout"/>, and optionally <see cref="StructureDropout"/>) drops elements of a
/// path's output during training. <see cref="SparseEnabled"/> switches S off, for the co-matrix adaptation diagnostic
/// (the loss with S off against on) and for the plain structured baseline.
/// </remarks>
public sealed class DopedMatrix<T> : IWeightMatrix<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Parameter<T>[] _parameters;
    private CoMatrixDropout<T>? _sparseDropout, _structureDropout;
    private readonly MaterializedProducts<T>? _fused;

    /// <summary>Combines a structured matrix and a sparse matrix of the same shape.</summary>
    public DopedMatrix(IWeightMatrix<T> structure, PrunedMatrix<T> sparse)
    {
        ArgumentNullException.ThrowIfNull(structure);
        ArgumentNullException.ThrowIfNull(sparse);
        if (structure.Rows != sparse.Rows || structure.Columns != sparse.Columns)
            throw new ArgumentException($"The structured matrix is {structure.Rows}×{structure.Columns} but the sparse matrix is {sparse.Rows}×{sparse.Columns}.", nameof(sparse));
        Structure = structure;
        Sparse = sparse;
        _parameters = [.. structure.Parameters, .. sparse.Parameters];
        if (structure is KroneckerMatrix<T> kronecker)
            _fused = new MaterializedProducts<T>(Rows, Columns, dense =>
            {
                kronecker.Materialize(dense);
                Sparse.AddMaskedTo(dense);
            }, gradient =>
            {
                kronecker.AccumulateDenseGradient(gradient);
                Sparse.AccumulateDenseGradient(gradient);
            });
    }

    /// <summary>The structured part M.</summary>
    public IWeightMatrix<T> Structure { get; }

    /// <summary>The sparse doping matrix S.</summary>
    public PrunedMatrix<T> Sparse { get; }

    /// <summary>Co-matrix dropout on the output of S (training only); null for none.</summary>
    public CoMatrixDropout<T>? SparseDropout
    {
        get => _sparseDropout;
        set => _sparseDropout = CheckUnits(value);
    }

    /// <summary>Co-matrix dropout on the output of the structured part (training only); null for none.</summary>
    public CoMatrixDropout<T>? StructureDropout
    {
        get => _structureDropout;
        set => _structureDropout = CheckUnits(value);
    }

    /// <summary>Whether S takes part in the passes (true by default).</summary>
    public bool SparseEnabled { get; set; } = true;

    /// <inheritdoc/>
    public int Rows => Structure.Rows;

    /// <inheritdoc/>
    public int Columns => Structure.Columns;

    /// <inheritdoc/>
    public IReadOnlyList<Parameter<T>> Parameters => _parameters;

    /// <summary>The structured part's parameters plus the nonzeros of S.</summary>
    public long ParameterCount => Structure.ParameterCount + Sparse.ParameterCount;

    /// <summary>The structured part's bytes plus S in CSR (values, column indices and row pointers).</summary>
    public long StorageBytes => Structure.StorageBytes + Sparse.StorageBytes;

    /// <inheritdoc/>
    public void Forward(ReadOnlySpan<T> x, Span<T> y, int count, bool accumulate)
    {
        BatchCheck.Rows(x.Length, Columns, y.Length, Rows, count, nameof(x), nameof(y));
        if (count > 0 && IsFused)
        {
            _fused!.Forward(x, y, count, accumulate);
            return;
        }
        ForwardPath(Structure, StructureDropout, x, y, count, accumulate);
        if (SparseEnabled) ForwardPath(Sparse, SparseDropout, x, y, count, accumulate: true);
    }

    /// <inheritdoc/>
    public void BackwardInput(ReadOnlySpan<T> dy, Span<T> dx, int count, bool accumulate)
    {
        BatchCheck.Rows(dy.Length, Rows, dx.Length, Columns, count, nameof(dy), nameof(dx));
        if (count > 0 && IsFused)
        {
            _fused!.BackwardInput(dy, dx, count, accumulate);
            return;
        }
        BackwardPath(Structure, StructureDropout, dy, dx, count, accumulate);
        if (SparseEnabled) BackwardPath(Sparse, SparseDropout, dy, dx, count, accumulate: true);
    }

    /// <inheritdoc/>
    public void AccumulateGradients(ReadOnlySpan<T> x, ReadOnlySpan<T> dy, int count)
    {
        BatchCheck.Rows(x.Length, Columns, dy.Length, Rows, count, nameof(x), nameof(dy));
        if (count > 0 && IsFused)
        {
            _fused!.AccumulateGradients(x, dy, count);
            return;
        }
        GradientPath(Structure, StructureDropout, x, dy, count);
        if (SparseEnabled) GradientPath(Sparse, SparseDropout, x, dy, count);
    }

    /// <inheritdoc/>
    /// <remarks>M's rows plus S's, each read directly (no co-matrix dropout: a row read is not a product's output).</remarks>
    public void GatherRows(ReadOnlySpan<int> rows, Span<T> output)
    {
        int length = rows.Length * Columns;
        if (output.Length < length) throw new ArgumentException($"output holds {output.Length} values; {rows.Length}×{Columns} needed.", nameof(output));
        Structure.GatherRows(rows, output);
        if (!SparseEnabled || length == 0) return;
        T[] rented = ArrayPool<T>.Shared.Rent(length);
        try
        {
            Span<T> sparse = rented.AsSpan(0, length);
            Sparse.GatherRows(rows, sparse);
            TensorPrimitives.Add(output[..length], sparse, output[..length]);
        }
        finally
        {
            ArrayPool<T>.Shared.Return(rented);
        }
    }

    /// <inheritdoc/>
    public void AccumulateRowGradients(ReadOnlySpan<int> rows, ReadOnlySpan<T> dOutput)
    {
        if (dOutput.Length < rows.Length * Columns) throw new ArgumentException($"dOutput holds {dOutput.Length} values; {rows.Length}×{Columns} needed.", nameof(dOutput));
        Structure.AccumulateRowGradients(rows, dOutput);
        if (SparseEnabled) Sparse.AccumulateRowGradients(rows, dOutput);
    }

    /// <inheritdoc/>
    public void BeginSteps()
    {
        _fused?.BeginSteps();
        Structure.BeginSteps();
        Sparse.BeginSteps();
    }

    /// <inheritdoc/>
    public void EndSteps()
    {
        _fused?.EndSteps();
        Structure.EndSteps();
        Sparse.EndSteps();
    }

    // Unless co-matrix dropout separates the two outputs, M + S of a Kronecker structure is formed once and multiplied in
    // one GEMM per pass when the structure multiplies by its materialized W anyway (S then costs one masked add), while
    // S is still too dense for sparse passes (its masked GEMM then costs as much as the fused one), and in a run of
    // steps, where W formed and packed once serves every step (medium's W_hh at rank 2 with 3.6% of S kept: 22-33 ms
    // for a window's 35 steps forward through the factored and sparse passes, 14-18 ms fused). At a window's 700 rows
    // the factored and sparse passes (15.2 / 12.6 / 17.0 ms forward / input gradient / weight gradient) measured no
    // slower than the fused ones (15.5 / 25.7 / 27.1 ms, forming W and splitting ∂L/∂W included), and are kept.
    private bool IsFused => SparseEnabled && !Active(_sparseDropout) && !Active(_structureDropout)
        && Structure is KroneckerMatrix<T> kronecker && (kronecker.UsesDenseRoute || !Sparse.TrainsSparse || _fused!.InSteps);

    /// <summary>M + S (M alone while <see cref="SparseEnabled"/> is false), dense, row-major.</summary>
    public T[] ToDense()
    {
        T[] dense = Structure.ToDense();
        if (SparseEnabled) TensorPrimitives.Add(dense, Sparse.ToDense(), dense);
        return dense;
    }

    private CoMatrixDropout<T>? CheckUnits(CoMatrixDropout<T>? dropout)
    {
        if (dropout is not null && dropout.Units != Rows)
            throw new ArgumentException($"The dropout has {dropout.Units} units but the matrix has {Rows} rows.", nameof(dropout));
        return dropout;
    }

    private static bool Active(CoMatrixDropout<T>? dropout) => dropout is { IsActive: true };

    private static void ForwardPath(IWeightMatrix<T> path, CoMatrixDropout<T>? dropout, ReadOnlySpan<T> x, Span<T> y, int count, bool accumulate)
    {
        if (!Active(dropout))
        {
            path.Forward(x, y, count, accumulate);
            return;
        }
        int length = count * path.Rows;
        T[] scratch = ArrayPool<T>.Shared.Rent(length);
        try
        {
            Span<T> output = scratch.AsSpan(0, length);
            path.Forward(x, output, count, accumulate: false);
            dropout!.Apply(output, count);
            if (accumulate) TensorPrimitives.Add(y[..length], output, y[..length]);
            else output.CopyTo(y);
        }
        finally
        {
            ArrayPool<T>.Shared.Return(scratch);
        }
    }

    private static void BackwardPath(IWeightMatrix<T> path, CoMatrixDropout<T>? dropout, ReadOnlySpan<T> dy, Span<T> dx, int count, bool accumulate)
    {
        if (!Active(dropout))
        {
            path.BackwardInput(dy, dx, count, accumulate);
            return;
        }
        T[] masked = MaskedCopy(dropout!, dy, count, path.Rows);
        try { path.BackwardInput(masked, dx, count, accumulate); }
        finally { ArrayPool<T>.Shared.Return(masked); }
    }

    private static void GradientPath(IWeightMatrix<T> path, CoMatrixDropout<T>? dropout, ReadOnlySpan<T> x, ReadOnlySpan<T> dy, int count)
    {
        if (!Active(dropout))
        {
            path.AccumulateGradients(x, dy, count);
            return;
        }
        T[] masked = MaskedCopy(dropout!, dy, count, path.Rows);
        try { path.AccumulateGradients(x, masked, count); }
        finally { ArrayPool<T>.Shared.Return(masked); }
    }

    // The mask scales the path's output, so the gradient reaching the path is dy scaled by the same mask.
    private static T[] MaskedCopy(CoMatrixDropout<T> dropout, ReadOnlySpan<T> dy, int count, int rows)
    {
        int length = count * rows;
        T[] masked = ArrayPool<T>.Shared.Rent(Math.Max(length, 1));
        dy[..length].CopyTo(masked);
        dropout.Apply(masked.AsSpan(0, length), count);
        return masked;
    }
}
