namespace Dopant.Training;

/// <summary>The outcome of a training run.</summary>
/// <param name="History">One entry per epoch, including epochs before a resume.</param>
/// <param name="ValidPerplexity">Validation perplexity of the final model.</param>
/// <param name="TestPerplexity">Test perplexity of the final model.</param>
/// <param name="TokensPerSecond">Training throughput over the whole run (evaluation excluded).</param>
/// <param name="TrainSeconds">Training time over the whole run (evaluation excluded).</param>
/// <param name="Divergences">The diverged epochs that were rolled back and trained again at a lower learning rate.</param>
public sealed record TrainingResult(IReadOnlyList<EpochResult> History, double ValidPerplexity, double TestPerplexity,
    double TokensPerSecond, double TrainSeconds, IReadOnlyList<DivergenceEvent> Divergences);
