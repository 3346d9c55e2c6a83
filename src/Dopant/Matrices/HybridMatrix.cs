using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using Dopant.Numerics;

namespace Dopant.Matrices;

/// <summary>
/// Hybrid matrix decomposition (HMD; Thakker et al. 2020, "Rank and run-time aware compression of NLP
/// applications"): the top d rows of W (m × n) are kept dense, the remaining m − d rows are a rank-r product U·V.
/// </summary>
/// <remarks>
/// Parameters: <c>{prefix}.hmd_dense</c> [d, n], <c>{prefix}.hmd_u</c> [m − d, r] and <c>{prefix}.hmd_v</c> [r, n];
/// d·n + r·(m − d + n) weights in all. An output row y (length m) splits into its first d entries, one GEMM against
/// the dense rows, and its last m − d entries, through the rank-r bottleneck; both write column blocks of the
/// row-major count × m output with leading dimension m, so nothing is copied.
/// </remarks>
public sealed class HybridMatrix<T> : IWeightMatrix<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The share of the parameter budget that <see cref="ShapeFor"/> gives to dense rows by default.</summary>
    public const double DefaultDenseFraction = 0.5;

    private readonly Parameter<T>[] _parameters;

    /// <summary>
    /// Creates a zero hybrid matrix of <paramref name="rows"/> × <paramref name="columns"/> whose top
    /// <paramref name="denseRows"/> rows are dense and whose other rows have rank <paramref name="rank"/>.
    /// </summary>
    /// <param name="prefix">The state-dict prefix of the three parameters.</param>
    /// <param name="rows">m.</param>
    /// <param name="columns">n.</param>
    /// <param name="denseRows">d, in [0, m].</param>
    /// <param name="rank">r, in [0, min(m − d, n)]; 0 makes the bottom rows zero.</param>
    public HybridMatrix(string prefix, int rows, int columns, int denseRows, int rank)
    {
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(columns);
        if (denseRows < 0 || denseRows > rows)
            throw new ArgumentOutOfRangeException(nameof(denseRows), denseRows, $"The number of dense rows must be in [0, {rows}].");
        int lowRankRows = rows - denseRows;
        if (rank < 0 || rank > Math.Min(lowRankRows, columns))
            throw new ArgumentOutOfRangeException(nameof(rank), rank,
                $"The rank of the {lowRankRows}×{columns} low-rank block must be in [0, {Math.Min(lowRankRows, columns)}].");
        Rows = rows;
        Columns = columns;
        DenseRows = denseRows;
        Rank = rank;
        Dense = new Parameter<T>(prefix + ".hmd_dense", denseRows, columns);
        Left = new Parameter<T>(prefix + ".hmd_u", lowRankRows, rank);
        Right = new Parameter<T>(prefix + ".hmd_v", rank, columns);
        _parameters = [Dense, Left, Right];
    }

    /// <summary>The number d of leading rows stored densely.</summary>
    public int DenseRows { get; }

    /// <summary>The rank r of the block of the remaining m − d rows.</summary>
    public int Rank { get; }

    /// <summary>The dense rows, [d, n].</summary>
    public Parameter<T> Dense { get; }

    /// <summary>The left factor U of the low-rank rows, [m − d, r].</summary>
    public Parameter<T> Left { get; }

    /// <summary>The right factor V of the low-rank rows, [r, n].</summary>
    public Parameter<T> Right { get; }

    /// <inheritdoc/>
    public int Rows { get; }

    /// <inheritdoc/>
    public int Columns { get; }

    /// <inheritdoc/>
    public IReadOnlyList<Parameter<T>> Parameters => _parameters;

    /// <inheritdoc/>
    public long ParameterCount => (long)Dense.Length + Left.Length + Right.Length;

    /// <inheritdoc/>
    public long StorageBytes => ParameterCount * Unsafe.SizeOf<T>();

    private int LowRankRows => Rows - DenseRows;

    /// <summary>
    /// Picks (d, r) for a compression factor: the budget is m·n / <paramref name="factor"/> weights; the dense rows take
    /// d = ⌊<paramref name="denseFraction"/>·budget / n⌋ of it (at most m), and the rank is the largest r with
    /// d·n + r·(m − d + n) ≤ budget (at most min(m − d, n)).
    /// </summary>
    /// <param name="rows">m.</param>
    /// <param name="columns">n.</param>
    /// <param name="factor">The compression factor, at least 1.</param>
    /// <param name="denseFraction">
    /// The share of the budget for dense rows, in [0, 1]; by default <see cref="DefaultDenseFraction"/> (half).
    /// 0 gives plain low rank, 1 keeps as many dense rows as the budget allows (a row-pruned matrix).
    /// </param>
    public static (int DenseRows, int Rank) ShapeFor(int rows, int columns, double factor, double denseFraction = DefaultDenseFraction)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(columns);
        if (!double.IsFinite(factor) || factor < 1)
            throw new ArgumentOutOfRangeException(nameof(factor), factor, "The compression factor must be a finite number of at least 1.");
        if (!(denseFraction >= 0 && denseFraction <= 1))
            throw new ArgumentOutOfRangeException(nameof(denseFraction), denseFraction, "The dense fraction must be in [0, 1].");
        double budget = (double)rows * columns / factor;
        int denseRows = (int)Math.Min(rows, Math.Floor(denseFraction * budget / columns));
        double remaining = budget - (double)denseRows * columns;
        int lowRankRows = rows - denseRows;
        long perRank = (long)lowRankRows + columns;
        long rank = (long)Math.Floor(remaining / perRank);
        while (rank > 0 && rank * perRank > remaining) rank--;
        while ((rank + 1) * perRank <= remaining) rank++;
        return (denseRows, (int)Math.Min(rank, Math.Min(lowRankRows, columns)));
    }

    /// <summary>
    /// The hybrid matrix nearest to <paramref name="dense"/> (row-major, <paramref name="rows"/> ×
    /// <paramref name="columns"/>) in Frobenius norm for the given shape: the top rows copied, the bottom block replaced by
    /// its truncated SVD (U = U_r·√Σ_r, V = √Σ_r·V_rᵀ, computed in double).
    /// </summary>
    public static HybridMatrix<T> FromDense(string prefix, ReadOnlySpan<T> dense, int rows, int columns, int denseRows, int rank)
    {
        var result = new HybridMatrix<T>(prefix, rows, columns, denseRows, rank);
        if (dense.Length != (long)rows * columns)
            throw new ArgumentException($"Expected {(long)rows * columns} dense values for {rows}×{columns}, got {dense.Length}.", nameof(dense));
        int split = denseRows * columns;
        dense[..split].CopyTo(result.Dense.Value);
        LowRankMatrix<T>.WriteTruncatedSvd(dense[split..], rows - denseRows, columns, rank, result.Left.Value, result.Right.Value);
        return result;
    }

    /// <inheritdoc/>
    public void Forward(ReadOnlySpan<T> x, Span<T> y, int count, bool accumulate)
    {
        BatchCheck.Rows(x.Length, Columns, y.Length, Rows, count, nameof(x), nameof(y));
        if (count == 0) return;
        int m = Rows, n = Columns, d = DenseRows, r = Rank;
        T beta = accumulate ? T.One : T.Zero;
        // y[:, :d] (+)= x · Dᵀ
        Blas.Gemm(false, true, count, d, n, T.One, x, n, Dense.Value, n, beta, y, m);
        if (LowRankRows == 0) return;
        T[] rented = ArrayPool<T>.Shared.Rent(count * r);
        try
        {
            // y[:, d:] (+)= (x · Vᵀ) · Uᵀ
            Span<T> h = rented.AsSpan(0, count * r);
            Blas.Gemm(false, true, count, r, n, T.One, x, n, Right.Value, n, T.Zero, h, r);
            Blas.Gemm(false, true, count, LowRankRows, r, T.One, h, r, Left.Value, r, beta, y[d..], m);
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
        int m = Rows, n = Columns, d = DenseRows, r = Rank;
        // dx (+)= dy[:, :d] · D + (dy[:, d:] · U) · V
        Blas.Gemm(false, false, count, n, d, T.One, dy, m, Dense.Value, n, accumulate ? T.One : T.Zero, dx, n);
        if (LowRankRows == 0) return;
        T[] rented = ArrayPool<T>.Shared.Rent(count * r);
        try
        {
            Span<T> dh = rented.AsSpan(0, count * r);
            Blas.Gemm(false, false, count, r, LowRankRows, T.One, dy[d..], m, Left.Value, r, T.Zero, dh, r);
            Blas.Gemm(false, false, count, n, r, T.One, dh, r, Right.Value, n, T.One, dx, n);
        }
        finally
        {
            ArrayPool<T>.Shared.Return(rented);
        }
    }

    /// <inheritdoc/>
    /// <remarks>
    /// With G = ∂L/∂y split into G_d (first d columns) and G_l (the rest), and h = x·Vᵀ:
    /// ∂L/∂D = G_dᵀ·x, ∂L/∂U = G_lᵀ·h and ∂L/∂V = (G_l·U)ᵀ·x.
    /// </remarks>
    public void AccumulateGradients(ReadOnlySpan<T> x, ReadOnlySpan<T> dy, int count)
    {
        BatchCheck.Rows(x.Length, Columns, dy.Length, Rows, count, nameof(x), nameof(dy));
        if (count == 0) return;
        int m = Rows, n = Columns, d = DenseRows, r = Rank, l = LowRankRows;
        Blas.Gemm(true, false, d, n, count, T.One, dy, m, x, n, T.One, Dense.Gradient, n);
        if (l == 0) return;
        T[] rented = ArrayPool<T>.Shared.Rent(count * r);
        try
        {
            Span<T> h = rented.AsSpan(0, count * r);
            ReadOnlySpan<T> lowRankDy = dy[d..];
            Blas.Gemm(false, true, count, r, n, T.One, x, n, Right.Value, n, T.Zero, h, r);
            Blas.Gemm(true, false, l, r, count, T.One, lowRankDy, m, h, r, T.One, Left.Gradient, r);
            Blas.Gemm(false, false, count, r, l, T.One, lowRankDy, m, Left.Value, r, T.Zero, h, r);
            Blas.Gemm(true, false, r, n, count, T.One, h, r, x, n, T.One, Right.Gradient, n);
        }
        finally
        {
            ArrayPool<T>.Shared.Return(rented);
        }
    }

    /// <inheritdoc/>
    public T[] ToDense()
    {
        int n = Columns, split = DenseRows * n;
        var dense = new T[(long)Rows * n];
        Dense.Value.CopyTo(dense, 0);
        Blas.Gemm(false, false, LowRankRows, n, Rank, T.One, Left.Value, Rank, Right.Value, n, T.Zero, dense.AsSpan(split), n);
        return dense;
    }
}
