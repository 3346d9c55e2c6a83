using Dopant.Compression;

namespace Dopant.Search;

/// <summary>Everything that defines a <see cref="SchemeSearch"/>.</summary>
/// <param name="Run">The compression run of every trial; its level is what the search sets.</param>
/// <param name="Domain">The range of the scheme's <c>"$level"</c>.</param>
/// <param name="HigherIsMoreAggressive">Whether a higher level compresses more (a factor) rather than less (a density).</param>
/// <param name="MaxPerplexityIncrease">The constraint as a relative increase of validation perplexity over the dense model (0.02: 2%); null when absolute.</param>
/// <param name="MaxPerplexity">The constraint as an absolute validation perplexity; null when relative.</param>
/// <param name="Objective">What to maximize within the constraint.</param>
/// <param name="Budget">Trials at most (each a compression run).</param>
/// <param name="LatencyTokens">Tokens timed per pass for the latency objective.</param>
public sealed record SchemeSearchSettings(SchemeRunSettings Run, SearchDomain Domain, bool HigherIsMoreAggressive, double? MaxPerplexityIncrease,
    double? MaxPerplexity, SearchObjective Objective, int Budget = 10, int LatencyTokens = 300)
{
    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(Domain);
        if ((MaxPerplexityIncrease is null) == (MaxPerplexity is null))
            throw new ArgumentException("Give the constraint as one of a relative perplexity increase and an absolute perplexity.");
        if (MaxPerplexityIncrease is double r && !(r >= 0 && double.IsFinite(r))) throw new ArgumentException($"The perplexity increase must be at least 0 (got {r}).");
        if (MaxPerplexity is double a && !(a > 1 && double.IsFinite(a))) throw new ArgumentException($"The perplexity limit must be above 1 (got {a}).");
        if (Budget is < 2 or > 50) throw new ArgumentException($"The budget must be 2 to 50 trials (got {Budget}).");
        if (LatencyTokens < 10) throw new ArgumentException($"Time at least 10 tokens (got {LatencyTokens}).");
    }
}
