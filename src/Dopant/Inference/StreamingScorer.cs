using Dopant.Tasks;

namespace Dopant.Inference;

/// <summary>Perplexity of a text under a <see cref="StreamingLanguageModel"/>, read token by token in one stream.</summary>
public static class StreamingScorer
{
    /// <summary>
    /// Scores tokens 1..n−1 of <paramref name="tokens"/>, each predicted from the ones before it, from a reset state.
    /// </summary>
    /// <exception cref="ArgumentException">Fewer than two tokens.</exception>
    public static Perplexity Score(StreamingLanguageModel model, ReadOnlySpan<int> tokens)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (tokens.Length < 2) throw new ArgumentException($"Scoring needs at least two tokens; got {tokens.Length}.", nameof(tokens));
        var logits = new float[model.VocabularySize];
        double loss = 0;
        model.Reset();
        for (int t = 0; t + 1 < tokens.Length; t++)
        {
            model.Step(tokens[t], logits);
            loss += LogSumExp(logits) - logits[tokens[t + 1]];
        }
        return new Perplexity(loss / (tokens.Length - 1), tokens.Length - 1);
    }

    private static double LogSumExp(ReadOnlySpan<float> logits)
    {
        float max = System.Numerics.Tensors.TensorPrimitives.Max(logits);
        double sum = 0;
        foreach (float v in logits) sum += Math.Exp(v - max);
        return max + Math.Log(sum);
    }
}
