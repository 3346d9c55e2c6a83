namespace Dopant.Trials;

/// <summary>A trial a worker proposes for its study (see <see cref="TrialWorker"/>): its key, payload and retries.</summary>
public sealed record TrialProposal(string Key, string Payload, int MaxRetries);
