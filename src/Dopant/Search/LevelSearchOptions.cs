namespace Dopant.Search;

/// <summary>
/// The problem and the settings of a <see cref="LevelSearch"/>. Fractions of the domain (tolerance, spacing) are of
/// its width, so the same settings suit a compression factor in [2, 50] and a density in [0.05, 1].
/// </summary>
public sealed record LevelSearchOptions
{
    /// <summary>The levels the search may try.</summary>
    public required SearchDomain Domain { get; init; }

    /// <summary>The largest constraint value that is feasible (e.g. 1.02 × the dense model's validation perplexity).</summary>
    public required double Threshold { get; init; }

    /// <summary>
    /// Whether a higher level compresses more (true, the default: a compression factor, a sparsity) or less (false:
    /// a density, a rank). The constraint value is assumed to grow, roughly, with aggressiveness.
    /// </summary>
    public bool HigherIsMoreAggressive { get; init; } = true;

    /// <summary>What to optimize among feasible levels; <see cref="LevelSearchGoal.MaximizeObjective"/> by default.</summary>
    public LevelSearchGoal Goal { get; init; } = LevelSearchGoal.MaximizeObjective;

    /// <summary>The most trials the whole search runs (10 by default).</summary>
    public int Budget { get; init; } = 10;

    /// <summary>
    /// The most trials stage 1 runs (7 by default); stage 2 gets the rest of <see cref="Budget"/>, more when stage 1
    /// ends early. With <see cref="LevelSearchGoal.MostAggressiveFeasible"/> stage 1 may use the whole budget.
    /// </summary>
    public int LevelSetBudget { get; init; } = 7;

    /// <summary>
    /// The levels stage 1 tries first, in order, before its acquisition takes over. Null (the default) means the most
    /// aggressive end, then the least aggressive end: if the first is feasible every level is, if the second is not
    /// none is, and otherwise the two bracket the crossing.
    /// </summary>
    public IReadOnlyList<double>? InitialLevels { get; init; }

    /// <summary>
    /// Stage 1 ends once the most aggressive feasible trial and the least aggressive infeasible trial beyond it are at
    /// most this fraction of the domain apart and the constraint's confidence bounds classify every level farther
    /// than this from that bracket (0.02 by default).
    /// </summary>
    public double Tolerance { get; init; } = 0.02;

    /// <summary>No trial is proposed closer than this fraction of the domain to an earlier one (0.01 by default).</summary>
    public double MinimumSpacing { get; init; } = 0.01;

    /// <summary>
    /// √β of stage 1: the width, in standard deviations, of the confidence bounds that the ILS-UCB acquisition, the
    /// classification of levels and the feasible range use (3 by default, the constant Gotovos et al. 2013 use in
    /// their experiments).
    /// </summary>
    public double LevelSetConfidence { get; init; } = 3;

    /// <summary>√β of stage 2's GP-UCB acquisition on the objective (2 by default).</summary>
    public double ObjectiveExploration { get; init; } = 2;

    /// <summary>How many evenly spaced levels, ends included, the acquisitions choose from (201 by default).</summary>
    public int CandidateCount { get; init; } = 201;

    /// <summary>The bounds of the Gaussian processes' hyper-parameters.</summary>
    public GaussianProcessFitOptions FitOptions { get; init; } = GaussianProcessFitOptions.Default;

    /// <summary>Throws unless the options describe a search that can run.</summary>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(Domain);
        ArgumentNullException.ThrowIfNull(FitOptions);
        FitOptions.Validate();
        if (!double.IsFinite(Threshold)) throw new ArgumentOutOfRangeException(nameof(Threshold), Threshold, "The threshold must be finite.");
        if (!Enum.IsDefined(Goal)) throw new ArgumentOutOfRangeException(nameof(Goal), Goal, "Unknown goal.");
        ArgumentOutOfRangeException.ThrowIfLessThan(Budget, 1, nameof(Budget));
        ArgumentOutOfRangeException.ThrowIfLessThan(LevelSetBudget, 1, nameof(LevelSetBudget));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(LevelSetBudget, Budget, nameof(LevelSetBudget));
        ArgumentOutOfRangeException.ThrowIfLessThan(CandidateCount, 2, nameof(CandidateCount));
        CheckFraction(Tolerance, nameof(Tolerance));
        CheckFraction(MinimumSpacing, nameof(MinimumSpacing));
        if (!(double.IsFinite(LevelSetConfidence) && LevelSetConfidence > 0))
            throw new ArgumentOutOfRangeException(nameof(LevelSetConfidence), LevelSetConfidence, "Must be finite and positive.");
        if (!(double.IsFinite(ObjectiveExploration) && ObjectiveExploration >= 0))
            throw new ArgumentOutOfRangeException(nameof(ObjectiveExploration), ObjectiveExploration, "Must be finite and not negative.");
        if (InitialLevels is { } initial)
        {
            if (initial.Count > LevelSetBudget)
                throw new ArgumentException($"{initial.Count} initial levels do not fit a stage-1 budget of {LevelSetBudget}.", nameof(InitialLevels));
            foreach (double level in initial)
                if (!Domain.Contains(level))
                    throw new ArgumentOutOfRangeException(nameof(InitialLevels), level, $"An initial level lies outside the domain {Domain}.");
        }

        static void CheckFraction(double value, string name)
        {
            if (!(value >= 0 && value < 1)) throw new ArgumentOutOfRangeException(name, value, "Must be a fraction of the domain in [0, 1).");
        }
    }
}
