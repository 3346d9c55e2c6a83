using System.Text.Json;
using Dopant.PostgreSql;
using Dopant.Tests.Data;
using Dopant.Tests.Trials;
using Dopant.Trials;

namespace Dopant.Tests.Cli;

/// <summary><c>dopant sweep</c> and <c>dopant worker</c> on a real PostgreSQL server, workers killed mid-run included.</summary>
[Collection(PostgresCollection.Name)]
public sealed class SweepCliTests(PostgresServer server) : IDisposable
{
    private readonly TemporaryFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private static readonly string[] Tiny = ["--hidden", "48", "--layers", "2", "--bptt", "5", "--batch-size", "4", "--epochs", "80", "--decay-after", "80", "--lr", "0.5"];

    private string Plan(string data, params (string Name, string[] Command)[] runs) => _folder.Write("plan.json", JsonSerializer.Serialize(new
    {
        max_retries = 20,
        runs = runs.Select(r => new { name = r.Name, command = r.Command.Concat(["--data", data]).ToArray() }),
    }));

    [Fact]
    public void Workers_killed_at_random_moments_leave_every_run_resumed_to_the_uninterrupted_result()
    {
        string data = TinyCorpus.Write(_folder);
        PostgresUrl url = server.NewDatabase();
        string storage = url.ToString();
        string[] train = ["train", .. Tiny];
        string plan = Plan(data, ("dense", train), ("eval-free", ["train", .. Tiny, "--seed", "2"]));

        CliProcess.Result queued = CliProcess.Run("sweep", "--plan", plan, "--storage", storage, "--study", "grid");
        Assert.True(queued.ExitCode == 0, queued.StandardError);
        Assert.Contains("2 run(s) queued", queued.StandardOutput);
        Assert.Contains("2 waiting", queued.StandardOutput);

        // The same run without a worker in the way: the reference result.
        string reference = Path.Combine(_folder.Path, "reference.safetensors");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        CliProcess.Result direct = CliProcess.Run([.. train, "--data", data, "--out", reference, "--json", "--threads", "1"]);
        Assert.True(direct.ExitCode == 0, direct.StandardError);
        double expected = JsonDocument.Parse(direct.StandardOutput).RootElement.GetProperty("test_ppl").GetDouble();
        double runMilliseconds = clock.Elapsed.TotalMilliseconds;

        string[] worker = ["worker", "--storage", storage, "--study", "grid", "--threads", "1", "--grace", "1.5", "--heartbeat", "0.3"];
        var random = new Random(20261207);
        int killedAfterCheckpoint = 0;
        // Ten kills at random moments within about a run's time (start-up, training, a checkpoint being stored), each
        // worker started after the grace period of the one before, so that its trial is claimed again.
        for (int kill = 0; kill < 10; kill++)
        {
            using CliProcess.Running running = CliProcess.Start(worker);
            if (running.WaitForExit(TimeSpan.FromMilliseconds(runMilliseconds * (0.3 + 0.9 * random.NextDouble())))) break;
            running.Kill();
            using PostgresTrialStorage look = PostgresTrialStorage.Open(url);
            if (look.Trials(look.FindStudy("grid")!).Any(t => t.State == TrialState.Running && look.LoadCheckpoint(t.Id) is not null)) killedAfterCheckpoint++;
            Thread.Sleep(TimeSpan.FromSeconds(1.6));
        }
        CliProcess.Result last = CliProcess.Run(worker);
        Assert.True(last.ExitCode == 0, last.StandardError);
        Assert.Contains("study 'grid' is done", last.StandardOutput);

        string results = Path.Combine(_folder.Path, "results.jsonl");
        CliProcess.Result exported = CliProcess.Run("sweep", "--storage", storage, "--study", "grid", "--export", results);
        Assert.True(exported.ExitCode == 0, exported.StandardError);
        Assert.Contains("2 complete", exported.StandardOutput);
        JsonElement[] lines = [.. File.ReadLines(results).Select(l => JsonDocument.Parse(l).RootElement)];
        JsonElement dense = lines.Single(l => l.GetProperty("name").GetString() == "dense");
        Assert.Equal("complete", dense.GetProperty("state").GetString());
        Assert.StartsWith("dopant train --hidden 48", dense.GetProperty("command").GetString());
        Assert.Equal(expected, dense.GetProperty("result").GetProperty("test_ppl").GetDouble());
        Assert.True(killedAfterCheckpoint >= 1, $"no kill landed after a checkpoint was stored ({killedAfterCheckpoint})");
        Assert.True(lines.Sum(l => l.GetProperty("attempts").GetInt32()) > 2, "no run was claimed twice: the kills missed");
    }

    [Fact]
    public void Two_local_workers_share_a_folder_storage_and_run_each_run_once()
    {
        string data = TinyCorpus.Write(_folder), storage = Path.Combine(_folder.Path, "trials");
        string[] quick = ["train", "--hidden", "8", "--layers", "1", "--epochs", "2"];
        string plan = Plan(data, ("a", quick), ("b", [.. quick, "--seed", "3"]), ("c", [.. quick, "--seed", "4"]));
        Assert.Equal(0, CliProcess.Run("sweep", "--plan", plan, "--storage", storage, "--study", "local").ExitCode);
        using CliProcess.Running first = CliProcess.Start("worker", "--storage", storage, "--study", "local", "--threads", "1");
        using CliProcess.Running second = CliProcess.Start("worker", "--storage", storage, "--study", "local", "--threads", "1");
        Assert.True(first.WaitForExit(TimeSpan.FromMinutes(2)) && second.WaitForExit(TimeSpan.FromMinutes(2)));
        Assert.True(first.Result.ExitCode == 0, first.Result.StandardError);
        Assert.True(second.Result.ExitCode == 0, second.Result.StandardError);
        string results = Path.Combine(_folder.Path, "local.jsonl");
        CliProcess.Result exported = CliProcess.Run("sweep", "--storage", storage, "--study", "local", "--export", results);
        Assert.Contains("0 waiting, 0 running, 3 complete, 0 failed", exported.StandardOutput);
        JsonElement[] lines = [.. File.ReadLines(results).Select(l => JsonDocument.Parse(l).RootElement)];
        Assert.Equal(["a", "b", "c"], lines.Select(l => l.GetProperty("name").GetString()));
        Assert.All(lines, l => Assert.Equal(1, l.GetProperty("attempts").GetInt32()));
        Assert.Equal(3, lines.Select(l => l.GetProperty("result").GetProperty("test_ppl").GetDouble()).Distinct().Count());
    }

    [Fact]
    public void Bad_plans_and_storage_urls_fail_in_one_line()
    {
        string storage = server.NewDatabase().ToString();
        string bad = _folder.Write("bad.json", """{"runs": [{"name": "a", "command": ["train", "--out", "x"]}]}""");
        CliProcess.Result owned = CliProcess.Run("sweep", "--plan", bad, "--storage", storage, "--study", "s");
        Assert.Equal(1, owned.ExitCode);
        Assert.Contains("run 'a' gives --out, which the worker sets", owned.StandardError);
        string twice = _folder.Write("twice.json", """{"runs": [{"name": "a", "command": ["eval"]}, {"name": "a", "command": ["eval"]}]}""");
        Assert.Contains("two runs are named 'a'", CliProcess.Run("sweep", "--plan", twice, "--storage", storage, "--study", "s").StandardError);
        string verb = _folder.Write("verb.json", """{"runs": [{"name": "a", "command": ["generate"]}]}""");
        Assert.Contains("must start with train, compress, eval or bench infer", CliProcess.Run("sweep", "--plan", verb, "--storage", storage, "--study", "s").StandardError);

        CliProcess.Result url = CliProcess.Run("worker", "--storage", "postgresql://dopant:secret@localhost/db", "--study", "s");
        Assert.Equal(1, url.ExitCode);
        Assert.DoesNotContain("secret", url.StandardError);
        Assert.Single(url.ErrorLines);
        CliProcess.Result missing = CliProcess.Run("worker", "--storage", storage, "--study", "nothing", "--grace", "2", "--heartbeat", "0.5");
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("No study 'nothing'", missing.StandardError);
    }
}
