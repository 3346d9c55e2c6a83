namespace Dopant.Training;

/// <summary>A snapshot of a training run for a progress display.</summary>
/// <param name="Phase"><c>train</c>, <c>valid</c> or <c>test</c>.</param>
/// <param name="Epoch">1-based epoch.</param>
/// <param name="Epochs">Epochs in the run.</param>
/// <param name="Fraction">Completed fraction of the current phase, 0..1.</param>
/// <param name="Loss">Mean training loss so far this epoch (NaN outside training).</param>
/// <param name="LearningRate">The epoch's learning rate.</param>
/// <param name="TokensPerSecond">Training throughput this epoch.</param>
/// <param name="Remaining">Estimated training time left in the run.</param>
public sealed record TrainingProgress(string Phase, int Epoch, int Epochs, double Fraction, double Loss, double LearningRate,
    double TokensPerSecond, TimeSpan Remaining);
