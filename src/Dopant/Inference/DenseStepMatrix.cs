using Dopant.Numerics;

namespace Dopant.Inference;

/// <summary>A dense W: one bandwidth-bound GEMV per product (split over the shared pool's threads when large).</summary>
internal sealed class DenseStepMatrix : IStepMatrix
{
    private readonly float[] _weights;

    /// <summary>Copies W (row-major <paramref name="rows"/> × <paramref name="columns"/>).</summary>
    public DenseStepMatrix(ReadOnlySpan<float> weights, int rows, int columns)
    {
        if (weights.Length != (long)rows * columns) throw new ArgumentException($"Expected {(long)rows * columns} weights, got {weights.Length}.", nameof(weights));
        _weights = weights.ToArray();
        Rows = rows;
        Columns = columns;
    }

    public int Rows { get; }

    public int Columns { get; }

    public bool SplitsOverThreads => true;

    public long WeightBytes => (long)_weights.Length * sizeof(float);

    public void MultiplyAdd(ReadOnlySpan<float> x, Span<float> y) =>
        Blas.Sgemv(false, Rows, Columns, 1f, _weights, Columns, x, 1f, y);
}
