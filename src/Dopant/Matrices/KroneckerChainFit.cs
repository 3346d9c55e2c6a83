using System.Numerics.Tensors;
using Dopant.Numerics;

namespace Dopant.Matrices;

/// <summary>
/// Fits a sum of R Kronecker chains to a dense matrix (<see cref="KroneckerChainMatrix{T}.Nearest"/>), in double.
/// </summary>
/// <remarks>
/// Rearranging W so that element (i, j) goes to the k-way tensor entry (i_1·n_1 + j_1, …, i_k·n_k + j_k) turns a
/// chain A_1 ⊗ … ⊗ A_k into the outer product vec(A_1) ∘ … ∘ vec(A_k) (the k-factor form of Van Loan and Pitsianis
/// 1993), so the nearest sum of R chains is the best rank-R CP approximation of that tensor. For k = 2 it is an SVD;
/// for k &gt; 2 there is no closed form, and this does:
/// <list type="number">
/// <item>Split off A_1: the best rank-R approximation Σ_r u_r·v_rᵀ of the tensor unfolded as (m_1·n_1) × (rest)
/// (Eckart–Young, from the eigenvectors of its smaller Gram matrix). u_r is chain r's first factor.</item>
/// <item>Peel each v_r the same way at rank 1, one factor at a time (a rank-1 tensor-train SVD); an exact chain
/// is recovered here already, up to rounding.</item>
/// <item>Refine by sweeps of alternating least squares over the chains: chain r is refitted to the residual of the
/// others, one factor at a time, each update the exact minimizer given the other factors (Kolda and Bader 2009,
/// "Tensor decompositions and applications", §3.4), so the error never grows.</item>
/// <item>Rescale each chain's factors to equal norms (the product is unchanged), which suits gradient training.</item>
/// </list>
/// A sweep costs about 10·rows·columns flops per chain.
/// </remarks>
internal static class KroneckerChainFit
{
    /// <summary>The default number of ALS sweeps after the peeling.</summary>
    public const int DefaultSweeps = 3;

    /// <summary>The factors of each chain, [r][i] = vec(A_i,r) row-major, for the dense row-major <paramref name="dense"/>.</summary>
    public static double[][][] Fit(KroneckerChainShape shape, double[] dense, int rank, int sweeps)
    {
        int k = shape.Count;
        int[] sizes = Enumerable.Range(0, k).Select(shape.FactorSize).ToArray();
        double[] tensor = Rearrange(shape, dense);
        int rest = tensor.Length / sizes[0];

        var chains = new double[rank][][];
        (double[][] firsts, double[][] remainders) = TopPairs(tensor, sizes[0], rest, rank);
        for (int r = 0; r < rank; r++)
        {
            chains[r] = new double[k][];
            chains[r][0] = firsts[r];
            double[] remainder = remainders[r];
            int remaining = rest;
            for (int i = 1; i < k - 1; i++)
            {
                remaining /= sizes[i];
                (double[][] left, double[][] right) = TopPairs(remainder, sizes[i], remaining, 1);
                chains[r][i] = left[0];
                remainder = right[0];
            }
            chains[r][k - 1] = remainder;
        }

        if (sweeps > 0)
        {
            double[] residual = (double[])tensor.Clone();
            double[] outer = new double[tensor.Length];
            foreach (double[][] chain in chains)
            {
                Outer(chain, outer);
                TensorPrimitives.Subtract(residual, outer, residual);
            }
            for (int sweep = 0; sweep < sweeps; sweep++)
                foreach (double[][] chain in chains)
                {
                    Outer(chain, outer);
                    TensorPrimitives.Add(residual, outer, residual);
                    for (int i = 0; i < k; i++) Update(residual, chain, i, sizes);
                    Outer(chain, outer);
                    TensorPrimitives.Subtract(residual, outer, residual);
                }
        }

        foreach (double[][] chain in chains) Balance(chain);
        return chains;
    }

    /// <summary>W (row-major) as the k-way tensor whose entry (i_1·n_1 + j_1, …, i_k·n_k + j_k) is W[i, j].</summary>
    private static double[] Rearrange(KroneckerChainShape shape, double[] dense)
    {
        int k = shape.Count, rows = shape.Rows, columns = shape.Columns;
        var rowOffsets = new int[rows];
        var columnOffsets = new int[columns];
        int stride = 1, rowRadix = 1, columnRadix = 1;
        for (int l = k - 1; l >= 0; l--)
        {
            int m = shape.FactorRows[l], n = shape.FactorColumns[l];
            for (int i = 0; i < rows; i++) rowOffsets[i] += (i / rowRadix % m) * n * stride;
            for (int j = 0; j < columns; j++) columnOffsets[j] += (j / columnRadix % n) * stride;
            stride *= m * n;
            rowRadix *= m;
            columnRadix *= n;
        }
        var tensor = new double[dense.Length];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < columns; j++)
                tensor[rowOffsets[i] + columnOffsets[j]] = dense[(long)i * columns + j];
        return tensor;
    }

    /// <summary>
    /// The top <paramref name="count"/> terms left_r·right_rᵀ of the SVD of the row-major <paramref name="rows"/> ×
    /// <paramref name="columns"/> matrix <paramref name="data"/>, σ_r carried by the factor on the larger side.
    /// </summary>
    private static (double[][] Left, double[][] Right) TopPairs(double[] data, int rows, int columns, int count)
    {
        (double[] sigma, double[][] u, double[][] v) = TruncatedSvd.Top(data, rows, columns, count);
        bool tall = rows >= columns;
        for (int r = 0; r < count; r++)
            TensorPrimitives.Multiply(tall ? u[r] : v[r], sigma[r], tall ? u[r] : v[r]);
        return (u, v);
    }

    /// <summary>The outer product vec(A_1) ∘ … ∘ vec(A_k), flattened row-major, into <paramref name="destination"/>.</summary>
    private static void Outer(double[][] factors, Span<double> destination)
    {
        int length = 1;
        destination[0] = 1;
        foreach (double[] factor in factors)
        {
            // Grow from the back so that the prefix being read is not yet overwritten.
            for (int p = length - 1; p >= 0; p--)
            {
                double scale = destination[p];
                TensorPrimitives.Multiply(factor, scale, destination.Slice(p * factor.Length, factor.Length));
            }
            length *= factor.Length;
        }
    }

    /// <summary>
    /// factor i = argmin ‖E − a_1 ∘ … ∘ a_k‖ over a_i: E contracted with every other factor, divided by the product of
    /// their squared norms.
    /// </summary>
    private static void Update(double[] residual, double[][] chain, int i, int[] sizes)
    {
        int k = chain.Length;
        double norms = 1;
        for (int l = 0; l < k; l++)
            if (l != i) norms *= TensorPrimitives.Dot<double>(chain[l], chain[l]);
        double[] factor = chain[i];
        if (norms == 0)
        {
            Array.Clear(factor);
            return;
        }
        int leading = 1, trailing = 1;
        for (int l = 0; l < i; l++) leading *= sizes[l];
        for (int l = i + 1; l < k; l++) trailing *= sizes[l];
        var before = new double[leading];
        var after = new double[trailing];
        Outer(chain[..i], before);
        Outer(chain[(i + 1)..], after);
        int size = sizes[i];
        Array.Clear(factor);
        for (int p = 0; p < leading; p++)
        {
            if (before[p] == 0) continue;
            for (int q = 0; q < size; q++)
                factor[q] += before[p] * TensorPrimitives.Dot<double>(residual.AsSpan((p * size + q) * trailing, trailing), after);
        }
        TensorPrimitives.Divide(factor, norms, factor);
    }

    /// <summary>Scales the factors to equal norms, keeping their product (all zero if any is).</summary>
    private static void Balance(double[][] chain)
    {
        double[] norms = chain.Select(f => Math.Sqrt(TensorPrimitives.Dot<double>(f, f))).ToArray();
        if (norms.Any(n => n == 0))
        {
            foreach (double[] factor in chain) Array.Clear(factor);
            return;
        }
        double mean = Math.Exp(norms.Sum(Math.Log) / norms.Length);
        for (int i = 0; i < chain.Length; i++) TensorPrimitives.Multiply(chain[i], mean / norms[i], chain[i]);
    }
}
