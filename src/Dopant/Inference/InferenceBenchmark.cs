using System.Diagnostics;
using Dopant.Models;
using Dopant.Tasks;

namespace Dopant.Inference;

/// <summary>
/// Times streaming inference of several models side by side: each timed pass feeds the same tokens from a reset
/// state, and the models take turns pass by pass, so that a noisy machine hits them alike.
/// </summary>
public static class InferenceBenchmark
{
    /// <summary>
    /// Times every model over <paramref name="tokens"/>, <paramref name="repeats"/> passes each for the recurrent part
    /// and for whole steps (after one untimed warm-up pass), and returns their medians, in the order given.
    /// </summary>
    public static IReadOnlyList<InferenceTiming> Compare(IReadOnlyList<IStreamingModel> models, ReadOnlySpan<int> tokens, int repeats)
    {
        ArgumentNullException.ThrowIfNull(models);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(repeats);
        if (tokens.IsEmpty) throw new ArgumentException("No tokens to time.", nameof(tokens));
        var logits = models.Select(m => new float[m.VocabularySize]).ToArray();
        var recurrent = models.Select(_ => new double[repeats]).ToArray();
        var total = models.Select(_ => new double[repeats]).ToArray();
        for (int m = 0; m < models.Count; m++) Pass(models[m], tokens, logits[m]);
        for (int r = 0; r < repeats; r++)
            for (int m = 0; m < models.Count; m++)
            {
                recurrent[m][r] = Pass(models[m], tokens, null);
                total[m][r] = Pass(models[m], tokens, logits[m]);
            }
        return [.. models.Select((model, m) => new InferenceTiming(Median(recurrent[m]), Median(total[m]),
            model.RecurrentWeightBytes, model.DecoderWeightBytes, recurrent[m], total[m], model.ModelWeightBytes))];
    }

    /// <summary>
    /// Tokens per second of batched scoring (<see cref="PerplexityEvaluator"/>: <paramref name="batchSize"/>
    /// streams, windows of <paramref name="bptt"/>, on the shared pool's threads) of every model over
    /// <paramref name="tokens"/>, <paramref name="repeats"/> passes each taking turns (after one untimed pass); medians,
    /// in the order given.
    /// </summary>
    public static IReadOnlyList<double> CompareScoring(IReadOnlyList<LanguageModel<float>> models, ReadOnlySpan<int> tokens,
        int batchSize, int bptt, int repeats)
    {
        ArgumentNullException.ThrowIfNull(models);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(repeats);
        var rates = models.Select(_ => new double[repeats]).ToArray();
        foreach (LanguageModel<float> model in models) PerplexityEvaluator.Evaluate(model, tokens, batchSize, bptt);
        for (int r = 0; r < repeats; r++)
            for (int m = 0; m < models.Count; m++)
            {
                long start = Stopwatch.GetTimestamp();
                Perplexity result = PerplexityEvaluator.Evaluate(models[m], tokens, batchSize, bptt);
                rates[m][r] = result.Tokens / Stopwatch.GetElapsedTime(start).TotalSeconds;
            }
        return [.. rates.Select(Median)];
    }

    // µs per token of one pass from a reset state; with logits, whole steps, else the recurrent part alone.
    private static double Pass(IStreamingModel model, ReadOnlySpan<int> tokens, float[]? logits)
    {
        model.Reset();
        long start = Stopwatch.GetTimestamp();
        if (logits is null)
            foreach (int token in tokens) model.Advance(token);
        else
            foreach (int token in tokens) model.Step(token, logits);
        return Stopwatch.GetElapsedTime(start).TotalMicroseconds / tokens.Length;
    }

    private static double Median(double[] samples)
    {
        double[] sorted = [.. samples.Order()];
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
