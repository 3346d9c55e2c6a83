namespace Dopant.Search;

/// <summary>
/// The two-stage Bayesian search of Condensa (Joseph et al. 2020, "A programmable approach to neural network
/// compression", §4) for the level of a compression scheme: stage 1 finds the most aggressive level whose constraint
/// value (e.g. validation perplexity) stays at most a threshold, stage 2 maximizes an objective (e.g. measured
/// speed-up) among the levels below it. Each trial is one expensive compression run, so the budget is about ten.
/// </summary>
/// <remarks>
/// <para>
/// Levels are handled as their aggressiveness a ∈ [0, 1] (the domain scaled so that 1 compresses most), over which
/// the constraint value is assumed to grow, roughly. The acquisitions choose from <see cref="LevelSearchOptions.CandidateCount"/>
/// evenly spaced levels, skipping those within <see cref="LevelSearchOptions.MinimumSpacing"/> of a trial. Everything
/// is a deterministic function of the trials so far, so a search rebuilt from stored trials proposes what the
/// uninterrupted search would have.
/// </para>
/// <para>
/// Stage 1 tries the <see cref="LevelSearchOptions.InitialLevels"/> (by default the most aggressive end, then the
/// least), then the ILS-UCB acquisition argmax_x √β·σ(x) − |μ(x) − h| on a Gaussian process of the constraint, h being
/// the threshold: the level whose confidence interval [μ − √β·σ, μ + √β·σ] straddles h the most, which is
/// Gotovos et al.'s ambiguity min(u − h, h − l) ("Active learning for level set estimation", IJCAI 2013, §3). It
/// ends when its budget is spent, when the most aggressive end is measured feasible (every level is), when the least
/// aggressive end is measured infeasible (none is), or when the level set is located: the most aggressive feasible
/// trial and the least aggressive infeasible trial beyond it lie within <see cref="LevelSearchOptions.Tolerance"/>,
/// and the confidence bounds classify every level farther than the tolerance from that bracket as above or below h.
/// </para>
/// <para>
/// The feasible range is then [least aggressive end, x*], x* being the conservative edge: from the most aggressive
/// feasible trial (or the least aggressive end if none), the contiguous run of candidates whose upper bound
/// μ + √β·σ is at most h, stopped short of any trial measured infeasible, and never below the most aggressive
/// feasible trial. An upper bound rather than the mean keeps a noisy constraint from widening the range; the trials
/// themselves always count, since the final choice is a measured trial anyway.
/// </para>
/// <para>
/// Stage 2 (goal <see cref="LevelSearchGoal.MaximizeObjective"/> only) proposes, within the feasible range recomputed
/// from all trials, the candidate maximizing the GP-UCB acquisition μ(x) + √β·σ(x) on a Gaussian process of the
/// objective (Srinivas et al., "Gaussian process optimization in the bandit setting", ICML 2010), and ends when the
/// budget is spent or no candidate's upper bound beats the best objective already measured at a feasible trial.
/// </para>
/// </remarks>
public sealed class LevelSearch
{
    // An "end" of the domain is the end itself, up to rounding.
    private const double EndTolerance = 1e-9;

    private readonly List<SearchTrial> _trials;
    private readonly double[] _candidates;
    private LevelProposal? _next;
    private bool _nextKnown;

    /// <summary>A search with the given options, continuing after <paramref name="finishedTrials"/> if any.</summary>
    /// <param name="options">The problem and the settings.</param>
    /// <param name="finishedTrials">Trials of an interrupted search with the same options, in order (e.g. from a <see cref="SearchTrialStore"/>).</param>
    /// <exception cref="ArgumentException">The options are invalid, or the trials do not belong to a search with these options.</exception>
    public LevelSearch(LevelSearchOptions options, IEnumerable<SearchTrial>? finishedTrials = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        _candidates = [.. Enumerable.Range(0, options.CandidateCount).Select(j => (double)j / (options.CandidateCount - 1))];
        _trials = [];
        foreach (SearchTrial trial in finishedTrials ?? [])
        {
            CheckResumed(trial, nameof(finishedTrials));
            _trials.Add(trial);
        }
    }

    /// <summary>The problem and the settings.</summary>
    public LevelSearchOptions Options { get; }

    /// <summary>The trials so far, in order.</summary>
    public IReadOnlyList<SearchTrial> Trials => _trials.AsReadOnly();

    /// <summary>Whether the search has nothing more to propose.</summary>
    public bool IsFinished => Next() is null;

    /// <summary>The level to measure next, or null when the search is finished.</summary>
    public LevelProposal? Next()
    {
        if (!_nextKnown)
        {
            _next = Propose();
            _nextKnown = true;
        }
        return _next;
    }

    /// <summary>
    /// The level to measure next while other levels are still being measured (by other workers), or null when the search
    /// has nothing more to propose until they finish. Constant liar: each pending level enters as if it had measured
    /// the mean of the finite measurements so far (the threshold, and no objective gain, before there are any), so that
    /// a free worker does not propose what a busy one is running. With nothing pending this is <see cref="Next()"/>.
    /// </summary>
    /// <param name="pending">The proposals being measured, which count against the budget.</param>
    public LevelProposal? Next(IReadOnlyList<LevelProposal> pending)
    {
        ArgumentNullException.ThrowIfNull(pending);
        if (pending.Count == 0) return Next();
        double[] finite = [.. _trials.Select(t => t.ConstraintValue).Where(double.IsFinite)];
        double constraintLie = finite.Length > 0 ? finite.Average() : Options.Threshold;
        double[] objectives = [.. _trials.Select(t => t.ObjectiveValue).OfType<double>().Where(double.IsFinite)];
        double? objectiveLie = objectives.Length > 0 ? objectives.Average() : Options.Goal == LevelSearchGoal.MaximizeObjective ? 0 : null;
        IEnumerable<SearchTrial> lies = pending.Select(p => new SearchTrial(0, p.Stage, p.Level, constraintLie, objectiveLie, IsFeasible(constraintLie)));
        // Stage-1 trials first, as a sequential search would have them.
        SearchTrial[] all = [.. _trials.Concat(lies).OrderBy(t => t.Stage == SearchStage.Objective ? 1 : 0).Select((t, i) => t with { Index = i })];
        if (all.Length >= Options.Budget) return null;
        return new LevelSearch(Options, all).Next();
    }

    /// <summary>Records the measurement of the level that <see cref="Next()"/> proposed.</summary>
    /// <param name="proposal">What <see cref="Next()"/> returned.</param>
    /// <param name="measurement">What the trial at that level measured.</param>
    /// <returns>The new trial.</returns>
    /// <exception cref="InvalidOperationException">The search is finished.</exception>
    /// <exception cref="ArgumentException">
    /// <paramref name="proposal"/> is not the pending proposal, or the goal needs an objective and the measurement has none.
    /// </exception>
    public SearchTrial Record(LevelProposal proposal, LevelMeasurement measurement)
    {
        LevelProposal expected = Next() ?? throw new InvalidOperationException("The search is finished; there is no proposal to record.");
        if (proposal != expected)
            throw new ArgumentException($"The search proposed {expected.Level} (stage {expected.Stage}), not {proposal.Level} (stage {proposal.Stage}).", nameof(proposal));
        if (Options.Goal == LevelSearchGoal.MaximizeObjective && measurement.ObjectiveValue is null)
            throw new ArgumentException("The goal is to maximize the objective, so every measurement needs an objective value.", nameof(measurement));
        var trial = new SearchTrial(_trials.Count, proposal.Stage, proposal.Level, measurement.ConstraintValue, measurement.ObjectiveValue,
            IsFeasible(measurement.ConstraintValue));
        _trials.Add(trial);
        _nextKnown = false;
        return trial;
    }

    /// <summary>
    /// Runs the search to its end: measures each proposed level with <paramref name="evaluate"/> and records it,
    /// calling <paramref name="trialFinished"/> after each trial (to store it, say).
    /// </summary>
    /// <param name="evaluate">Runs one trial at a level.</param>
    /// <param name="trialFinished">Called with each new trial, or null.</param>
    /// <param name="cancellationToken">Checked before each trial.</param>
    /// <returns>The final <see cref="Result"/>.</returns>
    public LevelSearchResult Run(Func<double, LevelMeasurement> evaluate, Action<SearchTrial>? trialFinished = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(evaluate);
        while (Next() is { } proposal)
        {
            cancellationToken.ThrowIfCancellationRequested();
            SearchTrial trial = Record(proposal, evaluate(proposal.Level));
            trialFinished?.Invoke(trial);
        }
        return Result();
    }

    /// <summary>The choice, the trials and the posteriors as they stand (see <see cref="LevelSearchResult"/>).</summary>
    public LevelSearchResult Result()
    {
        ConstraintPicture picture = AnalyzeConstraint();
        SearchTrial? chosen = _trials.Where(t => t.Feasible)
            .OrderByDescending(t => Options.Goal == LevelSearchGoal.MaximizeObjective ? FiniteOrLowest(t.ObjectiveValue) : 0)
            .ThenByDescending(t => Aggression(t.Level))
            .ThenBy(t => t.Index)
            .FirstOrDefault();
        return new LevelSearchResult(chosen, [.. _trials], picture.Limit is { } limit ? LevelAt(limit) : null,
            picture.Posterior, FitObjective(), Options.Threshold, IsFinished);
    }

    private bool IsFeasible(double constraintValue) => double.IsFinite(constraintValue) && constraintValue <= Options.Threshold;

    private static double FiniteOrLowest(double? value) => value is { } v && double.IsFinite(v) ? v : double.NegativeInfinity;

    private double Aggression(double level)
    {
        double unit = Options.Domain.ToUnit(level);
        return Options.HigherIsMoreAggressive ? unit : 1 - unit;
    }

    private double LevelAt(double aggression) => Options.Domain.FromUnit(Options.HigherIsMoreAggressive ? aggression : 1 - aggression);

    private int LevelSetBudget => Options.Goal == LevelSearchGoal.MostAggressiveFeasible ? Options.Budget : Options.LevelSetBudget;

    private LevelProposal? Propose()
    {
        if (_trials.Count >= Options.Budget) return null;
        ConstraintPicture picture = AnalyzeConstraint();
        bool inStageTwo = _trials.Any(t => t.Stage == SearchStage.Objective);
        if (!inStageTwo && _trials.Count < LevelSetBudget && !picture.Located)
        {
            IReadOnlyList<double> initial = Options.InitialLevels ?? [LevelAt(1), LevelAt(0)];
            if (_trials.Count < initial.Count) return new LevelProposal(SearchStage.LevelSet, initial[_trials.Count]);
            if (ProposeOnLevelSet(picture) is { } level) return new LevelProposal(SearchStage.LevelSet, level);
        }
        if (Options.Goal == LevelSearchGoal.MostAggressiveFeasible) return null;
        return ProposeOnObjective(picture) is { } best ? new LevelProposal(SearchStage.Objective, best) : null;
    }

    private double? ProposeOnLevelSet(ConstraintPicture picture)
    {
        double h = Options.Threshold, width = Options.LevelSetConfidence;
        int best = -1;
        double bestScore = double.NegativeInfinity;
        for (int j = 0; j < _candidates.Length; j++)
        {
            if (!FarFromTrials(_candidates[j])) continue;
            double score;
            if (picture.Predictions is { } predictions)
                score = width * predictions[j].StandardDeviation - Math.Abs(predictions[j].Mean - h);
            else
                // No finite constraint value yet (every run diverged): fill the largest gap instead.
                score = _trials.Min(t => Math.Abs(Aggression(t.Level) - _candidates[j]));
            if (score > bestScore)
            {
                bestScore = score;
                best = j;
            }
        }
        return best < 0 ? null : LevelAt(_candidates[best]);
    }

    private double? ProposeOnObjective(ConstraintPicture picture)
    {
        if (picture.Limit is not { } limit || FitObjective() is not { } objective) return null;
        double bestMeasured = _trials.Where(t => t.Feasible).Select(t => FiniteOrLowest(t.ObjectiveValue)).DefaultIfEmpty(double.NegativeInfinity).Max();
        double? best = null;
        double bestScore = double.NegativeInfinity;
        foreach (double a in _candidates.Where(a => a < limit).Append(limit))
        {
            if (!FarFromTrials(a)) continue;
            double score = objective.Predict(LevelAt(a)).Upper(Options.ObjectiveExploration);
            if (score > bestScore)
            {
                bestScore = score;
                best = a;
            }
        }
        // When no upper bound beats what a feasible trial already achieved, another trial is not worth its cost.
        return best is { } chosen && bestScore > bestMeasured ? LevelAt(chosen) : null;
    }

    private bool FarFromTrials(double aggression)
    {
        foreach (SearchTrial trial in _trials)
            if (Math.Abs(Aggression(trial.Level) - aggression) < Options.MinimumSpacing - EndTolerance) return false;
        return true;
    }

    private GaussianProcess? FitObjective()
    {
        List<SearchTrial> usable = [.. _trials.Where(t => t.ObjectiveValue is { } v && double.IsFinite(v))];
        return usable.Count == 0 ? null
            : GaussianProcess.Fit(Options.Domain, [.. usable.Select(t => t.Level)], [.. usable.Select(t => t.ObjectiveValue!.Value)], Options.FitOptions);
    }

    private ConstraintPicture AnalyzeConstraint()
    {
        double h = Options.Threshold, width = Options.LevelSetConfidence;
        GaussianProcess? posterior = null;
        double[] finite = [.. _trials.Select(t => t.ConstraintValue).Where(double.IsFinite)];
        if (finite.Length > 0)
        {
            // A diverged run enters as clearly infeasible: as far above the larger of the threshold and the worst value as
            // the best value lies below it. Left out, it would leave the process blind where runs diverge.
            double top = Math.Max(h, finite.Max()), spread = top - Math.Min(h, finite.Min());
            double diverged = top + (spread > 0 ? spread : Math.Max(Math.Abs(top), 1));
            posterior = GaussianProcess.Fit(Options.Domain, [.. _trials.Select(t => t.Level)],
                [.. _trials.Select(t => double.IsFinite(t.ConstraintValue) ? t.ConstraintValue : diverged)], Options.FitOptions);
        }
        GaussianProcessPrediction[]? predictions = posterior is null ? null : [.. _candidates.Select(a => posterior.Predict(LevelAt(a)))];

        double? feasibleEdge = _trials.Where(t => t.Feasible).Select(t => (double?)Aggression(t.Level)).Max();
        double? infeasibleEdge = _trials.Where(t => !t.Feasible).Select(t => Aggression(t.Level))
            .Where(a => feasibleEdge is not { } f || a > f).Select(a => (double?)a).Min();

        bool located;
        if (feasibleEdge is not { } feasible)
            located = infeasibleEdge is { } lowest && lowest <= EndTolerance;
        else if (feasible >= 1 - EndTolerance)
            located = true;
        else
        {
            double upper = infeasibleEdge ?? 1;
            double tolerance = Options.Tolerance + EndTolerance;
            located = upper - feasible <= tolerance
                && predictions is not null
                && Enumerable.Range(0, _candidates.Length).All(j =>
                    (_candidates[j] >= feasible - tolerance && _candidates[j] <= upper + tolerance) || !Straddles(predictions[j]));
        }

        double? limit = feasibleEdge;
        if (predictions is not null)
        {
            double start = feasibleEdge ?? 0, stop = infeasibleEdge ?? double.PositiveInfinity;
            for (int j = 0; j < _candidates.Length; j++)
            {
                if (_candidates[j] < start) continue;
                if (_candidates[j] >= stop || predictions[j].Upper(width) > h) break;
                limit = Math.Max(limit ?? _candidates[j], _candidates[j]);
            }
        }
        return new ConstraintPicture(posterior, predictions, located, limit);

        bool Straddles(GaussianProcessPrediction p) => p.Lower(width) <= h && p.Upper(width) >= h;
    }

    private void CheckResumed(SearchTrial trial, string parameter)
    {
        if (trial is null) throw new ArgumentException($"Trial {_trials.Count} is null.", parameter);
        string where = $"Trial {_trials.Count}";
        if (trial.Index != _trials.Count) throw new ArgumentException($"{where} has index {trial.Index}; trials must be numbered 0, 1, 2, ... in order.", parameter);
        if (_trials.Count >= Options.Budget) throw new ArgumentException($"{where} exceeds the budget of {Options.Budget} trials.", parameter);
        if (!Enum.IsDefined(trial.Stage)) throw new ArgumentException($"{where} has an unknown stage {trial.Stage}.", parameter);
        if (!Options.Domain.Contains(trial.Level)) throw new ArgumentException($"{where} has level {trial.Level}, outside the domain {Options.Domain}.", parameter);
        if (trial.Feasible != IsFeasible(trial.ConstraintValue))
            throw new ArgumentException($"{where} is marked {(trial.Feasible ? "feasible" : "infeasible")} but its constraint value {trial.ConstraintValue} says otherwise for the threshold {Options.Threshold}; was it run with another threshold?", parameter);
        if (trial.Stage == SearchStage.LevelSet && _trials.Any(t => t.Stage == SearchStage.Objective))
            throw new ArgumentException($"{where} is a stage-1 trial after stage 2 began.", parameter);
        if (trial.Stage == SearchStage.Objective && Options.Goal == LevelSearchGoal.MostAggressiveFeasible)
            throw new ArgumentException($"{where} is a stage-2 trial, but the goal {Options.Goal} has no stage 2.", parameter);
        if (Options.Goal == LevelSearchGoal.MaximizeObjective && trial.ObjectiveValue is null)
            throw new ArgumentException($"{where} has no objective value, which the goal {Options.Goal} needs.", parameter);
    }

    /// <summary>What the trials say about the constraint, in aggressiveness.</summary>
    /// <param name="Posterior">The constraint's Gaussian process, or null with no finite constraint value.</param>
    /// <param name="Predictions">Its posterior at each candidate, or null.</param>
    /// <param name="Located">Whether stage 1 has nothing left to find (see <see cref="LevelSearch"/>).</param>
    /// <param name="Limit">x*: the feasible range's most aggressive end, or null if no level is believed feasible.</param>
    private sealed record ConstraintPicture(GaussianProcess? Posterior, GaussianProcessPrediction[]? Predictions, bool Located, double? Limit);
}
