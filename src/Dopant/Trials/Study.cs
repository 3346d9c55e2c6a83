namespace Dopant.Trials;

/// <summary>A named set of trials in a <see cref="ITrialStorage"/>; studies do not see each other's trials.</summary>
/// <param name="Id">The storage's identifier of the study.</param>
/// <param name="Name">The name users give it (unique in the storage).</param>
/// <param name="Settings">The study's settings as JSON, fixed when it was created.</param>
/// <param name="Closed">Whether the study takes no more trials: once its queued trials are done, its workers exit.</param>
public sealed record Study(long Id, string Name, string Settings, bool Closed);
