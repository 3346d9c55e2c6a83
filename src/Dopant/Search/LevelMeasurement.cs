namespace Dopant.Search;

/// <summary>What one trial of a <see cref="LevelSearch"/> measured at a level.</summary>
/// <param name="ConstraintValue">
/// The value the constraint bounds (e.g. validation perplexity): feasible when at most the threshold. A run that
/// diverged may report NaN or ±∞: a value that is not finite is infeasible, and enters the constraint's Gaussian
/// process at an imputed value well above the threshold.
/// </param>
/// <param name="ObjectiveValue">
/// The value to maximize (e.g. measured speed-up); required when the goal is
/// <see cref="LevelSearchGoal.MaximizeObjective"/>, optional otherwise.
/// </param>
public readonly record struct LevelMeasurement(double ConstraintValue, double? ObjectiveValue = null);
