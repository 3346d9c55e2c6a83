using System.Numerics;
using Dopant.Matrices;

namespace Dopant.Training;

/// <summary>
/// Scaled gradient descent for the low-rank factors of a model (Tong, Ma and Chi, "Accelerating ill-conditioned
/// low-rank matrix estimation via scaled gradient descent", 2021): for W = U·V, the gradients become
/// ∂U·(V·Vᵀ + λI)⁻¹ and (UᵀU + λI)⁻¹·∂V before clipping and the update. A plain step on U and V moves W by
/// η(G·VᵀV + UUᵀ·G), so the directions of W's large singular values learn as many times faster as those values are
/// large (a 10,000-word decoder's reach 70: one learning rate cannot suit them and the rest of the model); the scaled
/// step moves W by about η(G·P_V + P_U·G), the projections of the dense step, whatever the factors' scale.
/// λ is 10⁻³ of the mean eigenvalue, against factors near zero.
/// </summary>
public sealed class LowRankGradientScaling<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private const double Damping = 1e-3;
    private readonly List<(Parameter<T> Left, Parameter<T> Right, int Rank)> _factors;

    private LowRankGradientScaling(List<(Parameter<T>, Parameter<T>, int)> factors) => _factors = factors;

    /// <summary>The scaling of every low-rank part of <paramref name="matrices"/> (low-rank and hybrid forms, also as doped structures); null when there is none.</summary>
    public static LowRankGradientScaling<T>? For(IEnumerable<IWeightMatrix<T>> matrices)
    {
        ArgumentNullException.ThrowIfNull(matrices);
        List<(Parameter<T>, Parameter<T>, int)> factors = [.. matrices.SelectMany(Factors)];
        return factors.Count == 0 ? null : new LowRankGradientScaling<T>(factors);
    }

    private static IEnumerable<(Parameter<T>, Parameter<T>, int)> Factors(IWeightMatrix<T> matrix) => matrix switch
    {
        LowRankMatrix<T> lowRank => [(lowRank.Left, lowRank.Right, lowRank.Rank)],
        HybridMatrix<T> { Rank: > 0 } hybrid when hybrid.Left.Length > 0 => [(hybrid.Left, hybrid.Right, hybrid.Rank)],
        DopedMatrix<T> doped => Factors(doped.Structure),
        _ => [],
    };

    /// <summary>Replaces the factors' gradients by their scaled forms.</summary>
    public void Apply()
    {
        foreach ((Parameter<T> left, Parameter<T> right, int rank) in _factors)
        {
            int rows = left.Length / rank, columns = right.Length / rank;
            // (V·Vᵀ)⁻¹ scales U's gradient from the right; (UᵀU)⁻¹ scales V's from the left.
            // A factor whose Gram matrix is not positive definite even with λ (not finite) keeps its gradient.
            if (InverseGram(right.Value, rank, columns, wide: true) is double[] rightInverse) MultiplyRows(left.Gradient, rows, rank, rightInverse);
            if (InverseGram(left.Value, rank, rows, wide: false) is double[] leftInverse) MultiplyColumns(right.Gradient, rank, columns, leftInverse);
        }
    }

    // The inverse of F·Fᵀ + λI (F = V, r × n, when wide) or FᵀF + λI (F = U, m × r), r × r, in double.
    private static double[]? InverseGram(ReadOnlySpan<T> factor, int rank, int length, bool wide)
    {
        var gram = new double[rank * rank];
        for (int k = 0; k < length; k++)
            for (int i = 0; i < rank; i++)
            {
                double a = double.CreateTruncating(wide ? factor[i * length + k] : factor[k * rank + i]);
                if (a == 0) continue;
                for (int j = 0; j <= i; j++)
                    gram[i * rank + j] += a * double.CreateTruncating(wide ? factor[j * length + k] : factor[k * rank + j]);
            }
        double trace = 0;
        for (int i = 0; i < rank; i++) trace += gram[i * rank + i];
        double lambda = Damping * trace / rank + 1e-12;
        for (int i = 0; i < rank; i++)
        {
            gram[i * rank + i] += lambda;
            for (int j = 0; j < i; j++) gram[j * rank + i] = gram[i * rank + j];
        }
        if (Numerics.CholeskyFactor.TryFactor(gram, rank) is not { } cholesky) return null;
        var inverse = new double[rank * rank];
        Span<double> column = rank <= 256 ? stackalloc double[rank] : new double[rank];
        for (int j = 0; j < rank; j++)
        {
            column.Clear();
            column[j] = 1;
            cholesky.Solve(column);
            for (int i = 0; i < rank; i++) inverse[i * rank + j] = column[i];
        }
        return inverse;
    }

    // G (rows × r) ← G·M, row by row.
    private static void MultiplyRows(Span<T> gradient, int rows, int rank, double[] m)
    {
        Span<double> row = rank <= 256 ? stackalloc double[rank] : new double[rank];
        for (int r = 0; r < rows; r++)
        {
            Span<T> g = gradient.Slice(r * rank, rank);
            for (int j = 0; j < rank; j++) row[j] = 0;
            for (int i = 0; i < rank; i++)
            {
                double gi = double.CreateTruncating(g[i]);
                if (gi == 0) continue;
                for (int j = 0; j < rank; j++) row[j] += gi * m[i * rank + j];
            }
            for (int j = 0; j < rank; j++) g[j] = T.CreateTruncating(row[j]);
        }
    }

    // G (r × columns) ← M·G, column block by column block.
    private static void MultiplyColumns(Span<T> gradient, int rank, int columns, double[] m)
    {
        const int Block = 64;
        var scratch = new double[rank * Block];
        for (int c0 = 0; c0 < columns; c0 += Block)
        {
            int width = Math.Min(Block, columns - c0);
            Array.Clear(scratch);
            for (int i = 0; i < rank; i++)
                for (int k = 0; k < rank; k++)
                {
                    double mik = m[i * rank + k];
                    Span<T> source = gradient.Slice(k * columns + c0, width);
                    for (int c = 0; c < width; c++) scratch[i * Block + c] += mik * double.CreateTruncating(source[c]);
                }
            for (int i = 0; i < rank; i++)
            {
                Span<T> target = gradient.Slice(i * columns + c0, width);
                for (int c = 0; c < width; c++) target[c] = T.CreateTruncating(scratch[i * Block + c]);
            }
        }
    }
}
