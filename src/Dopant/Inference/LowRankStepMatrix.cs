using Dopant.Numerics;

namespace Dopant.Inference;

/// <summary>W = U·V (U: m × r, V: r × n): t = V·x, then y += U·t, two GEMVs through an r-wide bottleneck.</summary>
internal sealed class LowRankStepMatrix : IStepMatrix
{
    private readonly float[] _left, _right, _bottleneck;

    public LowRankStepMatrix(ReadOnlySpan<float> left, ReadOnlySpan<float> right, int rows, int rank, int columns)
    {
        if (left.Length != (long)rows * rank || right.Length != (long)rank * columns)
            throw new ArgumentException($"Low-rank factors must be {rows}×{rank} and {rank}×{columns}.");
        _left = left.ToArray();
        _right = right.ToArray();
        _bottleneck = new float[rank];
        Rows = rows;
        Columns = columns;
    }

    public int Rows { get; }

    public int Columns { get; }

    public long WeightBytes => ((long)_left.Length + _right.Length) * sizeof(float);

    public void MultiplyAdd(ReadOnlySpan<float> x, Span<float> y)
    {
        int rank = _bottleneck.Length;
        Blas.Sgemv(false, rank, Columns, 1f, _right, Columns, x, 0f, _bottleneck);
        Blas.Sgemv(false, Rows, rank, 1f, _left, rank, _bottleneck, 1f, y);
    }
}
