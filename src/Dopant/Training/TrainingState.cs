namespace Dopant.Training;

/// <summary>Where a run stands after a whole epoch: enough, with the weights and optimizer state, to resume exactly.</summary>
public sealed record TrainingState
{
    /// <summary>Epochs finished.</summary>
    public int EpochsCompleted { get; init; }

    /// <summary>The dropout generator's state after the last finished epoch.</summary>
    public ulong[] RandomState { get; init; } = [];

    /// <summary>Optimizer steps taken.</summary>
    public long OptimizerSteps { get; init; }

    /// <summary>Training seconds so far (evaluation excluded).</summary>
    public double TrainSeconds { get; init; }

    /// <summary>Training target tokens processed so far.</summary>
    public long TrainTokens { get; init; }

    /// <summary>The factor on the learning rate left by roll-backs after divergence (1 when there were none).</summary>
    public double LearningRateScale { get; init; } = 1;

    /// <summary>Every diverged epoch that was rolled back.</summary>
    public IReadOnlyList<DivergenceEvent> Divergences { get; init; } = [];

    /// <summary>One entry per finished epoch.</summary>
    public IReadOnlyList<EpochResult> History { get; init; } = [];
}
