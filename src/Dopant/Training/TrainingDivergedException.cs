namespace Dopant.Training;

/// <summary>
/// Training kept diverging after <see cref="TrainingOptions.MaxRollbacks"/> roll-backs. The model is left as it was
/// after the last good epoch (which is also the last checkpoint written).
/// </summary>
public sealed class TrainingDivergedException : Exception
{
    /// <summary>Creates the exception with the divergences seen.</summary>
    public TrainingDivergedException(string message, IReadOnlyList<DivergenceEvent> divergences)
        : base(message)
    {
        Divergences = divergences;
    }

    /// <summary>Every divergence of the run, the last one included.</summary>
    public IReadOnlyList<DivergenceEvent> Divergences { get; }
}
