namespace Dopant.Trials;

/// <summary>Where a trial is in its life: waiting → running → complete, or failed once its retries are spent.</summary>
public enum TrialState
{
    /// <summary>Queued, not claimed (or re-queued after a failure or a lost worker).</summary>
    Waiting,

    /// <summary>Claimed by a worker that keeps its heartbeat fresh.</summary>
    Running,

    /// <summary>Finished with a recorded result.</summary>
    Complete,

    /// <summary>Failed more often than its retries allow; its last error is kept.</summary>
    Failed,
}

/// <summary>Names of <see cref="TrialState"/> as stored.</summary>
public static class TrialStates
{
    private static readonly string[] Names = ["waiting", "running", "complete", "failed"];

    /// <summary>The state's stored name, e.g. <c>running</c>.</summary>
    public static string Name(this TrialState state) => Names[(int)state];

    /// <summary>Parses a stored name.</summary>
    /// <exception cref="InvalidDataException">Not a state's name.</exception>
    public static TrialState Parse(string name)
    {
        int index = Array.IndexOf(Names, name);
        return index >= 0 ? (TrialState)index : throw new InvalidDataException($"Unknown trial state '{name}'; expected one of: {string.Join(", ", Names)}.");
    }
}
