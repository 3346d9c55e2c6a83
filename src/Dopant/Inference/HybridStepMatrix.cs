namespace Dopant.Inference;

/// <summary>HMD: the top rows of W dense, the rest low-rank; each part writes its own rows of y.</summary>
internal sealed class HybridStepMatrix : IStepMatrix
{
    private readonly IStepMatrix _top;
    private readonly LowRankStepMatrix _bottom;

    public HybridStepMatrix(IStepMatrix top, LowRankStepMatrix bottom)
    {
        if (top.Columns != bottom.Columns) throw new ArgumentException("The dense and low-rank parts must have the same columns.");
        _top = top;
        _bottom = bottom;
    }

    public int Rows => _top.Rows + _bottom.Rows;

    public int Columns => _top.Columns;

    public long WeightBytes => _top.WeightBytes + _bottom.WeightBytes;

    public void MultiplyAdd(ReadOnlySpan<float> x, Span<float> y)
    {
        _top.MultiplyAdd(x, y[.._top.Rows]);
        _bottom.MultiplyAdd(x, y.Slice(_top.Rows, _bottom.Rows));
    }
}
