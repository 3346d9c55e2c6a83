namespace Dopant.Training;

/// <summary>A diverged epoch that was rolled back and trained again at a lower learning rate.</summary>
/// <param name="Epoch">The 1-based epoch that diverged.</param>
/// <param name="Window">The 1-based training window of the epoch at which it was detected (0: at the end of the epoch).</param>
/// <param name="Loss">
/// The mean cross-entropy per token that revealed it (NaN or infinite, or above twice that of a uniform guess), or at
/// the end of the epoch the validation perplexity's logarithm.
/// </param>
/// <param name="LearningRateScale">The factor on the run's learning rate from then on.</param>
public sealed record DivergenceEvent(int Epoch, int Window, double Loss, double LearningRateScale);
