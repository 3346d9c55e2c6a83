namespace Dopant.Trials;

/// <summary>
/// Where the trials of studies live, shared by any number of workers: trials are queued by key, claimed one at a time
/// by workers that keep a heartbeat, checkpointed, and recorded once. A trial whose heartbeat is older than the grace
/// period is taken from its worker and re-queued (at most <see cref="Trial.MaxRetries"/> times), to resume from its
/// last checkpoint. Every method is safe to call from several processes at once.
/// </summary>
public interface ITrialStorage : IDisposable
{
    /// <summary>Creates the study, or returns it when one of that name exists with the same settings.</summary>
    /// <exception cref="ArgumentException">A study of that name exists with other settings.</exception>
    Study CreateStudy(string name, string settings);

    /// <summary>The study of that name, or null.</summary>
    Study? FindStudy(string name);

    /// <summary>Marks the study as taking no more trials; its workers exit once its queue is done.</summary>
    void CloseStudy(Study study);

    /// <summary>Queues a trial; a key already in the study is not queued again. Returns the trial's id.</summary>
    long Enqueue(Study study, string key, string payload, int maxRetries);

    /// <summary>
    /// Claims the oldest waiting trial of the study for <paramref name="worker"/> (first re-queuing trials whose heartbeat
    /// is older than <paramref name="grace"/>), or returns null when none waits.
    /// </summary>
    Trial? Claim(Study study, string worker, TimeSpan grace);

    /// <summary>Refreshes the trial's heartbeat from the storage's clock.</summary>
    /// <exception cref="TrialLostException">The trial is no longer running under <paramref name="worker"/>.</exception>
    void Heartbeat(long trial, string worker);

    /// <summary>Stores the trial's checkpoint, replacing the one before.</summary>
    /// <exception cref="TrialLostException">The trial is no longer running under <paramref name="worker"/>.</exception>
    void SaveCheckpoint(long trial, string worker, ReadOnlySpan<byte> checkpoint);

    /// <summary>The trial's last checkpoint (kept after it completes: the finished model), or null when it has none.</summary>
    byte[]? LoadCheckpoint(long trial);

    /// <summary>Records the trial's result once: returns false, recording nothing, when the trial is not running under <paramref name="worker"/>.</summary>
    bool Complete(long trial, string worker, string result);

    /// <summary>Records a failure: the trial is re-queued while it has retries left, else failed.</summary>
    void Fail(long trial, string worker, string error);

    /// <summary>Holds the study's lock until disposed: workers that propose new trials (a search) take turns under it.</summary>
    IDisposable LockStudy(Study study);

    /// <summary>How many of the study's trials are waiting or running.</summary>
    int Unfinished(Study study);

    /// <summary>Every trial of the study, in the order queued.</summary>
    IReadOnlyList<Trial> Trials(Study study);
}
