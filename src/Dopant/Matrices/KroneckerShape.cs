using System.Globalization;

namespace Dopant.Matrices;

/// <summary>
/// The factor shapes of a Kronecker product W = A ⊗ B: A is <see cref="M1"/> × <see cref="N1"/>, B is
/// <see cref="M2"/> × <see cref="N2"/>, so W is (M1·M2) × (N1·N2). Written as text <c>M1xN1,M2xN2</c>
/// (for example <c>52x25,50x26</c> for a 2600 × 650 matrix).
/// </summary>
/// <param name="M1">Rows of the left factor A.</param>
/// <param name="N1">Columns of the left factor A.</param>
/// <param name="M2">Rows of the right factor B.</param>
/// <param name="N2">Columns of the right factor B.</param>
public readonly record struct KroneckerShape(int M1, int N1, int M2, int N2)
{
    /// <summary>Rows of the left factor A (positive).</summary>
    public int M1 { get; } = Positive(M1, nameof(M1));

    /// <summary>Columns of the left factor A (positive).</summary>
    public int N1 { get; } = Positive(N1, nameof(N1));

    /// <summary>Rows of the right factor B (positive).</summary>
    public int M2 { get; } = Positive(M2, nameof(M2));

    /// <summary>Columns of the right factor B (positive).</summary>
    public int N2 { get; } = Positive(N2, nameof(N2));

    /// <summary>Rows of W: M1·M2.</summary>
    public int Rows => checked(M1 * M2);

    /// <summary>Columns of W: N1·N2.</summary>
    public int Columns => checked(N1 * N2);

    /// <summary>Elements of the left factor: M1·N1.</summary>
    public long LeftSize => (long)M1 * N1;

    /// <summary>Elements of the right factor: M2·N2.</summary>
    public long RightSize => (long)M2 * N2;

    /// <summary>Stored weights of a sum of <paramref name="rank"/> Kronecker products: rank·(M1·N1 + M2·N2).</summary>
    public long ParameterCount(int rank = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rank);
        return rank * (LeftSize + RightSize);
    }

    /// <summary>Dense size over stored size: Rows·Columns / <see cref="ParameterCount"/>.</summary>
    public double CompressionFactor(int rank = 1) => (double)Rows * Columns / ParameterCount(rank);

    /// <summary>
    /// The largest possible rank of one product A ⊗ B, rank(A)·rank(B) ≤ min(M1, N1)·min(M2, N2), capped at
    /// min(Rows, Columns); a measure of how much of the dense space the shape can express.
    /// </summary>
    public long AttainableRank => Math.Min((long)Math.Min(M1, N1) * Math.Min(M2, N2), Math.Min(Rows, Columns));

    /// <summary>
    /// Multiply-adds × 2 of <see cref="KroneckerMatrix{T}.Forward"/> for <paramref name="count"/> samples:
    /// count·rank·(N1·N2·M2 + M1·N1·M2)·2 (first X·Bᵀ, then A·(X·Bᵀ), one sample's input X being N1 × N2).
    /// </summary>
    public long ForwardFlops(int count, int rank = 1) =>
        2L * count * rank * ((long)N1 * N2 * M2 + (long)M1 * N1 * M2);

    /// <summary>The largest rank R whose sum of R products still reaches <paramref name="targetFactor"/>, at least 1.</summary>
    public int MaxRankFor(double targetFactor)
    {
        if (!(targetFactor > 0) || double.IsInfinity(targetFactor))
            throw new ArgumentOutOfRangeException(nameof(targetFactor), targetFactor, "The target compression factor must be positive and finite.");
        double rank = Math.Floor((double)Rows * Columns / (targetFactor * (LeftSize + RightSize)));
        return (int)Math.Clamp(rank, 1, int.MaxValue);
    }

    /// <summary>
    /// The shape for a <paramref name="rows"/> × <paramref name="columns"/> matrix, stored as a sum of
    /// <paramref name="rank"/> products, whose compression factor is at least <paramref name="targetFactor"/>.
    /// </summary>
    /// <remarks>
    /// Every factorization M1·M2 = rows, N1·N2 = columns (all divisor pairs, 1 included) is a candidate. The
    /// candidates whose factor rows·columns / (rank·(M1·N1 + M2·N2)) is at least the target are feasible; when none
    /// is, the candidates with the largest factor (fewest parameters) are taken instead, so the result is the
    /// closest the Kronecker form can get. Among those, the first in this order wins:
    /// <list type="number">
    /// <item>the largest <see cref="AttainableRank"/> (square-ish factors; 1300×1 ⊗ 2×650 is balanced and cheap but
    /// can only express rank-2 matrices);</item>
    /// <item>the most balanced factors, smallest |M1·N1 − M2·N2| (which, for a fixed product, also has the fewest
    /// parameters);</item>
    /// <item>the fewest <see cref="ForwardFlops"/>;</item>
    /// <item>the smaller M1, then the smaller N1 (so the choice is deterministic).</item>
    /// </list>
    /// The target is thus a ceiling on parameters, not an amount to use up: the parameter budget left over is spent
    /// by raising the rank (see <see cref="MaxRankFor"/>), not by skewing the factors.
    /// </remarks>
    public static KroneckerShape Choose(int rows, int columns, double targetFactor, int rank = 1)
    {
        if (!(targetFactor > 0) || double.IsInfinity(targetFactor))
            throw new ArgumentOutOfRangeException(nameof(targetFactor), targetFactor, "The target compression factor must be positive and finite.");
        double dense = (double)rows * columns;
        return ChooseWhere(rows, columns, rank, parameters => dense / parameters >= targetFactor);
    }

    /// <summary>
    /// The shape for a <paramref name="rows"/> × <paramref name="columns"/> matrix, stored as a sum of
    /// <paramref name="rank"/> products, with at most <paramref name="maxParameters"/> weights; the same rule as
    /// <see cref="Choose"/> with "factor ≥ target" read as "parameters ≤ <paramref name="maxParameters"/>".
    /// </summary>
    public static KroneckerShape ChooseForParameters(int rows, int columns, long maxParameters, int rank = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxParameters);
        return ChooseWhere(rows, columns, rank, parameters => parameters <= maxParameters);
    }

    /// <summary>
    /// Reads <c>M1xN1,M2xN2</c> (for example <c>52x25,50x26</c>; <c>×</c> or <c>X</c> also separate, spaces are ignored).
    /// </summary>
    /// <exception cref="ArgumentException">The text is not two positive <c>rows x columns</c> pairs separated by a comma.</exception>
    public static KroneckerShape Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string[] factors = text.Split(',', StringSplitOptions.TrimEntries);
        if (factors.Length != 2)
            throw new ArgumentException($"Kronecker shape '{text}' must be two factors 'M1xN1,M2xN2', e.g. '52x25,50x26'.", nameof(text));
        (int m1, int n1) = ParseFactor(text, factors[0], "first");
        (int m2, int n2) = ParseFactor(text, factors[1], "second");
        return new KroneckerShape(m1, n1, m2, n2);
    }

    /// <summary>
    /// Like <see cref="Parse(string)"/>, and also requires the shape to be <paramref name="rows"/> × <paramref name="columns"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The text is malformed or describes a matrix of another size.</exception>
    public static KroneckerShape Parse(string text, int rows, int columns)
    {
        KroneckerShape shape = Parse(text);
        if ((long)shape.M1 * shape.M2 != rows || (long)shape.N1 * shape.N2 != columns)
            throw new ArgumentException(
                $"Kronecker shape '{text}' makes a {(long)shape.M1 * shape.M2}×{(long)shape.N1 * shape.N2} matrix, not {rows}×{columns}.", nameof(text));
        return shape;
    }

    /// <summary>The shape as <c>M1xN1,M2xN2</c>, the form <see cref="Parse(string)"/> reads.</summary>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{M1}x{N1},{M2}x{N2}");

    private static (int Rows, int Columns) ParseFactor(string text, string factor, string which) =>
        TryParseFactor(factor, out int rows, out int columns) ? (rows, columns) : throw new ArgumentException(
            $"Kronecker shape '{text}': the {which} factor '{factor}' is not 'rows x columns' with positive integers (expected 'M1xN1,M2xN2', e.g. '52x25,50x26').",
            nameof(text));

    /// <summary>Reads one factor's size, <c>rows x columns</c> (x, X or ×), both positive; false when malformed.</summary>
    internal static bool TryParseFactor(ReadOnlySpan<char> factor, out int rows, out int columns)
    {
        rows = columns = 0;
        int separator = factor.IndexOfAny(['x', 'X', '×']);
        return separator >= 0
            && int.TryParse(factor[..separator].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out rows)
            && int.TryParse(factor[(separator + 1)..].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out columns)
            && rows > 0 && columns > 0;
    }

    private static KroneckerShape ChooseWhere(int rows, int columns, int rank, Func<long, bool> feasible)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(columns);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rank);
        KroneckerShape? best = null;
        bool bestFeasible = false;
        foreach (int m1 in Divisors(rows))
            foreach (int n1 in Divisors(columns))
            {
                var candidate = new KroneckerShape(m1, n1, rows / m1, columns / n1);
                bool isFeasible = feasible(candidate.ParameterCount(rank));
                if (best is not { } current || (isFeasible && !bestFeasible)
                    || (isFeasible == bestFeasible && Better(candidate, current, rank, isFeasible)))
                {
                    best = candidate;
                    bestFeasible = isFeasible;
                }
            }
        return best!.Value;
    }

    /// <summary>Whether <paramref name="a"/> precedes <paramref name="b"/> in the order documented on <see cref="Choose"/>.</summary>
    private static bool Better(KroneckerShape a, KroneckerShape b, int rank, bool feasible)
    {
        // Infeasible candidates are first ranked by how close they get: fewest parameters.
        if (!feasible && a.ParameterCount(rank) != b.ParameterCount(rank)) return a.ParameterCount(rank) < b.ParameterCount(rank);
        if (a.AttainableRank != b.AttainableRank) return a.AttainableRank > b.AttainableRank;
        long imbalanceA = Math.Abs(a.LeftSize - a.RightSize), imbalanceB = Math.Abs(b.LeftSize - b.RightSize);
        if (imbalanceA != imbalanceB) return imbalanceA < imbalanceB;
        long flopsA = a.ForwardFlops(1, rank), flopsB = b.ForwardFlops(1, rank);
        if (flopsA != flopsB) return flopsA < flopsB;
        return a.M1 != b.M1 ? a.M1 < b.M1 : a.N1 < b.N1;
    }

    private static List<int> Divisors(int value)
    {
        var divisors = new List<int>();
        for (int d = 1; d <= value / d; d++)
        {
            if (value % d != 0) continue;
            divisors.Add(d);
            if (d != value / d) divisors.Add(value / d);
        }
        divisors.Sort();
        return divisors;
    }

    private static int Positive(int value, string name) =>
        value > 0 ? value : throw new ArgumentOutOfRangeException(name, value, "Kronecker factor sizes must be positive.");
}
