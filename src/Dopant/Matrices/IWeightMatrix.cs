using System.Buffers;
using System.Numerics;

namespace Dopant.Matrices;

/// <summary>
/// A weight matrix W (<see cref="Rows"/> × <see cref="Columns"/>) in some form: dense, Kronecker, low-rank, sparse,
/// doped. Layers reach their weights only through this interface, so that any form can replace a dense matrix.
/// Activations are row-major batches: one row per sample.
/// </summary>
public interface IWeightMatrix<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Output size m (rows of W).</summary>
    int Rows { get; }

    /// <summary>Input size n (columns of W).</summary>
    int Columns { get; }

    /// <summary>The trainable tensors of this form, with state-dict names.</summary>
    IReadOnlyList<Parameter<T>> Parameters { get; }

    /// <summary>Number of stored weights (what the compression factor counts).</summary>
    long ParameterCount { get; }

    /// <summary>Bytes needed to store the form (values and any indices) at its storage precision.</summary>
    long StorageBytes { get; }

    /// <summary>y[count×Rows] = x[count×Columns] · Wᵀ, or += when <paramref name="accumulate"/>.</summary>
    void Forward(ReadOnlySpan<T> x, Span<T> y, int count, bool accumulate);

    /// <summary>dx[count×Columns] = dy[count×Rows] · W, or += when <paramref name="accumulate"/>.</summary>
    void BackwardInput(ReadOnlySpan<T> dy, Span<T> dx, int count, bool accumulate);

    /// <summary>Adds the gradient of the loss with respect to the form's parameters, given dy = ∂L/∂y for inputs x.</summary>
    void AccumulateGradients(ReadOnlySpan<T> x, ReadOnlySpan<T> dy, int count);

    /// <summary>The matrix as a dense row-major array.</summary>
    T[] ToDense();

    /// <summary>
    /// Announces a run of <see cref="Forward"/> and <see cref="BackwardInput"/> calls with small batches (the time steps
    /// of a recurrent window) during which the values do not change, until <see cref="EndSteps"/>. A form may then do
    /// once what every product would repeat (pack the operand of its GEMMs); the results are the same.
    /// </summary>
    void BeginSteps()
    {
    }

    /// <summary>Ends the run begun by <see cref="BeginSteps"/>; the values may change again.</summary>
    void EndSteps()
    {
    }

    /// <summary>
    /// output[k·Columns .. (k+1)·Columns) = row <paramref name="rows"/>[k] of W, as an embedding looks its rows up.
    /// The default multiplies one-hot rows through <see cref="BackwardInput"/> (e_iᵀ·W = W[i]), which costs what a
    /// product with the form costs; forms override it with a direct read.
    /// </summary>
    void GatherRows(ReadOnlySpan<int> rows, Span<T> output)
    {
        if (output.Length < rows.Length * Columns) throw new ArgumentException($"output holds {output.Length} values; {rows.Length}×{Columns} needed.", nameof(output));
        OneHotChunk.Run(this, rows, output, default);
    }

    /// <summary>
    /// Adds the parameter gradients of L where output[k] = W[<paramref name="rows"/>[k]], given ∂L/∂output
    /// (<paramref name="dOutput"/>, [rows.Length, Columns]). The default passes one-hot rows to
    /// <see cref="AccumulateGradients"/> (∂L/∂W = Σ_k e_{rows[k]} ⊗ dOutput[k]); forms override it.
    /// </summary>
    void AccumulateRowGradients(ReadOnlySpan<int> rows, ReadOnlySpan<T> dOutput)
    {
        if (dOutput.Length < rows.Length * Columns) throw new ArgumentException($"dOutput holds {dOutput.Length} values; {rows.Length}×{Columns} needed.", nameof(dOutput));
        OneHotChunk.Run(this, rows, default, dOutput);
    }
}

/// <summary>Batches of one-hot rows for the default row reads of <see cref="IWeightMatrix{T}"/>.</summary>
internal static class OneHotChunk
{
    // About a megabyte of one-hot values per batch: enough rows to amortize a product, few enough to stay in cache.
    private static int Rows(int width) => Math.Max(1, (1 << 18) / Math.Max(1, width));

    /// <summary>
    /// The rows of <paramref name="matrix"/> through one-hot batches: into <paramref name="output"/> by
    /// <see cref="IWeightMatrix{T}.BackwardInput"/> when it is not empty, else the gradients of <paramref name="dOutput"/>
    /// by <see cref="IWeightMatrix{T}.AccumulateGradients"/>.
    /// </summary>
    public static void Run<T>(IWeightMatrix<T> matrix, ReadOnlySpan<int> rows, Span<T> output, ReadOnlySpan<T> dOutput)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int width = matrix.Rows, columns = matrix.Columns;
        int chunk = Math.Max(1, Math.Min(rows.Length, Rows(width)));
        T[] oneHot = ArrayPool<T>.Shared.Rent(chunk * width);
        try
        {
            for (int start = 0; start < rows.Length; start += chunk)
            {
                int count = Math.Min(chunk, rows.Length - start);
                Span<T> batch = Fill(oneHot, rows.Slice(start, count), width);
                if (!output.IsEmpty) matrix.BackwardInput(batch, output.Slice(start * columns, count * columns), count, accumulate: false);
                else matrix.AccumulateGradients(dOutput.Slice(start * columns, count * columns), batch, count);
            }
        }
        finally
        {
            ArrayPool<T>.Shared.Return(oneHot);
        }
    }

    private static Span<T> Fill<T>(T[] buffer, ReadOnlySpan<int> rows, int width) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Span<T> batch = buffer.AsSpan(0, rows.Length * width);
        batch.Clear();
        for (int k = 0; k < rows.Length; k++)
        {
            if ((uint)rows[k] >= (uint)width) throw new ArgumentOutOfRangeException(nameof(rows), rows[k], $"Row {rows[k]} is outside [0, {width}).");
            batch[k * width + rows[k]] = T.One;
        }
        return batch;
    }
}
