using Dopant.Search;
using Dopant.Tests.Data;
using Dopant.Trials;

namespace Dopant.Tests.Search;

/// <summary>The level search run by workers through a trial storage, against the sequential search on the same curves.</summary>
public sealed class DistributedLevelSearchTests : IDisposable
{
    private readonly TemporaryFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private static readonly TrialWorkerOptions Fast = new()
    {
        HeartbeatInterval = TimeSpan.FromMilliseconds(200), Grace = TimeSpan.FromSeconds(5), PollInterval = TimeSpan.FromMilliseconds(20),
    };

    private LevelSearchResult Distributed(SyntheticCurve curve, LevelSearchOptions options, int workers)
    {
        string folder = Path.Combine(_folder.Path, $"{curve.Name}-{workers}");
        using (var setup = new FileTrialStorage(folder)) setup.CreateStudy("search", "{}");
        var runs = new System.Collections.Concurrent.ConcurrentBag<double>();
        Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers }, w =>
        {
            using var storage = new FileTrialStorage(folder);
            new TrialWorker(storage, $"w{w}", Fast).Run("search", context =>
            {
                double level = DistributedLevelSearch.ProposalOf(context.Trial).Level;
                runs.Add(level);
                Thread.Sleep(10 * (w + 1));  // workers of different speeds, so that trials finish out of order
                return DistributedLevelSearch.Result(new LevelMeasurement(curve.Constraint(level)));
            }, trials => DistributedLevelSearch.Propose(options, trials, maxRetries: 1));
        });
        using var check = new FileTrialStorage(folder);
        IReadOnlyList<Trial> all = check.Trials(check.FindStudy("search")!);
        Assert.All(all, t => Assert.Equal(TrialState.Complete, t.State));
        Assert.Equal(all.Count, runs.Count);
        Assert.InRange(all.Count, 1, options.Budget);
        return DistributedLevelSearch.Replay(options, all).Result();
    }

    [Theory]
    [MemberData(nameof(SyntheticCurve.Names), MemberType = typeof(SyntheticCurve))]
    public void One_worker_runs_exactly_the_sequential_search(string name)
    {
        SyntheticCurve curve = SyntheticCurve.Named(name);
        LevelSearchOptions options = curve.Options(LevelSearchGoal.MostAggressiveFeasible);
        LevelSearchResult sequential = new LevelSearch(options).Run(level => new LevelMeasurement(curve.Constraint(level)));
        LevelSearchResult distributed = Distributed(curve, options, workers: 1);
        Assert.Equal(sequential.Trials.Select(t => t.Level), distributed.Trials.Select(t => t.Level));
        Assert.Equal(sequential.ChosenLevel, distributed.ChosenLevel);
    }

    [Theory]
    [MemberData(nameof(SyntheticCurve.Names), MemberType = typeof(SyntheticCurve))]
    public void Three_trials_at_a_time_find_the_feasible_limit_within_a_tenth_of_the_domain_of_the_sequential_answer(string name)
    {
        // Three workers, simulated in a fixed order: three trials in flight, the oldest finishing first.
        SyntheticCurve curve = SyntheticCurve.Named(name);
        LevelSearchOptions options = curve.Options(LevelSearchGoal.MostAggressiveFeasible);
        var trials = new List<Trial>();
        Trial Measured(Trial t) => t with
        {
            State = TrialState.Complete,
            Result = DistributedLevelSearch.Result(new LevelMeasurement(curve.Constraint(DistributedLevelSearch.ProposalOf(t).Level))),
        };
        while (true)
        {
            while (trials.Count(t => t.State == TrialState.Running) < 3 && DistributedLevelSearch.Propose(options, trials, 0) is { } proposal)
                trials.Add(new Trial(trials.Count + 1, proposal.Key, proposal.Payload, TrialState.Running, 1, 0, "w", null, null));
            int oldest = trials.FindIndex(t => t.State == TrialState.Running);
            if (oldest < 0) break;
            trials[oldest] = Measured(trials[oldest]);
        }
        LevelSearchResult sequential = new LevelSearch(options).Run(level => new LevelMeasurement(curve.Constraint(level)));
        LevelSearchResult parallel = DistributedLevelSearch.Replay(options, trials).Result();

        Assert.InRange(trials.Count, 3, options.Budget);
        Assert.Equal(trials.Count, trials.Select(t => DistributedLevelSearch.ProposalOf(t).Level).Distinct().Count());
        SearchTrial chosen = Assert.IsType<SearchTrial>(parallel.Chosen);
        Assert.True(curve.Constraint(chosen.Level) <= curve.Threshold);
        Assert.InRange(curve.Aggression(chosen.Level) - curve.Aggression(sequential.ChosenLevel!.Value), -0.1, 0.1);
    }

    [Fact]
    public void Three_threads_share_one_search_without_running_a_level_twice()
    {
        SyntheticCurve curve = SyntheticCurve.Named("linear");
        LevelSearchOptions options = curve.Options(LevelSearchGoal.MostAggressiveFeasible);
        LevelSearchResult result = Distributed(curve, options, workers: 3);
        Assert.Equal(result.Trials.Count, result.Trials.Select(t => t.Level).Distinct().Count());
        Assert.True(Assert.IsType<SearchTrial>(result.Chosen).Feasible);
    }
}
