using Dopant.Numerics;

namespace Dopant.Inference;

/// <summary>
/// W = U·V (U: m × r, V: r × n): t = V·x, then y += U·t, two GEMVs through an r-wide bottleneck. U is kept transposed
/// (r × m) so that the second product runs as r axpys over y rather than m dot products of length r.
/// </summary>
internal sealed class LowRankStepMatrix : IStepMatrix
{
    private readonly float[] _leftTransposed, _right, _bottleneck;

    public LowRankStepMatrix(ReadOnlySpan<float> left, ReadOnlySpan<float> right, int rows, int rank, int columns)
    {
        if (left.Length != (long)rows * rank || right.Length != (long)rank * columns)
            throw new ArgumentException($"Low-rank factors must be {rows}×{rank} and {rank}×{columns}.");
        _leftTransposed = new float[left.Length];
        for (int i = 0; i < rows; i++)
            for (int k = 0; k < rank; k++) _leftTransposed[k * rows + i] = left[i * rank + k];
        _right = right.ToArray();
        _bottleneck = new float[rank];
        Rows = rows;
        Columns = columns;
    }

    public int Rows { get; }

    public int Columns { get; }

    public long WeightBytes => ((long)_leftTransposed.Length + _right.Length) * sizeof(float);

    public void MultiplyAdd(ReadOnlySpan<float> x, Span<float> y)
    {
        int rank = _bottleneck.Length;
        Blas.Sgemv(false, rank, Columns, 1f, _right, Columns, x, 0f, _bottleneck);
        Blas.Sgemv(true, rank, Rows, 1f, _leftTransposed, Rows, _bottleneck, 1f, y);
    }
}
