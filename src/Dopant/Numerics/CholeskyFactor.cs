namespace Dopant.Numerics;

/// <summary>
/// The lower-triangular factor L of a symmetric positive definite matrix A = L·Lᵀ, in double, for the small dense
/// systems of a Gaussian process (a handful to a few hundred rows). The Cholesky–Banachiewicz order: row by row,
/// L_ij = (A_ij − Σ_{k&lt;j} L_ik·L_jk) / L_jj and L_ii = √(A_ii − Σ_{k&lt;i} L_ik²) (Golub and Van Loan, Matrix
/// Computations, 4th ed., Algorithm 4.2.2).
/// </summary>
internal sealed class CholeskyFactor
{
    private readonly double[] _lower;

    private CholeskyFactor(double[] lower, int size)
    {
        _lower = lower;
        Size = size;
    }

    /// <summary>The number of rows of A.</summary>
    public int Size { get; }

    /// <summary>L_ij, for j ≤ i.</summary>
    public double this[int i, int j] => _lower[i * Size + j];

    /// <summary>log det A = 2·Σ log L_ii.</summary>
    public double LogDeterminant
    {
        get
        {
            double sum = 0;
            for (int i = 0; i < Size; i++) sum += Math.Log(_lower[i * Size + i]);
            return 2 * sum;
        }
    }

    /// <summary>
    /// Factors the row-major <paramref name="size"/> × <paramref name="size"/> matrix <paramref name="symmetric"/>
    /// (only its lower triangle is read), or returns null when a pivot is not positive (A is not numerically positive
    /// definite).
    /// </summary>
    public static CholeskyFactor? TryFactor(ReadOnlySpan<double> symmetric, int size)
    {
        if (symmetric.Length != size * size) throw new ArgumentException($"Expected {size * size} values, got {symmetric.Length}.", nameof(symmetric));
        var lower = new double[size * size];
        for (int i = 0; i < size; i++)
        {
            for (int j = 0; j <= i; j++)
            {
                double sum = symmetric[i * size + j];
                for (int k = 0; k < j; k++) sum -= lower[i * size + k] * lower[j * size + k];
                if (i == j)
                {
                    if (!(sum > 0)) return null;
                    lower[i * size + i] = Math.Sqrt(sum);
                }
                else lower[i * size + j] = sum / lower[j * size + j];
            }
        }
        return new CholeskyFactor(lower, size);
    }

    /// <summary>Overwrites <paramref name="b"/> with L⁻¹·b (forward substitution).</summary>
    public void SolveLower(Span<double> b)
    {
        CheckLength(b);
        for (int i = 0; i < Size; i++)
        {
            double sum = b[i];
            for (int k = 0; k < i; k++) sum -= _lower[i * Size + k] * b[k];
            b[i] = sum / _lower[i * Size + i];
        }
    }

    /// <summary>Overwrites <paramref name="b"/> with L⁻ᵀ·b (back substitution).</summary>
    public void SolveLowerTransposed(Span<double> b)
    {
        CheckLength(b);
        for (int i = Size - 1; i >= 0; i--)
        {
            double sum = b[i];
            for (int k = i + 1; k < Size; k++) sum -= _lower[k * Size + i] * b[k];
            b[i] = sum / _lower[i * Size + i];
        }
    }

    /// <summary>Overwrites <paramref name="b"/> with A⁻¹·b.</summary>
    public void Solve(Span<double> b)
    {
        SolveLower(b);
        SolveLowerTransposed(b);
    }

    private void CheckLength(Span<double> b)
    {
        if (b.Length != Size) throw new ArgumentException($"Expected {Size} values, got {b.Length}.", nameof(b));
    }
}
