namespace Dopant.Inference;

/// <summary>
/// A read-only weight matrix W (<see cref="Rows"/> × <see cref="Columns"/>) prepared for products with one vector at
/// a time, as the streaming runtime needs them: no allocation per product, scratch owned by the instance (so one
/// instance serves one stream at a time).
/// </summary>
internal interface IStepMatrix
{
    /// <summary>Output size m.</summary>
    int Rows { get; }

    /// <summary>Input size n.</summary>
    int Columns { get; }

    /// <summary>The bytes of weights (values and indices) that one product reads.</summary>
    long WeightBytes { get; }

    /// <summary>Whether a product splits itself over the shared pool's threads (callers then need not).</summary>
    bool SplitsOverThreads => false;

    /// <summary>y[Rows] += W · x[Columns].</summary>
    void MultiplyAdd(ReadOnlySpan<float> x, Span<float> y);
}
