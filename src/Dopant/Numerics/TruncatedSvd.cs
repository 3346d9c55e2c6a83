using System.Numerics.Tensors;
using MathNet.Numerics.LinearAlgebra;

namespace Dopant.Numerics;

/// <summary>
/// The top singular triplets of a dense matrix, in double, from the eigendecomposition of its smaller Gram matrix
/// (MathNet.Numerics' symmetric EVD): for an r × c matrix M with r ≥ c, the eigenvectors v of MᵀM (c × c) are the
/// right singular vectors, and u = M·v / σ with σ = ‖M·v‖. The terms σ·u·vᵀ are then exactly M projected onto the top
/// subspace, even where eigenvalues are tied or tiny; a full SVD would also build the r × r U that nobody needs.
/// </summary>
internal static class TruncatedSvd
{
    /// <summary>
    /// The top <paramref name="count"/> triplets of the row-major <paramref name="rows"/> × <paramref name="columns"/>
    /// matrix <paramref name="data"/>, largest first: σ_r, u_r (rows, unit or zero) and v_r (columns, unit).
    /// </summary>
    public static (double[] Sigma, double[][] U, double[][] V) Top(ReadOnlySpan<double> data, int rows, int columns, int count)
    {
        if (data.Length != (long)rows * columns) throw new ArgumentException($"Expected {(long)rows * columns} values, got {data.Length}.", nameof(data));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, Math.Min(rows, columns));
        bool tall = rows >= columns;
        int small = tall ? columns : rows, large = tall ? rows : columns;
        // The small side's vectors as rows of `lines` (small × large): the columns of M when tall, its rows when wide.
        double[] lines = new double[(long)small * large];
        if (tall)
            for (int i = 0; i < rows; i++)
                for (int j = 0; j < columns; j++) lines[(long)j * rows + i] = data[i * columns + j];
        else data.CopyTo(lines);

        Matrix<double> gram = Matrix<double>.Build.Dense(small, small);
        for (int i = 0; i < small; i++)
        {
            ReadOnlySpan<double> a = lines.AsSpan(i * large, large);
            for (int j = i; j < small; j++)
            {
                double dot = TensorPrimitives.Dot(a, lines.AsSpan(j * large, large));
                gram[i, j] = dot;
                gram[j, i] = dot;
            }
        }
        var evd = gram.Evd(Symmetricity.Symmetric);
        int[] order = [.. Enumerable.Range(0, small).OrderByDescending(i => evd.EigenValues[i].Real).ThenBy(i => i)];

        var sigma = new double[count];
        var smallVectors = new double[count][];
        var largeVectors = new double[count][];
        for (int r = 0; r < count; r++)
        {
            double[] vector = evd.EigenVectors.Column(order[r]).ToArray();
            // The large side's vector: Σ_i vector[i]·lines[i], normalized by its length σ.
            var image = new double[large];
            for (int i = 0; i < small; i++)
                if (vector[i] != 0) TensorPrimitives.MultiplyAdd(lines.AsSpan(i * large, large), vector[i], image, image);
            sigma[r] = TensorPrimitives.Norm<double>(image);
            if (sigma[r] > 0) TensorPrimitives.Divide(image, sigma[r], image);
            smallVectors[r] = vector;
            largeVectors[r] = image;
        }
        return tall ? (sigma, largeVectors, smallVectors) : (sigma, smallVectors, largeVectors);
    }
}
