namespace Dopant.Tasks;

/// <summary>The result of scoring a token stream.</summary>
/// <param name="Loss">Mean cross-entropy per target token (natural log).</param>
/// <param name="Tokens">Number of target tokens scored.</param>
public readonly record struct Perplexity(double Loss, long Tokens)
{
    /// <summary>exp(mean cross-entropy).</summary>
    public double Value => Math.Exp(Loss);

    /// <summary>Mean cross-entropy in bits (log2 of the perplexity): bits per character for a character model.</summary>
    public double BitsPerToken => Loss / Math.Log(2);
}
