using System.Collections.Concurrent;
using System.Text.Json;
using Dopant.Trials;

namespace Dopant.Tests.Trials;

/// <summary>What every <see cref="ITrialStorage"/> must do, run against each implementation.</summary>
public abstract class TrialStorageContract
{
    /// <summary>Opens a fresh, empty storage; each call of the returned function opens it again (a worker's own connection).</summary>
    protected abstract Func<ITrialStorage> NewStorage();

    internal static readonly TrialWorkerOptions Fast = new()
    {
        HeartbeatInterval = TimeSpan.FromMilliseconds(200), Grace = TimeSpan.FromSeconds(1.5), PollInterval = TimeSpan.FromMilliseconds(100),
    };

    // A deterministic objective with one best level among 200.
    internal static double Objective(int level) => Math.Pow(level - 137.25, 2) / 100 + Math.Sin(level);

    internal static string Execute(TrialContext context, ConcurrentDictionary<string, int> runs)
    {
        runs.AddOrUpdate(context.Trial.Key, 1, (_, n) => n + 1);
        int level = JsonDocument.Parse(context.Trial.Payload).RootElement.GetProperty("level").GetInt32();
        return JsonSerializer.Serialize(new { level, value = Objective(level) });
    }

    [Fact]
    public void Four_workers_complete_200_trials_each_exactly_once_and_find_the_sequential_best()
    {
        Func<ITrialStorage> open = NewStorage();
        using (ITrialStorage setup = open())
        {
            Study study = setup.CreateStudy("grid", "{}");
            for (int level = 0; level < 200; level++) setup.Enqueue(study, $"level-{level}", $$"""{"level":{{level}}}""", maxRetries: 1);
            setup.CloseStudy(study);
        }
        var runs = new ConcurrentDictionary<string, int>();
        int[] completed = new int[4];
        Parallel.For(0, 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, w =>
        {
            using ITrialStorage storage = open();
            completed[w] = new TrialWorker(storage, $"worker-{w}", Fast).Run("grid", context => Execute(context, runs));
        });

        using ITrialStorage check = open();
        IReadOnlyList<Trial> trials = check.Trials(check.FindStudy("grid")!);
        Assert.Equal(200, trials.Count);
        Assert.All(trials, t => Assert.Equal(TrialState.Complete, t.State));
        Assert.All(trials, t => Assert.Equal(1, t.Attempts));
        Assert.Equal(200, runs.Count);
        Assert.All(runs.Values, n => Assert.Equal(1, n));
        Assert.Equal(200, completed.Sum());
        Assert.True(completed.Count(n => n > 0) >= 2, $"the trials went to one worker: {string.Join(", ", completed)}");
        int best = trials.Select(t => JsonDocument.Parse(t.Result!).RootElement).MinBy(r => r.GetProperty("value").GetDouble()).GetProperty("level").GetInt32();
        Assert.Equal(Enumerable.Range(0, 200).MinBy(Objective), best);
    }

    [Fact]
    public void A_trial_whose_worker_stops_is_claimed_again_after_the_grace_and_resumes_from_its_checkpoint()
    {
        using ITrialStorage storage = NewStorage()();
        Study study = storage.CreateStudy("resume", "{}");
        storage.Enqueue(study, "count", "{}", maxRetries: 2);
        storage.CloseStudy(study);

        // The first worker counts to 3, checkpointing each step, then dies: no heartbeat, no result.
        Trial first = storage.Claim(study, "dead", Fast.Grace)!;
        for (int step = 1; step <= 3; step++) storage.SaveCheckpoint(first.Id, "dead", BitConverter.GetBytes(step));
        Assert.Null(storage.Claim(study, "early", Fast.Grace));

        Thread.Sleep(Fast.Grace + TimeSpan.FromSeconds(0.5));
        int resumedFrom = -1;
        int done = new TrialWorker(storage, "alive", Fast).Run("resume", context =>
        {
            byte[]? checkpoint = context.LoadCheckpoint();
            resumedFrom = checkpoint is null ? 0 : BitConverter.ToInt32(checkpoint);
            int count = resumedFrom;
            while (count < 10) context.SaveCheckpoint(BitConverter.GetBytes(++count));
            return $$"""{"count":{{count}}}""";
        });

        Assert.Equal(1, done);
        Assert.Equal(3, resumedFrom);
        Trial trial = Assert.Single(storage.Trials(study));
        Assert.Equal((TrialState.Complete, 2, "alive", """{"count":10}"""), (trial.State, trial.Attempts, trial.Worker, trial.Result));
        // The dead worker, coming back, can neither beat nor record a second result.
        Assert.Throws<TrialLostException>(() => storage.Heartbeat(first.Id, "dead"));
        Assert.False(storage.Complete(first.Id, "dead", """{"count":3}"""));
        Assert.Equal("""{"count":10}""", Assert.Single(storage.Trials(study)).Result);
    }

    [Fact]
    public void A_trial_that_keeps_failing_is_retried_then_failed_with_its_error()
    {
        using ITrialStorage storage = NewStorage()();
        Study study = storage.CreateStudy("failing", "{}");
        storage.Enqueue(study, "bad", "{}", maxRetries: 2);
        storage.Enqueue(study, "bad", "{}", maxRetries: 2);  // the same key queues once
        storage.CloseStudy(study);
        int calls = 0;
        int done = new TrialWorker(storage, "w", Fast).Run("failing", _ => throw new InvalidDataException($"attempt {++calls} broke"));
        Assert.Equal(0, done);
        Assert.Equal(3, calls);
        Trial trial = Assert.Single(storage.Trials(study));
        Assert.Equal((TrialState.Failed, 3, "attempt 3 broke"), (trial.State, trial.Attempts, trial.Error));
    }

    [Fact]
    public void Studies_do_not_see_each_others_trials_and_a_worker_of_a_finished_study_exits()
    {
        using ITrialStorage storage = NewStorage()();
        Study a = storage.CreateStudy("a", """{"x":1}"""), b = storage.CreateStudy("b", "{}");
        Assert.Equal(a, storage.CreateStudy("a", """{"x":1}"""));
        Assert.Contains("other settings", Assert.Throws<ArgumentException>(() => storage.CreateStudy("a", """{"x":2}""")).Message);
        storage.Enqueue(a, "one", "{}", 0);
        storage.Enqueue(b, "two", "{}", 0);
        storage.CloseStudy(a);
        var seen = new List<string>();
        Assert.Equal(1, new TrialWorker(storage, "w", Fast).Run("a", c => { seen.Add(c.Trial.Key); return "{}"; }));
        Assert.Equal(["one"], seen);
        Assert.Equal(TrialState.Waiting, Assert.Single(storage.Trials(b)).State);
        Assert.Equal(0, new TrialWorker(storage, "w2", Fast).Run("a", _ => throw new InvalidOperationException("nothing is left to run")));
        Assert.Contains("No study 'c'", Assert.Throws<ArgumentException>(() => new TrialWorker(storage, "w", Fast).Run("c", _ => "{}")).Message);
    }

}
