namespace Dopant.Compression;

/// <summary>
/// Operators applied one after another (Condensa's <c>Compose</c>: Π in order, Δ in reverse, which for projections is
/// projecting by each in order), such as pruning then int8 quantization.
/// </summary>
public sealed class ComposedOperator : ICompressionOperator
{
    /// <summary>Composes <paramref name="operators"/>, first applied first.</summary>
    public ComposedOperator(IReadOnlyList<ICompressionOperator> operators)
    {
        ArgumentNullException.ThrowIfNull(operators);
        if (operators.Count == 0) throw new ArgumentException("compose: at least one operator is needed.", nameof(operators));
        Operators = [.. operators];
    }

    /// <summary>The operators, in the order they apply.</summary>
    public IReadOnlyList<ICompressionOperator> Operators { get; }

    /// <inheritdoc/>
    public string Description => string.Join(" → ", Operators.Select(o => o.Description));

    /// <inheritdoc/>
    public void Project(IReadOnlyList<CompressibleWeight> weights)
    {
        foreach (ICompressionOperator o in Operators) o.Project(weights);
    }

    /// <inheritdoc/>
    public StorageEstimate Account(CompressibleWeight weight, StorageEstimate before)
    {
        foreach (ICompressionOperator o in Operators) before = o.Account(weight, before);
        return before;
    }
}
