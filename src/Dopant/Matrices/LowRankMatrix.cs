using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using Dopant.Numerics;

namespace Dopant.Matrices;

/// <summary>
/// Low-rank matrix factorization (LMF): W (m × n) = U · V with U of shape [m, r] and V of shape [r, n], storing
/// r·(m + n) weights instead of m·n.
/// </summary>
/// <remarks>
/// W is never formed in the passes: a batch goes through the rank-r bottleneck, y = (x · Vᵀ) · Uᵀ, with the
/// count × r intermediate in a pooled scratch buffer, so a pass costs r·(m + n) multiply-adds per sample.
/// </remarks>
public sealed class LowRankMatrix<T> : IWeightMatrix<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Parameter<T>[] _parameters;

    /// <summary>
    /// Creates a zero rank-<paramref name="rank"/> factorization of a <paramref name="rows"/> × <paramref name="columns"/>
    /// matrix, with factors named <c>{prefix}.lmf_u</c> [rows, rank] and <c>{prefix}.lmf_v</c> [rank, columns].
    /// </summary>
    public LowRankMatrix(string prefix, int rows, int columns, int rank)
    {
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(columns);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rank);
        if (rank > Math.Min(rows, columns))
            throw new ArgumentOutOfRangeException(nameof(rank), rank,
                $"A rank above min(rows, columns) = {Math.Min(rows, columns)} stores more than the dense {rows}×{columns} matrix and adds nothing.");
        Rank = rank;
        Left = new Parameter<T>(prefix + ".lmf_u", rows, rank);
        Right = new Parameter<T>(prefix + ".lmf_v", rank, columns);
        _parameters = [Left, Right];
    }

    /// <summary>The rank r.</summary>
    public int Rank { get; }

    /// <summary>The left factor U, [Rows, Rank].</summary>
    public Parameter<T> Left { get; }

    /// <summary>The right factor V, [Rank, Columns].</summary>
    public Parameter<T> Right { get; }

    /// <inheritdoc/>
    public int Rows => Left.Shape[0];

    /// <inheritdoc/>
    public int Columns => Right.Shape[1];

    /// <inheritdoc/>
    public IReadOnlyList<Parameter<T>> Parameters => _parameters;

    /// <inheritdoc/>
    public long ParameterCount => (long)Left.Length + Right.Length;

    /// <inheritdoc/>
    public long StorageBytes => ParameterCount * Unsafe.SizeOf<T>();

    /// <summary>
    /// The largest rank r whose factorization stores at most m·n / <paramref name="factor"/> weights, that is
    /// r·(m + n) ≤ m·n / factor; 0 when even rank 1 exceeds that budget.
    /// </summary>
    /// <param name="rows">m.</param>
    /// <param name="columns">n.</param>
    /// <param name="factor">The compression factor, at least 1.</param>
    public static int RankFor(int rows, int columns, double factor)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(columns);
        if (!double.IsFinite(factor) || factor < 1)
            throw new ArgumentOutOfRangeException(nameof(factor), factor, "The compression factor must be a finite number of at least 1.");
        double budget = (double)rows * columns / factor;
        long perRank = (long)rows + columns;
        long rank = (long)Math.Floor(budget / perRank);
        // Settle the floor exactly against the budget test, whatever the rounding of the division.
        while (rank > 0 && rank * perRank > budget) rank--;
        while ((rank + 1) * perRank <= budget) rank++;
        return (int)Math.Min(rank, Math.Min(rows, columns));
    }

    /// <summary>
    /// The rank-<paramref name="rank"/> factorization nearest to <paramref name="dense"/> (row-major,
    /// <paramref name="rows"/> × <paramref name="columns"/>) in Frobenius norm: U = U_r·√Σ_r and V = √Σ_r·V_rᵀ from
    /// the truncated SVD (Eckart–Young), computed in double.
    /// </summary>
    public static LowRankMatrix<T> FromDense(string prefix, ReadOnlySpan<T> dense, int rows, int columns, int rank)
    {
        var result = new LowRankMatrix<T>(prefix, rows, columns, rank);
        if (dense.Length != (long)rows * columns)
            throw new ArgumentException($"Expected {(long)rows * columns} dense values for {rows}×{columns}, got {dense.Length}.", nameof(dense));
        WriteTruncatedSvd(dense, rows, columns, rank, result.Left.Value, result.Right.Value);
        return result;
    }

    /// <inheritdoc/>
    public void Forward(ReadOnlySpan<T> x, Span<T> y, int count, bool accumulate)
    {
        BatchCheck.Rows(x.Length, Columns, y.Length, Rows, count, nameof(x), nameof(y));
        if (count == 0) return;
        int r = Rank;
        T[] rented = ArrayPool<T>.Shared.Rent(count * r);
        try
        {
            Span<T> h = rented.AsSpan(0, count * r);
            // h [count × r] = x · Vᵀ, then y [count × m] (+)= h · Uᵀ.
            Blas.Gemm(false, true, count, r, Columns, T.One, x, Columns, Right.Value, Columns, T.Zero, h, r);
            Blas.Gemm(false, true, count, Rows, r, T.One, h, r, Left.Value, r, accumulate ? T.One : T.Zero, y, Rows);
        }
        finally
        {
            ArrayPool<T>.Shared.Return(rented);
        }
    }

    /// <inheritdoc/>
    public void BackwardInput(ReadOnlySpan<T> dy, Span<T> dx, int count, bool accumulate)
    {
        BatchCheck.Rows(dy.Length, Rows, dx.Length, Columns, count, nameof(dy), nameof(dx));
        if (count == 0) return;
        int r = Rank;
        T[] rented = ArrayPool<T>.Shared.Rent(count * r);
        try
        {
            Span<T> dh = rented.AsSpan(0, count * r);
            // dx = dy · U · V: dh [count × r] = dy · U, then dx (+)= dh · V.
            Blas.Gemm(false, false, count, r, Rows, T.One, dy, Rows, Left.Value, r, T.Zero, dh, r);
            Blas.Gemm(false, false, count, Columns, r, T.One, dh, r, Right.Value, Columns, accumulate ? T.One : T.Zero, dx, Columns);
        }
        finally
        {
            ArrayPool<T>.Shared.Return(rented);
        }
    }

    /// <inheritdoc/>
    /// <remarks>With h = x·Vᵀ and G = ∂L/∂y: ∂L/∂U = Gᵀ·h and ∂L/∂V = (G·U)ᵀ·x.</remarks>
    public void AccumulateGradients(ReadOnlySpan<T> x, ReadOnlySpan<T> dy, int count)
    {
        BatchCheck.Rows(x.Length, Columns, dy.Length, Rows, count, nameof(x), nameof(dy));
        if (count == 0) return;
        int r = Rank;
        T[] rented = ArrayPool<T>.Shared.Rent(count * r);
        try
        {
            Span<T> h = rented.AsSpan(0, count * r);
            Blas.Gemm(false, true, count, r, Columns, T.One, x, Columns, Right.Value, Columns, T.Zero, h, r);
            Blas.Gemm(true, false, Rows, r, count, T.One, dy, Rows, h, r, T.One, Left.Gradient, r);
            Blas.Gemm(false, false, count, r, Rows, T.One, dy, Rows, Left.Value, r, T.Zero, h, r);
            Blas.Gemm(true, false, r, Columns, count, T.One, h, r, x, Columns, T.One, Right.Gradient, Columns);
        }
        finally
        {
            ArrayPool<T>.Shared.Return(rented);
        }
    }

    /// <inheritdoc/>
    /// <remarks>W[i] = U[i]·V: the rows of U gathered, then one product with V.</remarks>
    public void GatherRows(ReadOnlySpan<int> rows, Span<T> output)
    {
        int count = rows.Length, r = Rank;
        if (count == 0) return;
        T[] rented = ArrayPool<T>.Shared.Rent(count * r);
        try
        {
            Span<T> u = GatherLeftRows(rows, rented);
            Blas.Gemm(false, false, count, Columns, r, T.One, u, r, Right.Value, Columns, T.Zero, output, Columns);
        }
        finally
        {
            ArrayPool<T>.Shared.Return(rented);
        }
    }

    /// <inheritdoc/>
    /// <remarks>With G = ∂L/∂output: ∂L/∂U[i_k] += G[k]·Vᵀ and ∂L/∂V += Σ_k U[i_k]ᵀ ⊗ G[k].</remarks>
    public void AccumulateRowGradients(ReadOnlySpan<int> rows, ReadOnlySpan<T> dOutput)
    {
        int count = rows.Length, r = Rank;
        if (count == 0) return;
        T[] rented = ArrayPool<T>.Shared.Rent(2 * count * r);
        try
        {
            Span<T> u = GatherLeftRows(rows, rented);
            Blas.Gemm(true, false, r, Columns, count, T.One, u, r, dOutput, Columns, T.One, Right.Gradient, Columns);
            Span<T> du = rented.AsSpan(count * r, count * r);
            Blas.Gemm(false, true, count, r, Columns, T.One, dOutput, Columns, Right.Value, Columns, T.Zero, du, r);
            for (int k = 0; k < count; k++)
            {
                Span<T> gradient = Left.Gradient.AsSpan(rows[k] * r, r);
                TensorPrimitives.Add(gradient, du.Slice(k * r, r), gradient);
            }
        }
        finally
        {
            ArrayPool<T>.Shared.Return(rented);
        }
    }

    private Span<T> GatherLeftRows(ReadOnlySpan<int> rows, T[] buffer)
    {
        int r = Rank;
        Span<T> u = buffer.AsSpan(0, rows.Length * r);
        for (int k = 0; k < rows.Length; k++)
        {
            if ((uint)rows[k] >= (uint)Rows) throw new ArgumentOutOfRangeException(nameof(rows), rows[k], $"Row {rows[k]} is outside [0, {Rows}).");
            Left.Value.AsSpan(rows[k] * r, r).CopyTo(u.Slice(k * r, r));
        }
        return u;
    }

    /// <inheritdoc/>
    public T[] ToDense()
    {
        var dense = new T[(long)Rows * Columns];
        Blas.Gemm(false, false, Rows, Columns, Rank, T.One, Left.Value, Rank, Right.Value, Columns, T.Zero, dense, Columns);
        return dense;
    }

    /// <summary>
    /// Writes the best rank-<paramref name="rank"/> factors of <paramref name="dense"/> (rows × columns, row-major):
    /// <paramref name="left"/> [rows, rank] = U_r·√Σ_r and <paramref name="right"/> [rank, columns] = √Σ_r·V_rᵀ.
    /// Splitting √Σ evenly keeps both factors on the same scale, which suits gradient training afterwards.
    /// </summary>
    internal static void WriteTruncatedSvd(ReadOnlySpan<T> dense, int rows, int columns, int rank, Span<T> left, Span<T> right)
    {
        if (rank == 0 || rows == 0) return;
        var a = new double[(long)rows * columns];
        for (int k = 0; k < a.Length; k++) a[k] = double.CreateChecked(dense[k]);
        (double[] sigma, double[][] u, double[][] v) = TruncatedSvd.Top(a, rows, columns, Math.Min(rank, Math.Min(rows, columns)));
        left[..(rows * rank)].Clear();
        right[..(rank * columns)].Clear();
        for (int k = 0; k < sigma.Length; k++)
        {
            double scale = Math.Sqrt(sigma[k]);
            for (int i = 0; i < rows; i++) left[i * rank + k] = T.CreateChecked(scale * u[k][i]);
            Span<T> target = right.Slice(k * columns, columns);
            for (int j = 0; j < columns; j++) target[j] = T.CreateChecked(scale * v[k][j]);
        }
    }
}
