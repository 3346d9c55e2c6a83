using Dopant.Data;
using Dopant.Models;

namespace Dopant.Tasks;

/// <summary>Perplexity of a token stream under a model, with the state carried across windows and no dropout.</summary>
public static class PerplexityEvaluator
{
    /// <summary>Scores <paramref name="tokens"/> in <paramref name="batchSize"/> parallel streams and windows of <paramref name="bptt"/> steps.</summary>
    public static Perplexity Evaluate(LanguageModel<float> model, ReadOnlySpan<int> tokens, int batchSize, int bptt,
        IProgress<double>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var stream = new BatchedTokenStream(tokens, batchSize);
        if (stream.Length < 2) throw new ArgumentException($"{tokens.Length} tokens are too few to evaluate with batch size {batchSize}.", nameof(tokens));
        bool wasTraining = model.Training;
        model.Training = false;
        try
        {
            var state = model.CreateState(batchSize);
            var inputs = new int[bptt * batchSize];
            var targets = new int[bptt * batchSize];
            double total = 0;
            long count = 0;
            int windows = stream.WindowCount(bptt), done = 0;
            foreach (BpttWindow window in stream.Windows(bptt))
            {
                int n = stream.CopyWindow(window, inputs, targets);
                total += model.Forward(inputs.AsSpan(0, n), targets.AsSpan(0, n), window.Length, batchSize, state);
                count += n;
                progress?.Report(++done / (double)windows);
            }
            return new Perplexity(total / count, count);
        }
        finally
        {
            model.Training = wasTraining;
        }
    }
}
