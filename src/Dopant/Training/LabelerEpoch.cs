namespace Dopant.Training;

/// <summary>One finished epoch of a tagger's or classifier's training.</summary>
/// <param name="Epoch">1-based epoch.</param>
/// <param name="LearningRate">The epoch's learning rate.</param>
/// <param name="TrainLoss">Mean training cross-entropy per label.</param>
/// <param name="Valid">The validation score after the epoch.</param>
/// <param name="LabelsPerSecond">Training throughput (labels per second).</param>
/// <param name="Seconds">Training seconds of the epoch.</param>
/// <param name="Sparsity">The pruned fraction of the pruned parts after the epoch, for a compressing run.</param>
public sealed record LabelerEpoch(int Epoch, double LearningRate, double TrainLoss, LabelingScore Valid, double LabelsPerSecond, double Seconds, double? Sparsity = null);

/// <summary>Where a tagger's or classifier's training stands after a whole epoch: with the weights and optimizer state, enough to resume exactly.</summary>
public sealed record LabelerState
{
    /// <summary>Epochs finished.</summary>
    public int EpochsCompleted { get; init; }

    /// <summary>The generator's state (batch order and dropout) after the last finished epoch.</summary>
    public ulong[] RandomState { get; init; } = [];

    /// <summary>Optimizer steps taken.</summary>
    public long OptimizerSteps { get; init; }

    /// <summary>One entry per finished epoch.</summary>
    public IReadOnlyList<LabelerEpoch> History { get; init; } = [];

    /// <summary>The factor on the learning rate left by roll-backs after divergence (1 when there were none).</summary>
    public double LearningRateScale { get; init; } = 1;

    /// <summary>Every diverged epoch that was rolled back.</summary>
    public IReadOnlyList<DivergenceEvent> Divergences { get; init; } = [];
}
