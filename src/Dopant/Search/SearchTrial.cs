namespace Dopant.Search;

/// <summary>One finished trial of a <see cref="LevelSearch"/>: a level, and what running the compression at it measured.</summary>
/// <param name="Index">The trial's position in the search, from 0.</param>
/// <param name="Stage">The stage that proposed the level.</param>
/// <param name="Level">The level that was tried.</param>
/// <param name="ConstraintValue">The measured constraint value (e.g. the validation perplexity); not finite for a run that diverged.</param>
/// <param name="ObjectiveValue">The measured objective (e.g. the speed-up), or null when the search does not use one.</param>
/// <param name="Feasible">Whether <paramref name="ConstraintValue"/> is finite and at most the search's threshold.</param>
public sealed record SearchTrial(int Index, SearchStage Stage, double Level, double ConstraintValue, double? ObjectiveValue, bool Feasible);
