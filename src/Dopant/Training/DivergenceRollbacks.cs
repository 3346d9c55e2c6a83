namespace Dopant.Training;

/// <summary>
/// The roll-backs of a run whose epochs may diverge: every diverged epoch so far, and the factor on the learning rate
/// they have left. A diverged epoch is put back to its start and trained again at a lower rate, until a run has rolled
/// back more often than it may.
/// </summary>
internal sealed class DivergenceRollbacks(int maxRollbacks, double factor, IEnumerable<DivergenceEvent> past, double learningRateScale)
{
    private readonly List<DivergenceEvent> _events = [.. past];

    /// <summary>Every diverged epoch so far.</summary>
    public IReadOnlyList<DivergenceEvent> Events => _events;

    /// <summary>The factor on the initial learning rate left by the roll-backs (1 when there were none).</summary>
    public double LearningRateScale { get; private set; } = learningRateScale;

    /// <summary>The event of an epoch that diverged now, with the learning-rate scale it leaves.</summary>
    public DivergenceEvent Diverged(int epoch, int window, double loss) => new(epoch, window, loss, LearningRateScale * factor);

    /// <summary>
    /// Records <paramref name="divergence"/> and puts the run back to <paramref name="lastGood"/>, the start of the epoch.
    /// </summary>
    /// <param name="lastGood">The state at the epoch's start; null when the run may not roll back.</param>
    /// <param name="divergence">The diverged epoch (<see cref="Diverged"/>).</param>
    /// <param name="where">Where in the epoch, for the message: "at training window 12", "at batch 3".</param>
    /// <param name="unit">What the loss is per, for the message: "token", "label".</param>
    /// <exception cref="TrainingDivergedException">The run has rolled back more often than it may; the model is at <paramref name="lastGood"/>.</exception>
    public void RollBack(TrainingSnapshot? lastGood, DivergenceEvent divergence, string where, string unit)
    {
        _events.Add(divergence);
        if (lastGood is null || _events.Count > maxRollbacks)
        {
            lastGood?.Restore();
            throw new TrainingDivergedException(
                $"Training diverged in epoch {divergence.Epoch} {where} (loss {divergence.Loss:G4} per {unit}) after {_events.Count - 1} roll-back(s) " +
                $"(--max-rollbacks {maxRollbacks}); the last good state is {(divergence.Epoch > 1 ? $"the checkpoint of epoch {divergence.Epoch - 1}" : "the starting model")}. Try a lower --lr.",
                [.. _events]);
        }
        lastGood.Restore();
        LearningRateScale = divergence.LearningRateScale;
    }
}
