namespace Dopant.Search;

/// <summary>What <see cref="SchemeSearch"/> maximizes among the levels that meet the perplexity constraint.</summary>
public enum SearchObjective
{
    /// <summary>The streaming runtime's speed-up over the dense model per token (recurrent part), measured side by side.</summary>
    Latency,

    /// <summary>The whole model's byte reduction (dense bytes over compressed bytes).</summary>
    Memory,

    /// <summary>The reduction of stored values of the compressed matrices.</summary>
    Parameters,
}
