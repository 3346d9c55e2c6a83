namespace Dopant.Trials;

/// <summary>What a running trial may do with its storage: checkpoint, resume, and notice that it was taken away.</summary>
public sealed class TrialContext
{
    private readonly ITrialStorage _storage;

    internal TrialContext(ITrialStorage storage, Trial trial, string worker, CancellationToken lost)
    {
        (_storage, Trial, Worker, Lost) = (storage, trial, worker, lost);
    }

    /// <summary>The trial as claimed (its <see cref="Trial.Attempts"/> counts this claim).</summary>
    public Trial Trial { get; }

    /// <summary>The worker running it.</summary>
    public string Worker { get; }

    /// <summary>Cancelled when the trial is no longer this worker's (its heartbeat went stale), or the worker stops.</summary>
    public CancellationToken Lost { get; }

    /// <summary>Stores a checkpoint the trial resumes from if it is claimed again.</summary>
    /// <exception cref="TrialLostException">The trial is no longer this worker's.</exception>
    public void SaveCheckpoint(ReadOnlySpan<byte> checkpoint) => _storage.SaveCheckpoint(Trial.Id, Worker, checkpoint);

    /// <summary>The trial's last checkpoint (from an earlier attempt), or null.</summary>
    public byte[]? LoadCheckpoint() => _storage.LoadCheckpoint(Trial.Id);
}
