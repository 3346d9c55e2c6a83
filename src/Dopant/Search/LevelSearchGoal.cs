namespace Dopant.Search;

/// <summary>What a <see cref="LevelSearch"/> optimizes among the levels that meet the constraint.</summary>
public enum LevelSearchGoal
{
    /// <summary>
    /// Maximize the measured objective (e.g. a speed-up that may fall again at high levels): stage 2 searches the
    /// feasible range with GP-UCB, and the choice is the feasible trial with the best objective.
    /// </summary>
    MaximizeObjective,

    /// <summary>
    /// The objective grows with aggressiveness (e.g. the parameter count's reduction), so the best level is the most
    /// aggressive feasible one: the whole budget goes to stage 1 and there is no stage 2.
    /// </summary>
    MostAggressiveFeasible,
}
