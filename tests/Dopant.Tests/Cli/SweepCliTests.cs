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

    private string Plan(string data, params (string Name, string[] Command)[] runs) => _folder.Write("plan.json", JsonSerializer.Serialize(new
    {
        max_retries = 20,
        runs = runs.Select(r => new { name = r.Name, command = r.Command.Concat(["--data", data]).ToArray() }),
    }));

    [Fact]
    public void A_compression_trial_killed_ten_times_resumes_to_the_uninterrupted_result()
    {
        string data = TinyCorpus.Write(_folder);
        PostgresUrl url = server.NewDatabase();
        string storage = url.ToString();
        string dense = Path.Combine(_folder.Path, "dense.safetensors");
        CliProcess.Result trained = CliProcess.Run("train", "--data", data, "--out", dense, "--hidden", "48", "--layers", "2", "--bptt", "5",
            "--batch-size", "4", "--epochs", "3", "--threads", "1");
        Assert.True(trained.ExitCode == 0, trained.StandardError);
        const int epochs = 60;
        string[] compress = ["compress", "--method", "dkp", "--factor", "4", "--model", dense, "--bptt", "5", "--batch-size", "4", "--epochs", $"{epochs}"];
        CliProcess.Result queued = CliProcess.Run("sweep", "--plan", Plan(data, ("dkp", compress)), "--storage", storage, "--study", "grid");
        Assert.True(queued.ExitCode == 0, queued.StandardError);
        Assert.Contains("1 run(s) queued", queued.StandardOutput);

        // The same run without a worker in the way: the reference result.
        CliProcess.Result direct = CliProcess.Run([.. compress, "--data", data, "--out", Path.Combine(_folder.Path, "reference.safetensors"), "--json", "--threads", "1"]);
        Assert.True(direct.ExitCode == 0, direct.StandardError);
        JsonElement expected = JsonDocument.Parse(direct.StandardOutput).RootElement;

        string[] worker = ["worker", "--storage", storage, "--study", "grid", "--threads", "1", "--grace", "1.5", "--heartbeat", "0.3"];
        using PostgresTrialStorage look = PostgresTrialStorage.Open(url);
        Study study = look.FindStudy("grid")!;
        var random = new Random(20261207);
        // Ten kills spread over the run: each waits until its worker has claimed the trial and the stored checkpoint
        // reached a random epoch (below 0: none needed), then up to 0.2 s more (start-up, an epoch, a checkpoint being
        // stored), so that every kill lands inside the trial whatever the machine's speed.
        // Targets in the first half leave 30 epochs or more after them, so that a fast, quiet machine cannot finish the run
        // within the extra wait.
        int[] targets = [.. Enumerable.Range(0, 10).Select(_ => random.Next(-2, epochs / 2)).Order()];
        int resumed = 0;
        for (int kill = 0; kill < 10; kill++)
        {
            using CliProcess.Running running = CliProcess.Start(worker);
            var waited = System.Diagnostics.Stopwatch.StartNew();
            while (!(look.Trials(study).Single() is { State: TrialState.Running } t && t.Attempts == kill + 1 && StoredEpoch(look.LoadCheckpoint(t.Id)) >= targets[kill]))
            {
                Assert.False(running.WaitForExit(TimeSpan.FromMilliseconds(50)), $"the worker of kill {kill + 1} exited before it was killed (target epoch {targets[kill]}, stored {StoredEpoch(look.LoadCheckpoint(look.Trials(study).Single().Id))}, attempts {look.Trials(study).Single().Attempts})");
                Assert.True(waited.Elapsed < TimeSpan.FromMinutes(1), $"kill {kill + 1}: the trial did not reach epoch {targets[kill]} in a minute");
            }
            Thread.Sleep(random.Next(200));
            running.Kill();
            if (running.Result.StandardError.Contains("dkp: resuming from the stored checkpoint")) resumed++;
            Assert.Equal(TrialState.Running, look.Trials(study).Single().State);
            Thread.Sleep(TimeSpan.FromSeconds(1.6));
        }
        CliProcess.Result last = CliProcess.Run(worker);
        Assert.True(last.ExitCode == 0, last.StandardError);
        Assert.Contains("dkp: resuming from the stored checkpoint", last.StandardError);
        Assert.Contains("study 'grid' is done", last.StandardOutput);

        string results = Path.Combine(_folder.Path, "results.jsonl");
        CliProcess.Result exported = CliProcess.Run("sweep", "--storage", storage, "--study", "grid", "--export", results);
        Assert.True(exported.ExitCode == 0, exported.StandardError);
        Assert.Contains("0 waiting, 0 running, 1 complete, 0 failed", exported.StandardOutput);
        JsonElement line = JsonDocument.Parse(File.ReadLines(results).Single()).RootElement;
        Assert.StartsWith("dopant compress --method dkp --factor 4", line.GetProperty("command").GetString());
        Assert.Equal(11, line.GetProperty("attempts").GetInt32());
        JsonElement result = line.GetProperty("result");
        foreach (string figure in (string[])["valid_ppl", "test_ppl"])
            Assert.Equal(expected.GetProperty(figure).GetDouble(), result.GetProperty(figure).GetDouble());
        Assert.Equal(expected.GetProperty("compression").GetRawText(), result.GetProperty("compression").GetRawText());
        Assert.Equal(epochs, result.GetProperty("epochs").GetArrayLength());
        // Kills after the first stored checkpoint are followed by resumed attempts (the last one's included above).
        Assert.True(resumed >= 5, $"only {resumed} of the killed attempts had resumed from a stored checkpoint");
    }

    // The epochs a stored training checkpoint has completed (its dopant.state metadata), or -1 without one.
    private static int StoredEpoch(byte[]? checkpoint)
    {
        if (checkpoint is null) return -1;
        long length = BitConverter.ToInt64(checkpoint, 0);
        using JsonDocument header = JsonDocument.Parse(checkpoint.AsMemory(8, (int)length));
        string state = header.RootElement.GetProperty("__metadata__").GetProperty("dopant.state").GetString()!;
        return JsonDocument.Parse(state).RootElement.GetProperty("epochs_completed").GetInt32();
    }

    [Fact]
    public void A_scheme_compression_run_killed_after_an_lc_iteration_resumes_from_its_packed_state()
    {
        string data = TinyCorpus.Write(_folder), storage = Path.Combine(_folder.Path, "scheme-trials");
        string dense = Path.Combine(_folder.Path, "scheme-dense.safetensors");
        Assert.Equal(0, CliProcess.Run("train", "--data", data, "--out", dense, "--hidden", "16", "--layers", "2", "--bptt", "5",
            "--batch-size", "4", "--epochs", "2", "--threads", "1").ExitCode);
        string scheme = _folder.Write("scheme.json", """{ "rules": [ { "select": { "kinds": ["lstm"] }, "operators": [ { "op": "prune", "factor": 3 } ] } ] }""");
        string[] compress = ["compress", "--scheme", scheme, "--model", dense, "--bptt", "5", "--batch-size", "4", "--lc-iterations", "6",
            "--l-step-windows", "40", "--fine-tune-epochs", "1"];
        Assert.Equal(0, CliProcess.Run("sweep", "--plan", Plan(data, ("lc", compress)), "--storage", storage, "--study", "schemes").ExitCode);
        CliProcess.Result direct = CliProcess.Run([.. compress, "--data", data, "--out", Path.Combine(_folder.Path, "scheme-reference.safetensors"), "--json", "--threads", "1"]);
        Assert.True(direct.ExitCode == 0, direct.StandardError);
        JsonElement expected = JsonDocument.Parse(direct.StandardOutput.Split('\n').Last(l => l.StartsWith('{'))).RootElement;

        // Killed once its L-C state (packed with no output yet) is stored, then resumed by another worker.
        string[] worker = ["worker", "--storage", storage, "--study", "schemes", "--threads", "1", "--grace", "1.5", "--heartbeat", "0.3"];
        var look = new FileTrialStorage(storage);
        Study study = look.FindStudy("schemes")!;
        using (CliProcess.Running running = CliProcess.Start(worker))
        {
            var waited = System.Diagnostics.Stopwatch.StartNew();
            while (look.Trials(study).Single() is not { State: TrialState.Running } trial || look.LoadCheckpoint(trial.Id) is null)
            {
                Assert.False(running.WaitForExit(TimeSpan.FromMilliseconds(50)), "the worker finished the run before it was killed");
                Assert.True(waited.Elapsed < TimeSpan.FromMinutes(1), "no L-C state was stored in a minute");
            }
            running.Kill();
        }
        Thread.Sleep(TimeSpan.FromSeconds(1.6));
        CliProcess.Result last = CliProcess.Run(worker);
        Assert.True(last.ExitCode == 0, last.StandardError);
        Assert.Contains("lc: resuming from the stored checkpoint", last.StandardError);
        string results = Path.Combine(_folder.Path, "schemes.jsonl");
        Assert.Equal(0, CliProcess.Run("sweep", "--storage", storage, "--study", "schemes", "--export", results).ExitCode);
        JsonElement line = JsonDocument.Parse(File.ReadLines(results).Single()).RootElement;
        Assert.Equal(2, line.GetProperty("attempts").GetInt32());
        foreach (string figure in (string[])["valid_ppl", "test_ppl", "compressed_bytes"])
            Assert.Equal(expected.GetProperty(figure).GetDouble(), line.GetProperty("result").GetProperty(figure).GetDouble());
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
