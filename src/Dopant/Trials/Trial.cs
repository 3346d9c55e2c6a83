namespace Dopant.Trials;

/// <summary>One trial of a <see cref="Study"/> as stored.</summary>
/// <param name="Id">The storage's identifier of the trial.</param>
/// <param name="Key">The trial's key, unique in its study: queuing the same key twice queues it once.</param>
/// <param name="Payload">What to run, as JSON.</param>
/// <param name="State">Where it is.</param>
/// <param name="Attempts">How often it was claimed.</param>
/// <param name="MaxRetries">How often it may be claimed again after a failure or a lost worker.</param>
/// <param name="Worker">The worker that claimed it last, or null.</param>
/// <param name="Result">Its result as JSON once <see cref="TrialState.Complete"/>, else null.</param>
/// <param name="Error">The last failure's message, or null.</param>
public sealed record Trial(long Id, string Key, string Payload, TrialState State, int Attempts, int MaxRetries, string? Worker,
    string? Result, string? Error);
