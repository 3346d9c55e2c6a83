using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using Dopant.Numerics;

namespace Dopant.Matrices;

/// <summary>
/// A weight matrix stored as a sum of Kronecker products, W = Σ_{r&lt;R} A_r ⊗ B_r, with A_r of shape M1 × N1 and
/// B_r of shape M2 × N2 (Thakker et al. 2020, "Compressing RNNs for IoT devices by 15-38x using Kronecker products").
/// Element (i1·M2 + i2, j1·N2 + j2) of A ⊗ B is A[i1, j1]·B[i2, j2].
/// </summary>
/// <remarks>
/// A sample x of length N1·N2, read row-major as X (N1 × N2), maps to Y = Σ_r A_r·X·B_rᵀ (M1 × M2), which read
/// row-major is y = W·x. A whole batch goes through two GEMMs per pass, the rank folded into one of their dimensions
/// (<see cref="KroneckerSumProducts{T}"/>), unless that saves too few multiply-adds over W's own product: then the
/// passes form W (M·N multiply-adds, once per run of steps) and run W's GEMM, and the factors' gradients are the
/// projections of ∂L/∂W.
/// </remarks>
public sealed class KroneckerMatrix<T> : IWeightMatrix<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Parameter<T>[] _parameters;
    private readonly MaterializedProducts<T> _dense;

    /// <summary>
    /// The factored products run as GEMMs with inner dimensions of a factor's size (often under 50), far below the
    /// GEMM's speed on square shapes. Each product's multiply-adds are weighted by 1 + <see cref="HalfSpeedDepth"/>/k
    /// for its inner dimension k; unless the factored passes weigh this many times less than W's own product, they
    /// multiply by the materialized W (M·N multiply-adds to form, once per pass or per run of steps) instead.
    /// </summary>
    /// <remarks>
    /// Whole medium training, 2 threads, tied and with S in 16×64 tiles: the 10,000 × 650 decoder as doped
    /// 200×13 ⊗ 50×50 trained 1.24x faster factored at rank 6 (weighted advantage 4.8) and 1.13x slower at rank 12 (2.7);
    /// medium's 2600 × 650 as 52×25 ⊗ 50×26 multiplies factored at rank 2 (5.0), through W at rank 3 (3.3).
    /// </remarks>
    internal const double DirectAdvantage = 4;

    /// <summary>The inner dimension at which a GEMM is modelled to run at half its speed on square shapes.</summary>
    internal const double HalfSpeedDepth = 32;

    /// <summary>Which way the passes multiply: chosen by their costs (<see cref="KroneckerRoute.Auto"/>), or forced, for tests.</summary>
    internal KroneckerRoute Route { get; set; }

    /// <summary>
    /// Creates a zero sum of <paramref name="rank"/> products whose factors are named <c>{prefix}.kron_a</c>
    /// [rank, M1, N1] and <c>{prefix}.kron_b</c> [rank, M2, N2].
    /// </summary>
    public KroneckerMatrix(string prefix, KroneckerShape shape, int rank = 1)
    {
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rank);
        if (shape.M1 <= 0 || shape.N1 <= 0 || shape.M2 <= 0 || shape.N2 <= 0)
            throw new ArgumentException($"Kronecker shape {shape} has a factor size that is not positive.", nameof(shape));
        if ((long)shape.M1 * shape.M2 > int.MaxValue || (long)shape.N1 * shape.N2 > int.MaxValue)
            throw new ArgumentException($"Kronecker shape {shape} is too large.", nameof(shape));
        Shape = shape;
        Rank = rank;
        Left = new Parameter<T>(prefix + ".kron_a", rank, shape.M1, shape.N1);
        Right = new Parameter<T>(prefix + ".kron_b", rank, shape.M2, shape.N2);
        _parameters = [Left, Right];
        _dense = new MaterializedProducts<T>(Rows, Columns, Materialize, AccumulateDenseGradient);
    }

    /// <summary>The factor shapes.</summary>
    public KroneckerShape Shape { get; }

    /// <summary>The number R of summed products.</summary>
    public int Rank { get; }

    /// <summary>The left factors A_r, [R, M1, N1].</summary>
    public Parameter<T> Left { get; }

    /// <summary>The right factors B_r, [R, M2, N2].</summary>
    public Parameter<T> Right { get; }

    /// <inheritdoc/>
    public int Rows => Shape.Rows;

    /// <inheritdoc/>
    public int Columns => Shape.Columns;

    /// <inheritdoc/>
    public IReadOnlyList<Parameter<T>> Parameters => _parameters;

    /// <inheritdoc/>
    public long ParameterCount => (long)Left.Length + Right.Length;

    /// <inheritdoc/>
    public long StorageBytes => ParameterCount * Unsafe.SizeOf<T>();

    /// <summary>Fills both factors with values drawn uniformly from [−<paramref name="range"/>, <paramref name="range"/>).</summary>
    /// <remarks>
    /// An element of A ⊗ B is a product of two such values, so its spread is range² / 3 per product, not range; pick
    /// the range for the factors, not for W.
    /// </remarks>
    public void InitializeUniform(double range, Xoshiro256 random)
    {
        ArgumentNullException.ThrowIfNull(random);
        foreach (Parameter<T> p in _parameters)
            for (int k = 0; k < p.Value.Length; k++)
                p.Value[k] = T.CreateChecked((2 * random.NextDouble() - 1) * range);
    }

    /// <summary>
    /// The sum of <paramref name="rank"/> Kronecker products of shape <paramref name="shape"/> nearest to
    /// <paramref name="dense"/> (row-major, shape.Rows × shape.Columns) in Frobenius norm.
    /// </summary>
    /// <remarks>
    /// Van Loan and Pitsianis (1993), "Approximation with Kronecker products": rearranging W into R(W), of shape
    /// (M1·N1) × (M2·N2), whose row i1·N1 + j1 is the block W[i1·M2.., j1·N2..] read row-major, turns A ⊗ B into the
    /// outer product vec(A)·vec(B)ᵀ, so the best sum of R products is the best rank-R approximation of R(W):
    /// A_r = √σ_r·u_r and B_r = √σ_r·v_r from its top R singular triplets (Eckart–Young), in double
    /// (<see cref="TruncatedSvd"/>).
    /// </remarks>
    public static KroneckerMatrix<T> Nearest(string prefix, KroneckerShape shape, ReadOnlySpan<T> dense, int rank = 1)
    {
        var result = new KroneckerMatrix<T>(prefix, shape, rank);
        int m1 = shape.M1, n1 = shape.N1, m2 = shape.M2, n2 = shape.N2, columns = shape.Columns;
        if (dense.Length != (long)shape.Rows * columns)
            throw new ArgumentException($"Expected {(long)shape.Rows * columns} dense values for {shape.Rows}×{columns}, got {dense.Length}.", nameof(dense));
        int leftSize = m1 * n1, rightSize = m2 * n2;
        if (rank > Math.Min(leftSize, rightSize))
            throw new ArgumentOutOfRangeException(nameof(rank), rank,
                $"The rearranged matrix of shape {shape} has only min(M1·N1, M2·N2) = {Math.Min(leftSize, rightSize)} singular values; use a smaller rank.");

        var rearranged = new double[(long)leftSize * rightSize];
        for (int i1 = 0; i1 < m1; i1++)
            for (int j1 = 0; j1 < n1; j1++)
                for (int i2 = 0; i2 < m2; i2++)
                {
                    ReadOnlySpan<T> blockRow = dense.Slice((i1 * m2 + i2) * columns + j1 * n2, n2);
                    Span<double> target = rearranged.AsSpan((i1 * n1 + j1) * rightSize + i2 * n2, n2);
                    for (int j2 = 0; j2 < n2; j2++) target[j2] = double.CreateChecked(blockRow[j2]);
                }
        (double[] sigma, double[][] u, double[][] v) = TruncatedSvd.Top(rearranged, leftSize, rightSize, rank);
        for (int r = 0; r < rank; r++)
        {
            double scale = Math.Sqrt(sigma[r]);
            Span<T> a = result.Left.Value.AsSpan(r * leftSize, leftSize);
            Span<T> b = result.Right.Value.AsSpan(r * rightSize, rightSize);
            for (int k = 0; k < leftSize; k++) a[k] = T.CreateChecked(scale * u[r][k]);
            for (int k = 0; k < rightSize; k++) b[k] = T.CreateChecked(scale * v[r][k]);
        }
        return result;
    }

    /// <inheritdoc/>
    public void Forward(ReadOnlySpan<T> x, Span<T> y, int count, bool accumulate)
    {
        BatchCheck.Rows(x.Length, Columns, y.Length, Rows, count, nameof(x), nameof(y));
        if (count == 0) return;
        if (!UsesDenseRoute)
        {
            KroneckerSumProducts<T>.Apply(Shape, Rank, Left.Value, Right.Value, x, y, count, accumulate, transposed: false);
            return;
        }
        _dense.Forward(x, y, count, accumulate);
    }

    /// <inheritdoc/>
    public void BackwardInput(ReadOnlySpan<T> dy, Span<T> dx, int count, bool accumulate)
    {
        // dx = Wᵀ·dy per sample, and Wᵀ = Σ_r A_rᵀ ⊗ B_rᵀ, so dX = Σ_r A_rᵀ · dY · B_r.
        BatchCheck.Rows(dy.Length, Rows, dx.Length, Columns, count, nameof(dy), nameof(dx));
        if (count == 0) return;
        if (!UsesDenseRoute)
        {
            KroneckerSumProducts<T>.Apply(Shape, Rank, Left.Value, Right.Value, dy, dx, count, accumulate, transposed: true);
            return;
        }
        _dense.BackwardInput(dy, dx, count, accumulate);
    }

    /// <inheritdoc/>
    /// <remarks>
    /// With L depending on Y_s = Σ_r A_r·X_s·B_rᵀ through G_s = ∂L/∂Y_s:
    /// ∂L/∂A_r = Σ_s G_s·B_r·X_sᵀ and ∂L/∂B_r = Σ_s G_sᵀ·A_r·X_s.
    /// </remarks>
    public void AccumulateGradients(ReadOnlySpan<T> x, ReadOnlySpan<T> dy, int count)
    {
        BatchCheck.Rows(x.Length, Columns, dy.Length, Rows, count, nameof(x), nameof(dy));
        if (count == 0) return;
        if (!UsesDenseRoute)
        {
            KroneckerSumProducts<T>.AccumulateGradients(Shape, Rank, Left.Value, Right.Value, x, dy, count, Left.Gradient, Right.Gradient);
            return;
        }
        _dense.AccumulateGradients(x, dy, count);
    }

    /// <summary>
    /// Adds to the factors' gradients what ∂L/∂W (<paramref name="gradient"/>, Rows × Columns) gives them: rearranged
    /// (Van Loan's R), ∂L/∂A_r = R(∂L/∂W)·vec(B_r) and ∂L/∂B_r = R(∂L/∂W)ᵀ·vec(A_r), two GEMMs with the rank as their
    /// short side.
    /// </summary>
    internal void AccumulateDenseGradient(ReadOnlySpan<T> gradient)
    {
        int size = Rows * Columns;
        T[] rearranged = ArrayPool<T>.Shared.Rent(size);
        try
        {
            Rearrange(gradient[..size], rearranged.AsSpan(0, size), toDense: false);
            int leftSize = Shape.M1 * Shape.N1, rightSize = Shape.M2 * Shape.N2;
            Blas.Gemm(false, true, Rank, leftSize, rightSize, T.One, Right.Value, rightSize, rearranged, rightSize, T.One, Left.Gradient, leftSize);
            Blas.Gemm(false, false, Rank, rightSize, leftSize, T.One, Left.Value, leftSize, rearranged, rightSize, T.One, Right.Gradient, rightSize);
        }
        finally
        {
            ArrayPool<T>.Shared.Return(rearranged);
        }
    }

    /// <inheritdoc/>
    public void BeginSteps() => _dense.BeginSteps();

    /// <inheritdoc/>
    public void EndSteps() => _dense.EndSteps();

    /// <summary>Whether the passes multiply by the materialized W.</summary>
    internal bool UsesDenseRoute => Route switch
    {
        KroneckerRoute.Direct => false,
        KroneckerRoute.Dense => true,
        _ => WeightedDirectCost() * DirectAdvantage > Weighted(2.0 * Rows * Columns, Columns),
    };

    // The forward pass's two factored GEMMs per sample, in the association order KroneckerSumProducts takes, weighted by
    // their inner dimensions.
    private double WeightedDirectCost()
    {
        (double p1, double p2, double q1, double q2, double r) = (Shape.N1, Shape.N2, Shape.M1, Shape.M2, Rank);
        return p1 * q2 * (p2 + q1) <= q1 * p2 * (p1 + q2)
            ? Weighted(2 * p1 * r * q2 * p2, p2) + Weighted(2 * q1 * q2 * r * p1, r * p1)
            : Weighted(2 * r * q1 * p2 * p1, p1) + Weighted(2 * q1 * q2 * r * p2, r * p2);
    }

    private static double Weighted(double flops, double depth) => flops * (1 + HalfSpeedDepth / depth);

    /// <inheritdoc/>
    /// <remarks>Row i1·M2 + i2 of Σ_r A_r ⊗ B_r is Σ_r A_r[i1] ⊗ B_r[i2]: N1 scaled copies of B_r[i2] per product.</remarks>
    public void GatherRows(ReadOnlySpan<int> rows, Span<T> output)
    {
        (int n1, int n2) = (Shape.N1, Shape.N2);
        if (output.Length < rows.Length * Columns) throw new ArgumentException($"output holds {output.Length} values; {rows.Length}×{Columns} needed.", nameof(output));
        for (int k = 0; k < rows.Length; k++)
        {
            (int i1, int i2) = Split(rows[k]);
            Span<T> row = output.Slice(k * Columns, Columns);
            row.Clear();
            for (int r = 0; r < Rank; r++)
            {
                ReadOnlySpan<T> a = LeftRow(r, i1), b = RightRow(r, i2);
                for (int j1 = 0; j1 < n1; j1++)
                {
                    Span<T> block = row.Slice(j1 * n2, n2);
                    TensorPrimitives.MultiplyAdd(b, a[j1], block, block);
                }
            }
        }
    }

    /// <inheritdoc/>
    /// <remarks>
    /// With G the row's gradient read as N1 × N2: ∂L/∂A_r[i1] += G·B_r[i2] and ∂L/∂B_r[i2] += A_r[i1]·G.
    /// </remarks>
    public void AccumulateRowGradients(ReadOnlySpan<int> rows, ReadOnlySpan<T> dOutput)
    {
        (int n1, int n2) = (Shape.N1, Shape.N2);
        if (dOutput.Length < rows.Length * Columns) throw new ArgumentException($"dOutput holds {dOutput.Length} values; {rows.Length}×{Columns} needed.", nameof(dOutput));
        for (int k = 0; k < rows.Length; k++)
        {
            (int i1, int i2) = Split(rows[k]);
            ReadOnlySpan<T> g = dOutput.Slice(k * Columns, Columns);
            for (int r = 0; r < Rank; r++)
            {
                ReadOnlySpan<T> a = LeftRow(r, i1), b = RightRow(r, i2);
                Span<T> da = Left.Gradient.AsSpan((r * Shape.M1 + i1) * n1, n1), db = Right.Gradient.AsSpan((r * Shape.M2 + i2) * n2, n2);
                for (int j1 = 0; j1 < n1; j1++)
                {
                    ReadOnlySpan<T> block = g.Slice(j1 * n2, n2);
                    da[j1] += TensorPrimitives.Dot(block, b);
                    TensorPrimitives.MultiplyAdd(block, a[j1], db, db);
                }
            }
        }
    }

    private (int I1, int I2) Split(int row) =>
        (uint)row < (uint)Rows ? (row / Shape.M2, row % Shape.M2)
        : throw new ArgumentOutOfRangeException(nameof(row), row, $"Row {row} is outside [0, {Rows}).");

    private ReadOnlySpan<T> LeftRow(int r, int i1) => Left.Value.AsSpan((r * Shape.M1 + i1) * Shape.N1, Shape.N1);

    private ReadOnlySpan<T> RightRow(int r, int i2) => Right.Value.AsSpan((r * Shape.M2 + i2) * Shape.N2, Shape.N2);

    /// <inheritdoc/>
    public T[] ToDense()
    {
        var dense = new T[(long)Rows * Columns];
        Materialize(dense);
        return dense;
    }

    /// <summary>
    /// <paramref name="dense"/> (Rows × Columns, row-major) = Σ_r A_r ⊗ B_r, through R(W) = Σ_r vec(A_r)·vec(B_r)ᵀ: one
    /// GEMM with the rank as its inner dimension, then the blocks moved into place.
    /// </summary>
    internal void Materialize(Span<T> dense)
    {
        int leftSize = Shape.M1 * Shape.N1, rightSize = Shape.M2 * Shape.N2;
        T[] rented = ArrayPool<T>.Shared.Rent(leftSize * rightSize);
        try
        {
            Span<T> r = rented.AsSpan(0, leftSize * rightSize);
            Blas.Gemm(true, false, leftSize, rightSize, Rank, T.One, Left.Value, leftSize, Right.Value, rightSize, T.Zero, r, rightSize);
            Rearrange(r, dense, toDense: true);
        }
        finally
        {
            ArrayPool<T>.Shared.Return(rented);
        }
    }

    // Van Loan's rearrangement between W (Rows × Columns) and R(W) ((M1·N1) × (M2·N2)): element (i1·M2 + i2, j1·N2 + j2)
    // of W is element (i1·N1 + j1, i2·N2 + j2) of R(W); each moves with its N2 neighbours along j2. Split over i1, every
    // range moves its own rows of both.
    private void Rearrange(ReadOnlySpan<T> from, Span<T> to, bool toDense)
    {
        var body = new Rearrangement(Shape, Columns, from, to, toDense);
        if ((long)Rows * Columns < 1 << 16) body.Invoke(0, Shape.M1);
        else WorkerPool.Shared.For(Shape.M1, body);
    }

    private readonly ref struct Rearrangement(KroneckerShape shape, int columns, ReadOnlySpan<T> from, Span<T> to, bool toDense) : IRangeBody
    {
        private readonly ReadOnlySpan<T> _from = from;
        private readonly Span<T> _to = to;

        public void Invoke(int start, int end)
        {
            int n1 = shape.N1, m2 = shape.M2, n2 = shape.N2, rightSize = m2 * n2;
            for (int i1 = start; i1 < end; i1++)
                for (int j1 = 0; j1 < n1; j1++)
                    for (int i2 = 0; i2 < m2; i2++)
                    {
                        int atDense = (i1 * m2 + i2) * columns + j1 * n2, atR = (i1 * n1 + j1) * rightSize + i2 * n2;
                        if (toDense) _from.Slice(atR, n2).CopyTo(_to.Slice(atDense, n2));
                        else _from.Slice(atDense, n2).CopyTo(_to.Slice(atR, n2));
                    }
        }
    }
}
