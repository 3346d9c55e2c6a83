using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using Dopant.Numerics;

namespace Dopant.Matrices;

/// <summary>
/// A weight matrix stored as a Kronecker chain of k ≥ 2 factors, or a sum of R such chains:
/// W = Σ_{r&lt;R} A_1,r ⊗ A_2,r ⊗ … ⊗ A_k,r with A_i,r of shape m_i × n_i (<see cref="KroneckerChainShape"/>).
/// Row i of W has the mixed-radix digits (i_1, …, i_k) over (m_1, …, m_k), i_1 the most significant, column j
/// likewise over (n_1, …, n_k), and W[i, j] = Σ_r Π_l A_l,r[i_l, j_l]; for k = 2 this is <see cref="KroneckerMatrix{T}"/>'s convention.
/// </summary>
/// <remarks>
/// W is never formed in the passes. A batch of samples, read as a tensor [s][n_1]…[n_k], meets one factor at a time,
/// the last first: the trailing extent n_i is contracted with A_i by one GEMM over the whole batch,
/// out [m_i × P] = A_i · Zᵀ for Z [P × n_i], which also rotates the new extent to the front. After k GEMMs the batch
/// is [m_1]…[m_k][s], summed over the chains, and one transpose gives the row-major output.
/// </remarks>
public sealed class KroneckerChainMatrix<T> : IWeightMatrix<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Parameter<T>[] _factors;
    private readonly int _scratchPerSample;

    /// <summary>
    /// Creates a zero sum of <paramref name="rank"/> chains whose factors are named <c>{prefix}.kron_1</c> …
    /// <c>{prefix}.kron_k</c>, factor i of shape [rank, m_i, n_i].
    /// </summary>
    public KroneckerChainMatrix(string prefix, KroneckerChainShape shape, int rank = 1)
    {
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rank);
        Shape = shape;
        Rank = rank;
        _factors = new Parameter<T>[shape.Count];
        long perSample = 1;
        for (int i = 0; i < shape.Count; i++)
        {
            _factors[i] = new Parameter<T>($"{prefix}.kron_{i + 1}", rank, shape.FactorRows[i], shape.FactorColumns[i]);
            perSample *= Math.Max(shape.FactorRows[i], shape.FactorColumns[i]);
        }
        // Every intermediate of a pass holds, per sample, one extent of each factor, so at most Π max(m_i, n_i) values.
        _scratchPerSample = perSample <= Array.MaxLength ? (int)perSample
            : throw new ArgumentException($"Kronecker chain shape {shape} needs intermediates too large for an array.", nameof(shape));
    }

    /// <summary>The factor shapes.</summary>
    public KroneckerChainShape Shape { get; }

    /// <summary>The number R of summed chains.</summary>
    public int Rank { get; }

    /// <summary>The factors A_i (0-based i), each [R, m_i, n_i].</summary>
    public IReadOnlyList<Parameter<T>> Factors => _factors;

    /// <inheritdoc/>
    public int Rows => Shape.Rows;

    /// <inheritdoc/>
    public int Columns => Shape.Columns;

    /// <inheritdoc/>
    public IReadOnlyList<Parameter<T>> Parameters => _factors;

    /// <inheritdoc/>
    public long ParameterCount => Shape.ParameterCount(Rank);

    /// <inheritdoc/>
    public long StorageBytes => ParameterCount * Unsafe.SizeOf<T>();

    /// <summary>Fills every factor with values drawn uniformly from [−<paramref name="range"/>, <paramref name="range"/>).</summary>
    /// <remarks>An element of W is a product of k such values; pick the range for the factors, not for W.</remarks>
    public void InitializeUniform(double range, Xoshiro256 random)
    {
        ArgumentNullException.ThrowIfNull(random);
        foreach (Parameter<T> p in _factors)
            for (int k = 0; k < p.Value.Length; k++)
                p.Value[k] = T.CreateChecked((2 * random.NextDouble() - 1) * range);
    }

    /// <summary>
    /// A sum of <paramref name="rank"/> chains of shape <paramref name="shape"/> close to <paramref name="dense"/>
    /// (row-major, shape.Rows × shape.Columns) in Frobenius norm, refined by <paramref name="sweeps"/> sweeps of
    /// alternating least squares.
    /// </summary>
    /// <remarks>
    /// For k &gt; 2 there is no closed form (it is a rank-R CP approximation of W rearranged into a k-way tensor, which
    /// may not even have a minimum); see <see cref="KroneckerChainFit"/> for the method: a Van Loan–Pitsianis split of
    /// A_1 from the rest, peeled recursively, then ALS. An exact chain is recovered to rounding. The rank is at most
    /// <see cref="KroneckerChainShape.MaxNearestRank"/>.
    /// </remarks>
    public static KroneckerChainMatrix<T> Nearest(string prefix, KroneckerChainShape shape, ReadOnlySpan<T> dense, int rank = 1,
        int sweeps = KroneckerChainFit.DefaultSweeps)
    {
        var result = new KroneckerChainMatrix<T>(prefix, shape, rank);
        if (dense.Length != (long)shape.Rows * shape.Columns)
            throw new ArgumentException($"Expected {(long)shape.Rows * shape.Columns} dense values for {shape.Rows}×{shape.Columns}, got {dense.Length}.", nameof(dense));
        if (rank > shape.MaxNearestRank)
            throw new ArgumentOutOfRangeException(nameof(rank), rank,
                $"Kronecker chain shape {shape} can be fitted with at most min(m_1·n_1, rest) = {shape.MaxNearestRank} chains; use a smaller rank.");
        ArgumentOutOfRangeException.ThrowIfNegative(sweeps);
        var values = new double[dense.Length];
        for (int k = 0; k < values.Length; k++) values[k] = double.CreateChecked(dense[k]);
        double[][][] chains = KroneckerChainFit.Fit(shape, values, rank, sweeps);
        for (int r = 0; r < rank; r++)
            for (int i = 0; i < shape.Count; i++)
            {
                int size = shape.FactorSize(i);
                Span<T> target = result._factors[i].Value.AsSpan(r * size, size);
                for (int k = 0; k < size; k++) target[k] = T.CreateChecked(chains[r][i][k]);
            }
        return result;
    }

    /// <inheritdoc/>
    public void Forward(ReadOnlySpan<T> x, Span<T> y, int count, bool accumulate)
    {
        BatchCheck.Rows(x.Length, Columns, y.Length, Rows, count, nameof(x), nameof(y));
        Apply(x, y, count, accumulate, transpose: false);
    }

    /// <inheritdoc/>
    public void BackwardInput(ReadOnlySpan<T> dy, Span<T> dx, int count, bool accumulate)
    {
        // Wᵀ = Σ_r A_1,rᵀ ⊗ … ⊗ A_k,rᵀ: the same pass with every factor transposed.
        BatchCheck.Rows(dy.Length, Rows, dx.Length, Columns, count, nameof(dy), nameof(dx));
        Apply(dy, dx, count, accumulate, transpose: true);
    }

    /// <inheritdoc/>
    /// <remarks>
    /// With G_s = ∂L/∂Y_s and U_s the sample X_s with every factor but A_i,r applied (mode i keeps its n_i input
    /// extent), ∂L/∂A_i,r = Σ_s G_s,(i) · U_s,(i)ᵀ, the mode-i unfoldings. The chain pass that skips A_i leaves U as
    /// [m_1…m_i−1][n_i][m_i+1…m_k][s], and G transposed is [m_1…m_k][s], so the sum is one GEMM per leading index
    /// (m_1⋯m_i−1 of them) over β = m_i+1⋯m_k·count products.
    /// </remarks>
    public void AccumulateGradients(ReadOnlySpan<T> x, ReadOnlySpan<T> dy, int count)
    {
        BatchCheck.Rows(x.Length, Columns, dy.Length, Rows, count, nameof(x), nameof(dy));
        if (count == 0) return;
        int scratch = count * _scratchPerSample;
        T[] ping = ArrayPool<T>.Shared.Rent(scratch);
        T[] pong = ArrayPool<T>.Shared.Rent(scratch);
        T[] partial = ArrayPool<T>.Shared.Rent(scratch);
        T[] gradientByMode = ArrayPool<T>.Shared.Rent(count * Rows);
        try
        {
            Span<T> g = gradientByMode.AsSpan(0, count * Rows);
            Transpose(dy[..(count * Rows)], count, Rows, g, accumulate: false);
            for (int r = 0; r < Rank; r++)
            {
                int leading = 1, trailing = Rows;
                for (int i = 0; i < Shape.Count; i++)
                {
                    int m = Shape.FactorRows[i], n = Shape.FactorColumns[i], size = m * n;
                    trailing /= m;
                    int beta = trailing * count;
                    Span<T> u = partial.AsSpan(0, leading * n * beta);
                    Chain(x, count, r, transpose: false, skip: i, ping, pong, u, T.Zero);
                    Span<T> gradient = _factors[i].Gradient.AsSpan(r * size, size);
                    for (int a = 0; a < leading; a++)
                        Blas.Gemm(false, true, m, n, beta, T.One, g.Slice(a * m * beta, m * beta), beta,
                            u.Slice(a * n * beta, n * beta), beta, T.One, gradient, n);
                    leading *= m;
                }
            }
        }
        finally
        {
            ArrayPool<T>.Shared.Return(ping);
            ArrayPool<T>.Shared.Return(pong);
            ArrayPool<T>.Shared.Return(partial);
            ArrayPool<T>.Shared.Return(gradientByMode);
        }
    }

    /// <inheritdoc/>
    public T[] ToDense()
    {
        var dense = new T[(long)Rows * Columns];
        T[] product = new T[dense.Length], next = new T[dense.Length];
        for (int r = 0; r < Rank; r++)
        {
            // product = A_1 ⊗ … ⊗ A_i, grown one factor at a time.
            product[0] = T.One;
            int rows = 1, columns = 1;
            for (int i = 0; i < Shape.Count; i++)
            {
                int m = Shape.FactorRows[i], n = Shape.FactorColumns[i];
                ReadOnlySpan<T> a = _factors[i].Value.AsSpan(r * m * n, m * n);
                int width = columns * n;
                for (int p = 0; p < rows; p++)
                    for (int q = 0; q < columns; q++)
                    {
                        T scale = product[p * columns + q];
                        for (int i2 = 0; i2 < m; i2++)
                        {
                            Span<T> row = next.AsSpan((p * m + i2) * width + q * n, n);
                            ReadOnlySpan<T> factorRow = a.Slice(i2 * n, n);
                            for (int j2 = 0; j2 < n; j2++) row[j2] = scale * factorRow[j2];
                        }
                    }
                (product, next) = (next, product);
                rows *= m;
                columns = width;
            }
            for (int k = 0; k < dense.Length; k++) dense[k] += product[k];
        }
        return dense;
    }

    /// <summary>output (+)= input · Wᵀ (or · W when <paramref name="transpose"/>), summed over the chains.</summary>
    private void Apply(ReadOnlySpan<T> input, Span<T> output, int count, bool accumulate, bool transpose)
    {
        if (count == 0) return;
        int outputWidth = transpose ? Columns : Rows;
        int scratch = count * _scratchPerSample;
        T[] ping = ArrayPool<T>.Shared.Rent(scratch);
        T[] pong = ArrayPool<T>.Shared.Rent(scratch);
        T[] sum = ArrayPool<T>.Shared.Rent(count * outputWidth);
        try
        {
            Span<T> byMode = sum.AsSpan(0, count * outputWidth);
            for (int r = 0; r < Rank; r++)
                Chain(input, count, r, transpose, skip: -1, ping, pong, byMode, r == 0 ? T.Zero : T.One);
            // [out_1…out_k][s] to the row-major [s][out_1…out_k].
            Transpose(byMode, outputWidth, count, output[..(count * outputWidth)], accumulate);
        }
        finally
        {
            ArrayPool<T>.Shared.Return(ping);
            ArrayPool<T>.Shared.Return(pong);
            ArrayPool<T>.Shared.Return(sum);
        }
    }

    /// <summary>
    /// Applies chain <paramref name="rank"/> (its factors transposed when <paramref name="transpose"/>) to count samples
    /// [s][in_1…in_k], factor <paramref name="skip"/> excepted (−1: none), and writes the result, [out_1…out_k][s], to
    /// <paramref name="destination"/> (scaled previous contents by <paramref name="beta"/>, 0 or 1, added).
    /// </summary>
    private void Chain(ReadOnlySpan<T> input, int count, int rank, bool transpose, int skip,
        Span<T> ping, Span<T> pong, Span<T> destination, T beta)
    {
        int k = Shape.Count;
        ReadOnlySpan<T> current = input[..(count * (transpose ? Rows : Columns))];
        for (int i = k - 1; i >= 0; i--)
        {
            int m = Shape.FactorRows[i], n = Shape.FactorColumns[i];
            int inner = transpose ? m : n, outer = i == skip ? inner : transpose ? n : m;
            int p = current.Length / inner;
            Span<T> target = i == 0 ? destination[..(outer * p)] : ((k - 1 - i) % 2 == 0 ? ping : pong)[..(outer * p)];
            T scale = i == 0 ? beta : T.Zero;
            if (i == skip)
                Transpose(current, p, inner, target, accumulate: scale == T.One);
            else
                // target [outer × P] = op(A_i) [outer × inner] · current[P × inner]ᵀ.
                Blas.Gemm(transpose, true, outer, p, inner, T.One, _factors[i].Value.AsSpan(rank * m * n, m * n), n,
                    current, inner, scale, target, p);
            current = target;
        }
    }

    /// <summary>destination [columns × rows] = (or +=) sourceᵀ for a row-major <paramref name="rows"/> × <paramref name="columns"/> source.</summary>
    private static void Transpose(ReadOnlySpan<T> source, int rows, int columns, Span<T> destination, bool accumulate)
    {
        const int Tile = 32;
        for (int r0 = 0; r0 < rows; r0 += Tile)
        {
            int r1 = Math.Min(rows, r0 + Tile);
            for (int c0 = 0; c0 < columns; c0 += Tile)
            {
                int c1 = Math.Min(columns, c0 + Tile);
                for (int r = r0; r < r1; r++)
                {
                    ReadOnlySpan<T> row = source.Slice(r * columns, columns);
                    if (accumulate)
                        for (int c = c0; c < c1; c++) destination[c * rows + r] += row[c];
                    else
                        for (int c = c0; c < c1; c++) destination[c * rows + r] = row[c];
                }
            }
        }
    }
}
