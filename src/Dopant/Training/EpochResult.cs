namespace Dopant.Training;

/// <summary>What one training epoch achieved.</summary>
/// <param name="Epoch">1-based epoch number.</param>
/// <param name="LearningRate">The epoch's learning rate.</param>
/// <param name="TrainPerplexity">exp of the mean training loss over the epoch.</param>
/// <param name="ValidPerplexity">Validation perplexity after the epoch.</param>
/// <param name="TokensPerSecond">Training throughput (evaluation excluded).</param>
/// <param name="Seconds">Training time of the epoch (evaluation excluded).</param>
/// <param name="ValidPerplexityWithoutSparse">
/// For a model with doped matrices, validation perplexity with the doping matrices S switched off (the co-matrix
/// adaptation diagnostic); otherwise null.
/// </param>
/// <param name="Sparsity">The pruned fraction of the pruned parts (doping matrices, pruned forms) after the epoch, or null.</param>
public sealed record EpochResult(int Epoch, double LearningRate, double TrainPerplexity, double ValidPerplexity, double TokensPerSecond, double Seconds,
    double? ValidPerplexityWithoutSparse = null, double? Sparsity = null);
