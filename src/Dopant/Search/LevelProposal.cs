namespace Dopant.Search;

/// <summary>The level a <see cref="LevelSearch"/> wants measured next, and the stage that chose it.</summary>
/// <param name="Stage">The stage that chose the level.</param>
/// <param name="Level">The level to run the compression at.</param>
public readonly record struct LevelProposal(SearchStage Stage, double Level);
