using System.Collections.Concurrent;
using System.Text.Json;
using Dopant.PostgreSql;
using Dopant.Trials;

namespace Dopant.Tests.Trials;

/// <summary>The trial storage on a real PostgreSQL server: claims, heartbeats, lost workers, retries, studies, bad connections.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresTrialStorageTests(PostgresServer server)
{
    private static readonly TrialWorkerOptions Fast = new()
    {
        HeartbeatInterval = TimeSpan.FromMilliseconds(200), Grace = TimeSpan.FromSeconds(1.5), PollInterval = TimeSpan.FromMilliseconds(100),
    };

    // A deterministic objective with one best level among 200.
    private static double Objective(int level) => Math.Pow(level - 137.25, 2) / 100 + Math.Sin(level);

    private static string Execute(TrialContext context, ConcurrentDictionary<string, int> runs)
    {
        runs.AddOrUpdate(context.Trial.Key, 1, (_, n) => n + 1);
        int level = JsonDocument.Parse(context.Trial.Payload).RootElement.GetProperty("level").GetInt32();
        return JsonSerializer.Serialize(new { level, value = Objective(level) });
    }

    [Fact]
    public void Four_workers_complete_200_trials_each_exactly_once_and_find_the_sequential_best()
    {
        PostgresUrl url = server.NewDatabase();
        using (PostgresTrialStorage setup = PostgresTrialStorage.Open(url))
        {
            Study study = setup.CreateStudy("grid", "{}");
            for (int level = 0; level < 200; level++) setup.Enqueue(study, $"level-{level}", $$"""{"level":{{level}}}""", maxRetries: 1);
            setup.CloseStudy(study);
        }
        var runs = new ConcurrentDictionary<string, int>();
        int[] completed = new int[4];
        Parallel.For(0, 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, w =>
        {
            using PostgresTrialStorage storage = PostgresTrialStorage.Open(url);
            completed[w] = new TrialWorker(storage, $"worker-{w}", Fast).Run("grid", context => Execute(context, runs));
        });

        using PostgresTrialStorage check = PostgresTrialStorage.Open(url);
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
        PostgresUrl url = server.NewDatabase();
        using PostgresTrialStorage storage = PostgresTrialStorage.Open(url);
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
        using PostgresTrialStorage storage = PostgresTrialStorage.Open(server.NewDatabase());
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
        using PostgresTrialStorage storage = PostgresTrialStorage.Open(server.NewDatabase());
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

    [Fact]
    public async Task Workers_ride_out_a_server_restart_and_lose_nothing()
    {
        Assert.True(server.CanRestart, "the test server's folder is unknown; set DOPANT_TEST_POSTGRES_DIR with DOPANT_TEST_POSTGRES");
        PostgresUrl url = server.NewDatabase();
        using (PostgresTrialStorage setup = PostgresTrialStorage.Open(url))
        {
            Study study = setup.CreateStudy("restart", "{}");
            for (int i = 0; i < 40; i++) setup.Enqueue(study, $"t{i}", $$"""{"level":{{i}}}""", maxRetries: 3);
            setup.CloseStudy(study);
        }
        var runs = new ConcurrentDictionary<string, int>();
        Task<int>[] workers = [.. Enumerable.Range(0, 2).Select(w => Task.Run(() =>
        {
            using PostgresTrialStorage storage = PostgresTrialStorage.Open(url, TimeSpan.FromSeconds(60));
            return new TrialWorker(storage, $"w{w}", Fast with { Grace = TimeSpan.FromSeconds(20), HeartbeatInterval = TimeSpan.FromSeconds(1) })
                .Run("restart", context => { Thread.Sleep(50); return Execute(context, runs); });
        }))];
        await Task.Delay(400);
        server.Restart();
        await Task.WhenAll(workers);

        using PostgresTrialStorage check = PostgresTrialStorage.Open(url);
        IReadOnlyList<Trial> trials = check.Trials(check.FindStudy("restart")!);
        Assert.All(trials, t => Assert.Equal(TrialState.Complete, t.State));
        Assert.Equal(40, trials.Count);
        Assert.Equal(40, workers.Sum(w => w.Result));
    }

    [Fact]
    public void Bad_connections_fail_in_one_line_without_the_password()
    {
        PostgresUrl url = server.Url;
        var unreachable = Assert.Throws<IOException>(() => PostgresTrialStorage.Open(url with { Host = "127.0.0.1", Port = FreePort() }));
        Assert.StartsWith("Cannot reach PostgreSQL at postgresql://", unreachable.Message);
        Assert.DoesNotContain('\n', unreachable.Message);

        string? saved = Environment.GetEnvironmentVariable("PGPASSWORD");
        try
        {
            Environment.SetEnvironmentVariable("PGPASSWORD", "wrong-secret");
            var refused = Assert.Throws<IOException>(() => PostgresTrialStorage.Open(url));
            Assert.Contains("refused the login of user 'dopant'", refused.Message);
            Assert.DoesNotContain("wrong-secret", refused.Message);
        }
        finally
        {
            Environment.SetEnvironmentVariable("PGPASSWORD", saved);
        }

        Assert.Contains("has no database 'absent'", Assert.Throws<IOException>(() => PostgresTrialStorage.Open(url with { Database = "absent" })).Message);
        var withPassword = Assert.Throws<ArgumentException>(() => PostgresUrl.Parse("postgresql://dopant:hunter2@localhost:5432/db"));
        Assert.DoesNotContain("hunter2", withPassword.Message);
        Assert.Contains("PGPASSWORD", withPassword.Message);
        Assert.Contains("is not a postgresql://", Assert.Throws<ArgumentException>(() => PostgresUrl.Parse("mysql://a@b/c")).Message);
        Assert.Contains("needs a user and a database", Assert.Throws<ArgumentException>(() => PostgresUrl.Parse("postgresql://localhost:5432/")).Message);
        Assert.Equal(new PostgresUrl("u", "/tmp/sock", 5433, "db"), PostgresUrl.Parse("postgresql://u@localhost:5433/db?host=%2Ftmp%2Fsock"));
    }

    [Fact]
    public void A_database_of_a_newer_schema_is_refused()
    {
        PostgresUrl url = server.NewDatabase();
        PostgresTrialStorage.Open(url).Dispose();
        using (var source = Npgsql.NpgsqlDataSource.Create(url.ConnectionString))
        using (var command = source.CreateCommand("INSERT INTO dopant_schema (version) VALUES (99)"))
            command.ExecuteNonQuery();
        var e = Assert.Throws<InvalidDataException>(() => PostgresTrialStorage.Open(url));
        Assert.Contains("schema version 99; this Dopant knows versions up to 1", e.Message);
    }

    private static int FreePort()
    {
        using var socket = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        socket.Start();
        return ((System.Net.IPEndPoint)socket.LocalEndpoint).Port;
    }
}
