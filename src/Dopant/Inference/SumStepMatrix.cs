namespace Dopant.Inference;

/// <summary>W = M + S, a doped matrix: the structured part and the sparse overlay add into the same y.</summary>
internal sealed class SumStepMatrix : IStepMatrix
{
    private readonly IStepMatrix _first, _second;

    public SumStepMatrix(IStepMatrix first, IStepMatrix second)
    {
        if (first.Rows != second.Rows || first.Columns != second.Columns) throw new ArgumentException("The two terms must have the same shape.");
        _first = first;
        _second = second;
    }

    public int Rows => _first.Rows;

    public int Columns => _first.Columns;

    public long WeightBytes => _first.WeightBytes + _second.WeightBytes;

    /// <summary>The two terms, structured part first.</summary>
    internal IStepMatrix[] Terms => [_first, _second];

    public void MultiplyAdd(ReadOnlySpan<float> x, Span<float> y)
    {
        _first.MultiplyAdd(x, y);
        _second.MultiplyAdd(x, y);
    }
}
