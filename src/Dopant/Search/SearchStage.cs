namespace Dopant.Search;

/// <summary>The two stages of a <see cref="LevelSearch"/>.</summary>
public enum SearchStage
{
    /// <summary>Stage 1: locating the most aggressive level that meets the constraint (level-set estimation).</summary>
    LevelSet = 1,

    /// <summary>Stage 2: maximizing the objective within the feasible range that stage 1 found.</summary>
    Objective = 2,
}
