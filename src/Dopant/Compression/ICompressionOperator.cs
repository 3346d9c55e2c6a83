namespace Dopant.Compression;

/// <summary>
/// A compression operator in Condensa's sense (Joseph et al. 2020): a compression Π from weights to a compressed
/// representation θ and a decompression Δ back to weights. Dopant works with their composition, the projection
/// Δ(Π(w)) onto the set of weights the compressed form can represent, which is what the learning-compression C step
/// needs; <see cref="Account"/> says what storing θ costs.
/// </summary>
public interface ICompressionOperator
{
    /// <summary>A short description with the operator's settings, such as <c>prune(density=0.1)</c>.</summary>
    string Description { get; }

    /// <summary>
    /// Replaces the values of <paramref name="weights"/> by Δ(Π(w)), in place. The weights are projected together, so
    /// that global criteria (one magnitude threshold over all of them) see every weight.
    /// </summary>
    /// <exception cref="ArgumentException">The operator does not apply to one of the weights (its shape or kind).</exception>
    void Project(IReadOnlyList<CompressibleWeight> weights);

    /// <summary>
    /// The storage of <paramref name="weight"/> after this operator, given <paramref name="before"/>, its storage before
    /// it; <paramref name="weight"/> holds the projected values.
    /// </summary>
    StorageEstimate Account(CompressibleWeight weight, StorageEstimate before);
}
