namespace Dopant.Trials;

/// <summary>How a <see cref="TrialWorker"/> keeps its trials alive and waits for work.</summary>
public sealed record TrialWorkerOptions
{
    /// <summary>How often a running trial's heartbeat is refreshed.</summary>
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How old a heartbeat may grow before its trial is taken from its worker and re-queued.</summary>
    public TimeSpan Grace { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long to wait before asking again when no trial waits but some still run elsewhere.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Checks that the heartbeat comes well within the grace period.</summary>
    /// <exception cref="ArgumentException">A time is not positive, or the grace is not above twice the heartbeat interval.</exception>
    public void Validate()
    {
        if (HeartbeatInterval <= TimeSpan.Zero || Grace <= TimeSpan.Zero || PollInterval <= TimeSpan.Zero)
            throw new ArgumentException("The heartbeat interval, the grace period and the poll interval must be positive.");
        if (Grace <= 2 * HeartbeatInterval)
            throw new ArgumentException($"A grace period of {Grace.TotalSeconds:G} s is not above twice the heartbeat interval ({HeartbeatInterval.TotalSeconds:G} s): live trials would be taken from their workers.");
    }
}
