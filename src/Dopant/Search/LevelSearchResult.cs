namespace Dopant.Search;

/// <summary>Where a <see cref="LevelSearch"/> stands: its choice, its trials, and the posteriors behind them.</summary>
/// <param name="Chosen">
/// The trial to use: among the trials measured feasible, the one with the best objective
/// (<see cref="LevelSearchGoal.MaximizeObjective"/>) or the most aggressive one
/// (<see cref="LevelSearchGoal.MostAggressiveFeasible"/>); ties go to the more aggressive level. Null when no trial
/// was feasible. Never a level that was not measured.
/// </param>
/// <param name="Trials">Every trial, in order.</param>
/// <param name="FeasibleLimit">
/// The most aggressive level of the feasible range as estimated from all trials (x*; see <see cref="LevelSearch"/>),
/// or null when no level is believed feasible.
/// </param>
/// <param name="ConstraintPosterior">
/// The Gaussian process of the constraint over all trials, diverged ones at an imputed value well above the threshold;
/// null if no trial had a finite constraint value.
/// </param>
/// <param name="ObjectivePosterior">The Gaussian process of the objective over all trials with a finite objective; null if none.</param>
/// <param name="Threshold">The constraint's threshold.</param>
/// <param name="IsFinished">Whether the search has nothing more to propose.</param>
public sealed record LevelSearchResult(SearchTrial? Chosen, IReadOnlyList<SearchTrial> Trials, double? FeasibleLimit,
    GaussianProcess? ConstraintPosterior, GaussianProcess? ObjectivePosterior, double Threshold, bool IsFinished)
{
    /// <summary>The chosen level, or null when no trial was feasible.</summary>
    public double? ChosenLevel => Chosen?.Level;
}
