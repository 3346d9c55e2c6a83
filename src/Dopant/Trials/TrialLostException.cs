namespace Dopant.Trials;

/// <summary>
/// A worker's trial is no longer its own: its heartbeat went stale, and the trial was re-queued for another worker
/// (or failed). The worker stops working on it and records nothing.
/// </summary>
public sealed class TrialLostException(string message) : Exception(message);
