using Dopant.Matrices;

namespace Dopant.Inference;

/// <summary>Any other form (Kronecker chains, for now), through its own batched forward with a batch of one.</summary>
internal sealed class FormStepMatrix(IWeightMatrix<float> form) : IStepMatrix
{
    public int Rows => form.Rows;

    public int Columns => form.Columns;

    public long WeightBytes => form.StorageBytes;

    public void MultiplyAdd(ReadOnlySpan<float> x, Span<float> y) => form.Forward(x, y, 1, accumulate: true);
}
