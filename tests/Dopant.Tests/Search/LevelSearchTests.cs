using Dopant.Search;
using Xunit.Abstractions;

namespace Dopant.Tests.Search;

/// <summary>The two-stage search on synthetic curves whose answer is known.</summary>
public class LevelSearchTests(ITestOutputHelper output)
{
    private const double Tolerance = 0.05;

    [Theory]
    [MemberData(nameof(SyntheticCurve.Names), MemberType = typeof(SyntheticCurve))]
    public void Stage_one_finds_the_most_aggressive_feasible_level(string name)
    {
        SyntheticCurve curve = SyntheticCurve.Named(name);
        LevelSearchResult result = new LevelSearch(curve.Options(LevelSearchGoal.MostAggressiveFeasible))
            .Run(level => new LevelMeasurement(curve.Constraint(level)));
        Log(curve, result);

        Assert.InRange(result.Trials.Count, 1, 10);
        Assert.All(result.Trials, t => Assert.Equal(SearchStage.LevelSet, t.Stage));
        SearchTrial chosen = Assert.IsType<SearchTrial>(result.Chosen);
        Assert.True(chosen.Feasible);
        Assert.True(curve.Constraint(chosen.Level) <= curve.Threshold);
        Assert.InRange(curve.Aggression(chosen.Level), curve.Aggression(curve.Crossing) - Tolerance, curve.Aggression(curve.Crossing));
        Assert.NotNull(result.FeasibleLimit);
        Assert.InRange(curve.Aggression(result.FeasibleLimit!.Value), curve.Aggression(chosen.Level), curve.Aggression(curve.Crossing) + Tolerance);
        Assert.True(result.IsFinished);
    }

    [Theory]
    [MemberData(nameof(SyntheticCurve.Names), MemberType = typeof(SyntheticCurve))]
    public void With_an_objective_that_grows_with_the_level_the_choice_sits_at_the_crossing(string name)
    {
        SyntheticCurve curve = SyntheticCurve.Named(name);
        LevelSearchResult result = new LevelSearch(curve.Options(LevelSearchGoal.MaximizeObjective))
            .Run(level => new LevelMeasurement(curve.Constraint(level), 1 + 3 * curve.Aggression(level)));
        Log(curve, result);

        Assert.InRange(result.Trials.Count, 1, 10);
        Assert.InRange(result.Trials.Count(t => t.Stage == SearchStage.LevelSet), 1, 7);
        SearchTrial chosen = Assert.IsType<SearchTrial>(result.Chosen);
        Assert.True(curve.Constraint(chosen.Level) <= curve.Threshold);
        Assert.InRange(curve.Aggression(chosen.Level), curve.Aggression(curve.Crossing) - Tolerance, curve.Aggression(curve.Crossing));
    }

    [Theory]
    [InlineData("linear", 0.25)]
    [InlineData("sigmoid", 0.2)]
    [InlineData("density", 0.15)]
    public void With_an_objective_that_peaks_inside_the_feasible_range_the_choice_is_near_the_peak(string name, double peak)
    {
        // A latency speed-up that rises with compression, then falls as the compressed form gets slower to run.
        SyntheticCurve curve = SyntheticCurve.Named(name);
        double SpeedUp(double level) => 1 + 3 * Math.Exp(-Math.Pow((curve.Aggression(level) - peak) / 0.2, 2));
        LevelSearchResult result = new LevelSearch(curve.Options(LevelSearchGoal.MaximizeObjective))
            .Run(level => new LevelMeasurement(curve.Constraint(level), SpeedUp(level)));
        Log(curve, result);

        Assert.InRange(result.Trials.Count, 1, 10);
        Assert.Contains(result.Trials, t => t.Stage == SearchStage.Objective);
        SearchTrial chosen = Assert.IsType<SearchTrial>(result.Chosen);
        Assert.True(chosen.Feasible);
        Assert.InRange(curve.Aggression(chosen.Level), peak - 0.1, peak + 0.1);
        Assert.True(chosen.ObjectiveValue >= 0.95 * SpeedUp(curve.Level(peak)), $"speed-up {chosen.ObjectiveValue} at the choice");
        Assert.Equal(result.Trials.Where(t => t.Feasible).Max(t => t.ObjectiveValue), chosen.ObjectiveValue);
    }

    [Fact]
    public void A_feasible_most_aggressive_end_ends_stage_one_at_once()
    {
        SyntheticCurve curve = SyntheticCurve.Named("linear");
        var options = curve.Options(LevelSearchGoal.MostAggressiveFeasible) with { Threshold = 1000 };
        LevelSearchResult result = new LevelSearch(options).Run(level => new LevelMeasurement(curve.Constraint(level)));
        Assert.Equal(50, Assert.Single(result.Trials).Level);
        Assert.Equal(50, result.ChosenLevel);
        Assert.Equal(50, result.FeasibleLimit);
    }

    [Fact]
    public void When_even_the_least_aggressive_end_is_infeasible_nothing_is_chosen()
    {
        SyntheticCurve curve = SyntheticCurve.Named("density");
        var options = curve.Options(LevelSearchGoal.MaximizeObjective) with { Threshold = 90 };
        LevelSearchResult result = new LevelSearch(options).Run(level => new LevelMeasurement(curve.Constraint(level), level));
        Assert.Equal([0.05, 1.0], result.Trials.Select(t => t.Level));
        Assert.Null(result.Chosen);
        Assert.Null(result.FeasibleLimit);
        Assert.True(result.IsFinished);
    }

    [Fact]
    public void Diverged_runs_count_as_infeasible()
    {
        SyntheticCurve curve = SyntheticCurve.Named("linear");
        double Perplexity(double level) => level > 35 ? double.NaN : curve.Constraint(level);
        LevelSearchResult result = new LevelSearch(curve.Options(LevelSearchGoal.MostAggressiveFeasible))
            .Run(level => new LevelMeasurement(Perplexity(level)));
        Log(curve, result);
        Assert.False(result.Trials[0].Feasible);
        Assert.True(double.IsNaN(result.Trials[0].ConstraintValue));
        Assert.InRange(result.ChosenLevel!.Value, curve.Crossing - Tolerance * curve.Domain.Width, curve.Crossing);
    }

    [Fact]
    public void The_budget_and_the_stage_split_are_respected()
    {
        // A constraint rippled by ±8 keeps stage 1 from locating the level set within its 4 trials.
        SyntheticCurve curve = SyntheticCurve.Named("linear");
        var options = curve.Options(LevelSearchGoal.MaximizeObjective) with { Budget = 6, LevelSetBudget = 4 };
        int calls = 0;
        LevelSearchResult result = new LevelSearch(options).Run(level =>
        {
            calls++;
            return new LevelMeasurement(curve.Constraint(level) + 8 * Math.Sin(level), Math.Cos(level / 3));
        });
        Log(curve, result);
        Assert.Equal(result.Trials.Count, calls);
        Assert.Equal(6, calls);
        Assert.Equal(4, result.Trials.Count(t => t.Stage == SearchStage.LevelSet));
        Assert.All(result.Trials.Skip(4), t => Assert.Equal(SearchStage.Objective, t.Stage));
        Assert.Equal(Enumerable.Range(0, calls), result.Trials.Select(t => t.Index));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(6)]
    [InlineData(8)]
    public void Resuming_from_stored_trials_continues_exactly_as_an_uninterrupted_run(int finished)
    {
        SyntheticCurve curve = SyntheticCurve.Named("rippled");
        LevelSearchOptions options = curve.Options(LevelSearchGoal.MaximizeObjective);
        LevelMeasurement Evaluate(double level) => new(curve.Constraint(level), 1 + 3 * Math.Exp(-Math.Pow((curve.Aggression(level) - 0.3) / 0.2, 2)));
        IReadOnlyList<SearchTrial> uninterrupted = new LevelSearch(options).Run(Evaluate).Trials;
        Assert.True(uninterrupted.Count > finished, $"only {uninterrupted.Count} trials");

        string directory = Directory.CreateTempSubdirectory("dopant-search-").FullName;
        try
        {
            var store = new SearchTrialStore(Path.Combine(directory, "trials.jsonl"));
            foreach (SearchTrial trial in uninterrupted.Take(finished)) store.Append(trial);
            var resumed = new LevelSearch(options, store.Load());
            var evaluated = new List<double>();
            LevelSearchResult result = resumed.Run(level =>
            {
                evaluated.Add(level);
                return Evaluate(level);
            }, store.Append);
            Assert.Equal(uninterrupted, result.Trials);
            Assert.Equal(uninterrupted.Skip(finished).Select(t => t.Level), evaluated);
            Assert.Equal(uninterrupted, store.Load());
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void Initial_levels_are_tried_first_in_order()
    {
        SyntheticCurve curve = SyntheticCurve.Named("sigmoid");
        var options = curve.Options(LevelSearchGoal.MostAggressiveFeasible) with { InitialLevels = [10, 40, 25] };
        LevelSearchResult result = new LevelSearch(options).Run(level => new LevelMeasurement(curve.Constraint(level)));
        Log(curve, result);
        Assert.Equal([10.0, 40, 25], result.Trials.Take(3).Select(t => t.Level));
        Assert.InRange(result.ChosenLevel!.Value, curve.Crossing - Tolerance * curve.Domain.Width, curve.Crossing);
    }

    [Fact]
    public void Only_the_pending_proposal_can_be_recorded()
    {
        SyntheticCurve curve = SyntheticCurve.Named("linear");
        var search = new LevelSearch(curve.Options(LevelSearchGoal.MaximizeObjective));
        LevelProposal proposal = search.Next()!.Value;
        Assert.Equal(new LevelProposal(SearchStage.LevelSet, 50), proposal);
        Assert.Throws<ArgumentException>(() => search.Record(proposal with { Level = 30 }, new LevelMeasurement(120, 1)));
        Assert.Throws<ArgumentException>(() => search.Record(proposal, new LevelMeasurement(120)));
        SearchTrial trial = search.Record(proposal, new LevelMeasurement(124, 2.5));
        Assert.Equal(new SearchTrial(0, SearchStage.LevelSet, 50, 124, 2.5, false), trial);
        Assert.Equal(new LevelProposal(SearchStage.LevelSet, 2), search.Next());
    }

    [Fact]
    public void Trials_from_another_search_are_refused()
    {
        SyntheticCurve curve = SyntheticCurve.Named("linear");
        LevelSearchOptions options = curve.Options(LevelSearchGoal.MaximizeObjective);
        var first = new SearchTrial(0, SearchStage.LevelSet, 50, 124, 2.5, false);
        Assert.Single(new LevelSearch(options, [first]).Trials);
        // Feasible under a threshold of 130, not 110.
        Assert.Throws<ArgumentException>(() => new LevelSearch(options, [first with { Feasible = true }]));
        Assert.Throws<ArgumentException>(() => new LevelSearch(options, [first with { Index = 1 }]));
        Assert.Throws<ArgumentException>(() => new LevelSearch(options, [first with { Level = 60 }]));
        Assert.Throws<ArgumentException>(() => new LevelSearch(options, [first with { ObjectiveValue = null }]));
        Assert.Throws<ArgumentException>(() => new LevelSearch(options,
            [first with { Stage = SearchStage.Objective }, new SearchTrial(1, SearchStage.LevelSet, 2, 100, 1, true)]));
    }

    private void Log(SyntheticCurve curve, LevelSearchResult result)
    {
        output.WriteLine($"{curve.Name}: x* = {curve.Crossing:G6}, chosen {result.ChosenLevel:G6}, limit {result.FeasibleLimit:G6}");
        foreach (SearchTrial t in result.Trials)
            output.WriteLine($"  {t.Index} {t.Stage} level {t.Level:G6} constraint {t.ConstraintValue:G6} objective {t.ObjectiveValue:G4} {(t.Feasible ? "feasible" : "infeasible")}");
    }
}
