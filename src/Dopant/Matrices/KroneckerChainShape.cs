using System.Globalization;

namespace Dopant.Matrices;

/// <summary>
/// The factor shapes of a Kronecker chain W = A_1 ⊗ A_2 ⊗ … ⊗ A_k (k ≥ 2): A_i is m_i × n_i, so W is (m_1⋯m_k) ×
/// (n_1⋯n_k). Written as text <c>m1xn1*m2xn2*…</c>, for example <c>13x5*10x10*20x13</c> for a 2600 × 650 matrix.
/// </summary>
public sealed class KroneckerChainShape : IEquatable<KroneckerChainShape>
{
    private readonly int[] _rows;
    private readonly int[] _columns;

    /// <summary>Creates the shape of the chain of <paramref name="factors"/>, given as (rows, columns) of A_1, A_2, ….</summary>
    /// <exception cref="ArgumentException">Fewer than two factors, a size that is not positive, or a product too large for an int.</exception>
    public KroneckerChainShape(params ReadOnlySpan<(int Rows, int Columns)> factors)
    {
        if (factors.Length < 2)
            throw new ArgumentException($"A Kronecker chain needs at least two factors, got {factors.Length}.", nameof(factors));
        _rows = new int[factors.Length];
        _columns = new int[factors.Length];
        long rows = 1, columns = 1, parameters = 0;
        for (int i = 0; i < factors.Length; i++)
        {
            (int m, int n) = factors[i];
            if (m <= 0 || n <= 0)
                throw new ArgumentException($"Kronecker chain factor {i + 1} is {m}x{n}; factor sizes must be positive.", nameof(factors));
            _rows[i] = m;
            _columns[i] = n;
            rows *= m;
            columns *= n;
            parameters += (long)m * n;
            if (rows > int.MaxValue || columns > int.MaxValue)
                throw new ArgumentException("The Kronecker chain makes a matrix with more than int.MaxValue rows or columns.", nameof(factors));
        }
        Rows = (int)rows;
        Columns = (int)columns;
        FactorElements = parameters;
    }

    /// <summary>The number k of factors.</summary>
    public int Count => _rows.Length;

    /// <summary>Rows m_i of each factor, A_1 first.</summary>
    public IReadOnlyList<int> FactorRows => _rows;

    /// <summary>Columns n_i of each factor, A_1 first.</summary>
    public IReadOnlyList<int> FactorColumns => _columns;

    /// <summary>Rows of W: m_1⋯m_k.</summary>
    public int Rows { get; }

    /// <summary>Columns of W: n_1⋯n_k.</summary>
    public int Columns { get; }

    /// <summary>Elements of one chain's factors: Σ m_i·n_i.</summary>
    public long FactorElements { get; }

    /// <summary>Elements m_i·n_i of factor <paramref name="index"/> (0-based).</summary>
    public int FactorSize(int index) => _rows[index] * _columns[index];

    /// <summary>Stored weights of a sum of <paramref name="rank"/> chains: rank·Σ m_i·n_i.</summary>
    public long ParameterCount(int rank = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rank);
        return rank * FactorElements;
    }

    /// <summary>Dense size over stored size: Rows·Columns / <see cref="ParameterCount"/>.</summary>
    public double CompressionFactor(int rank = 1) => (double)Rows * Columns / ParameterCount(rank);

    /// <summary>
    /// The largest possible rank of one chain, Π min(m_i, n_i) (ranks multiply under ⊗), capped at min(Rows, Columns).
    /// </summary>
    public long AttainableRank => Math.Min(RankProduct(_rows, _columns), Math.Min(Rows, Columns));

    /// <summary>
    /// The largest rank <see cref="KroneckerChainMatrix{T}.Nearest"/> can fit: min(m_1·n_1, Π_{i&gt;1} m_i·n_i), the
    /// rank of the first split it starts from.
    /// </summary>
    public int MaxNearestRank => (int)Math.Min(FactorSize(0), (long)Rows * Columns / FactorSize(0));

    /// <summary>
    /// Multiply-adds × 2 of <see cref="KroneckerChainMatrix{T}.Forward"/> for <paramref name="count"/> samples. The
    /// factors are applied from the last to the first, and A_i meets a sample that still has n_1⋯n_i input extents
    /// and already has m_i+1⋯m_k output ones: count·rank·Σ_i 2·(n_1⋯n_i)·(m_i⋯m_k).
    /// </summary>
    public long ForwardFlops(int count, int rank = 1) => 2L * count * rank * ChainFlops(_rows, _columns);

    /// <summary>The largest R whose sum of R chains still reaches <paramref name="targetFactor"/>, at least 1.</summary>
    public int MaxRankFor(double targetFactor)
    {
        if (!(targetFactor > 0) || double.IsInfinity(targetFactor))
            throw new ArgumentOutOfRangeException(nameof(targetFactor), targetFactor, "The target compression factor must be positive and finite.");
        double rank = Math.Floor((double)Rows * Columns / (targetFactor * FactorElements));
        return (int)Math.Clamp(rank, 1, int.MaxValue);
    }

    /// <summary>
    /// The <paramref name="factors"/>-factor shape for a <paramref name="rows"/> × <paramref name="columns"/> matrix,
    /// stored as a sum of <paramref name="rank"/> chains, whose compression factor is at least <paramref name="targetFactor"/>.
    /// </summary>
    /// <remarks>
    /// Every ordered factorization m_1⋯m_k = rows, n_1⋯n_k = columns without a 1×1 factor (which would make it a
    /// shorter chain) is a candidate. As in <see cref="KroneckerShape.Choose"/>, the feasible candidates (factor ≥
    /// target) come first, or when there are none those with the fewest parameters; among them the first in this
    /// order wins:
    /// <list type="number">
    /// <item>the largest <see cref="AttainableRank"/>;</item>
    /// <item>the most balanced factors: the smallest largest factor max m_i·n_i, then the fewest parameters;</item>
    /// <item>the fewest <see cref="ForwardFlops"/> (this orders the factors along the chain);</item>
    /// <item>the lexicographically smallest (m_1, n_1, m_2, …), so the choice is deterministic.</item>
    /// </list>
    /// The budget left over is meant to be spent on the rank (<see cref="MaxRankFor"/>).
    /// </remarks>
    /// <exception cref="ArgumentException">The sizes have too few prime factors for <paramref name="factors"/> factors.</exception>
    public static KroneckerChainShape Choose(int rows, int columns, int factors, double targetFactor, int rank = 1)
    {
        if (!(targetFactor > 0) || double.IsInfinity(targetFactor))
            throw new ArgumentOutOfRangeException(nameof(targetFactor), targetFactor, "The target compression factor must be positive and finite.");
        double dense = (double)rows * columns;
        return ChooseWhere(rows, columns, factors, rank, parameters => dense / parameters >= targetFactor);
    }

    /// <summary>
    /// Like <see cref="Choose"/> with "factor ≥ target" read as "at most <paramref name="maxParameters"/> parameters".
    /// </summary>
    public static KroneckerChainShape ChooseForParameters(int rows, int columns, int factors, long maxParameters, int rank = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxParameters);
        return ChooseWhere(rows, columns, factors, rank, parameters => parameters <= maxParameters);
    }

    /// <summary>
    /// Reads <c>m1xn1*m2xn2*…</c> with at least two factors (for example <c>13x5*10x10*20x13</c>; <c>×</c> or
    /// <c>X</c> also separate rows from columns, spaces are ignored).
    /// </summary>
    /// <exception cref="ArgumentException">The text is not two or more positive <c>rows x columns</c> pairs joined by <c>*</c>.</exception>
    public static KroneckerChainShape Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string[] parts = text.Split('*', StringSplitOptions.TrimEntries);
        if (parts.Length < 2)
            throw new ArgumentException($"Kronecker chain shape '{text}' must be two or more factors 'm1xn1*m2xn2*…', e.g. '13x5*10x10*20x13'.", nameof(text));
        var factors = new (int, int)[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            string part = parts[i];
            if (!KroneckerShape.TryParseFactor(part, out int m, out int n))
                throw new ArgumentException(
                    $"Kronecker chain shape '{text}': factor {i + 1} '{part}' is not 'rows x columns' with positive integers (expected e.g. '13x5*10x10*20x13').",
                    nameof(text));
            factors[i] = (m, n);
        }
        try
        {
            return new KroneckerChainShape(factors);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"Kronecker chain shape '{text}' is too large.", nameof(text), e);
        }
    }

    /// <summary>Like <see cref="Parse(string)"/>, and also requires the shape to be <paramref name="rows"/> × <paramref name="columns"/>.</summary>
    /// <exception cref="ArgumentException">The text is malformed or describes a matrix of another size.</exception>
    public static KroneckerChainShape Parse(string text, int rows, int columns)
    {
        KroneckerChainShape shape = Parse(text);
        if (shape.Rows != rows || shape.Columns != columns)
            throw new ArgumentException($"Kronecker chain shape '{text}' makes a {shape.Rows}×{shape.Columns} matrix, not {rows}×{columns}.", nameof(text));
        return shape;
    }

    /// <summary>The shape as <c>m1xn1*m2xn2*…</c>, the form <see cref="Parse(string)"/> reads.</summary>
    public override string ToString() =>
        string.Join('*', _rows.Select((m, i) => string.Create(CultureInfo.InvariantCulture, $"{m}x{_columns[i]}")));

    /// <inheritdoc/>
    public bool Equals(KroneckerChainShape? other) =>
        other is not null && _rows.AsSpan().SequenceEqual(other._rows) && _columns.AsSpan().SequenceEqual(other._columns);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as KroneckerChainShape);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var hash = new HashCode();
        for (int i = 0; i < Count; i++)
        {
            hash.Add(_rows[i]);
            hash.Add(_columns[i]);
        }
        return hash.ToHashCode();
    }

    private static long RankProduct(int[] rows, int[] columns)
    {
        long product = 1;
        for (int i = 0; i < rows.Length; i++) product = Math.Min(product * Math.Min(rows[i], columns[i]), long.MaxValue / int.MaxValue);
        return product;
    }

    private static long ChainFlops(int[] rows, int[] columns)
    {
        long total = 0;
        for (int i = 0; i < rows.Length; i++)
        {
            long extent = 1;
            for (int l = 0; l <= i; l++) extent *= columns[l];
            for (int l = i; l < rows.Length; l++) extent *= rows[l];
            total += extent;
        }
        return total;
    }

    private static KroneckerChainShape ChooseWhere(int rows, int columns, int factors, int rank, Func<long, bool> feasible)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(columns);
        ArgumentOutOfRangeException.ThrowIfLessThan(factors, 2);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rank);
        List<int[]> rowTuples = OrderedFactorizations(rows, factors), columnTuples = OrderedFactorizations(columns, factors);
        Candidate? best = null;
        foreach (int[] m in rowTuples)
            foreach (int[] n in columnTuples)
            {
                bool trivialFactor = false;
                long parameters = 0;
                int largest = 0;
                for (int i = 0; i < factors; i++)
                {
                    int size = m[i] * n[i];
                    trivialFactor |= size == 1;
                    parameters += size;
                    largest = Math.Max(largest, size);
                }
                if (trivialFactor) continue;
                parameters *= rank;
                var candidate = new Candidate(m, n, feasible(parameters), parameters, Math.Min(RankProduct(m, n), Math.Min(rows, columns)),
                    largest, ChainFlops(m, n));
                if (best is null || candidate.IsBetterThan(best)) best = candidate;
            }
        if (best is null)
            throw new ArgumentException(
                $"A {rows}×{columns} matrix has no {factors}-factor Kronecker chain shape without a 1×1 factor; use fewer factors.");
        var shape = new (int, int)[factors];
        for (int i = 0; i < factors; i++) shape[i] = (best.Rows[i], best.Columns[i]);
        return new KroneckerChainShape(shape);
    }

    /// <summary>Every tuple of <paramref name="parts"/> positive integers whose product is <paramref name="value"/>, in order.</summary>
    private static List<int[]> OrderedFactorizations(int value, int parts)
    {
        var divisors = new List<int>();
        for (int d = 1; d <= value / d; d++)
        {
            if (value % d != 0) continue;
            divisors.Add(d);
            if (d != value / d) divisors.Add(value / d);
        }
        divisors.Sort();
        var result = new List<int[]>();
        var current = new int[parts];
        void Extend(int index, int remaining)
        {
            if (index == parts - 1)
            {
                current[index] = remaining;
                result.Add((int[])current.Clone());
                return;
            }
            foreach (int d in divisors)
            {
                if (d > remaining) break;
                if (remaining % d != 0) continue;
                current[index] = d;
                Extend(index + 1, remaining / d);
            }
        }
        Extend(0, value);
        return result;
    }

    private sealed record Candidate(int[] Rows, int[] Columns, bool Feasible, long Parameters, long AttainableRank, int Largest, long Flops)
    {
        /// <summary>Whether this candidate precedes <paramref name="other"/> in the order documented on <see cref="Choose"/>.</summary>
        public bool IsBetterThan(Candidate other)
        {
            if (Feasible != other.Feasible) return Feasible;
            if (!Feasible && Parameters != other.Parameters) return Parameters < other.Parameters;
            if (AttainableRank != other.AttainableRank) return AttainableRank > other.AttainableRank;
            if (Largest != other.Largest) return Largest < other.Largest;
            if (Parameters != other.Parameters) return Parameters < other.Parameters;
            if (Flops != other.Flops) return Flops < other.Flops;
            for (int i = 0; i < Rows.Length; i++)
            {
                if (Rows[i] != other.Rows[i]) return Rows[i] < other.Rows[i];
                if (Columns[i] != other.Columns[i]) return Columns[i] < other.Columns[i];
            }
            return false;
        }
    }
}
