namespace Dopant.Compression;

/// <summary>
/// Magnitude pruning (Condensa's <c>Prune</c>): keeps the <see cref="Density"/> fraction of weights with the largest
/// magnitudes and zeroes the rest, under one threshold over all the weights projected together (global), or under a
/// threshold per matrix (<see cref="PerMatrix"/>). Exactly round(density · n) weights stay.
/// </summary>
public sealed class MagnitudePrune : ICompressionOperator
{
    /// <summary>Creates the operator.</summary>
    /// <param name="density">The fraction of weights kept, in (0, 1].</param>
    /// <param name="perMatrix">Whether each matrix keeps its own fraction rather than sharing one global threshold.</param>
    public MagnitudePrune(double density, bool perMatrix = false)
    {
        if (!(density > 0 && density <= 1)) throw new ArgumentOutOfRangeException(nameof(density), $"prune: density must be in (0, 1] (got {density}).");
        Density = density;
        PerMatrix = perMatrix;
    }

    /// <summary>The fraction of weights kept.</summary>
    public double Density { get; }

    /// <summary>Whether every matrix keeps <see cref="Density"/> of its own weights.</summary>
    public bool PerMatrix { get; }

    /// <inheritdoc/>
    public string Description => $"prune(density={Density:G4}{(PerMatrix ? ", per matrix" : "")})";

    /// <inheritdoc/>
    public void Project(IReadOnlyList<CompressibleWeight> weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        if (PerMatrix)
        {
            foreach (CompressibleWeight w in weights) Prune([w]);
            return;
        }
        Prune(weights);
    }

    private void Prune(IReadOnlyList<CompressibleWeight> weights)
    {
        long n = weights.Sum(w => (long)w.Values.Length);
        if (n > Array.MaxLength) throw new ArgumentException($"prune: {n} weights are more than one global threshold can rank; use a per-matrix threshold.");
        var scores = new double[n];
        int offset = 0;
        foreach (CompressibleWeight w in weights)
            foreach (float v in w.Values) scores[offset++] = Math.Abs(v);
        var kept = new bool[n];
        LargestScores.Select(scores, LargestScores.CountFor(Density, n), kept);
        offset = 0;
        foreach (CompressibleWeight w in weights)
            for (int i = 0; i < w.Values.Length; i++)
                if (!kept[offset++]) w.Values[i] = 0;
    }

    /// <inheritdoc/>
    public StorageEstimate Account(CompressibleWeight weight, StorageEstimate before) => Sparse(weight, before);

    /// <summary>The storage of <paramref name="weight"/>'s nonzero entries in compressed sparse rows.</summary>
    internal static StorageEstimate Sparse(CompressibleWeight weight, StorageEstimate before)
    {
        long nonzeros = 0;
        foreach (float v in weight.Values) if (v != 0) nonzeros++;
        return before with { Values = nonzeros, IndexBytes = StorageEstimate.CsrIndexBytes(nonzeros, weight.Rows, weight.Columns) };
    }
}
