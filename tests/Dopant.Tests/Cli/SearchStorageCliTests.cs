using System.Text.Json;
using Dopant.Compression;
using Dopant.PostgreSql;
using Dopant.Tests.Data;
using Dopant.Tests.Trials;
using Dopant.Trials;

namespace Dopant.Tests.Cli;

/// <summary><c>dopant search --storage</c> with <c>dopant worker</c> on a real PostgreSQL server, workers killed mid-trial.</summary>
[Collection(PostgresCollection.Name)]
public sealed class SearchStorageCliTests(PostgresServer server) : IDisposable
{
    private readonly TemporaryFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void A_search_trial_whose_workers_are_killed_resumes_from_its_stored_checkpoint_to_the_uninterrupted_result()
    {
        string data = TinyCorpus.Write(_folder), dense = Path.Combine(_folder.Path, "dense.safetensors");
        CliProcess.Result trained = CliProcess.Run("train", "--data", data, "--out", dense, "--layers", "1", "--hidden", "16", "--bptt", "5",
            "--batch-size", "4", "--epochs", "3", "--threads", "1");
        Assert.True(trained.ExitCode == 0, trained.StandardError);
        string scheme = _folder.Write("prune.json", """{ "rules": [ { "select": { "kinds": ["lstm"] }, "operators": [ { "op": "prune", "factor": "$level" } ] } ] }""");
        PostgresUrl url = server.NewDatabase();
        string storage = url.ToString();
        foreach (string name in (string[])["reference", "killed"])
        {
            CliProcess.Result queued = CliProcess.Run("search", "--data", data, "--model", dense, "--scheme", scheme, "--levels", "1.5:40", "--max-ppl-increase", "3",
                "--budget", "2", "--bptt", "5", "--batch-size", "4", "--lc-iterations", "8", "--l-step-windows", "800", "--fine-tune-epochs", "20",
                "--storage", storage, "--study", name);
            Assert.True(queued.ExitCode == 0, queued.StandardError);
        }
        string[] Worker(string study) => ["worker", "--storage", storage, "--study", study, "--data", data, "--threads", "1", "--grace", "1.5", "--heartbeat", "0.3"];
        CliProcess.Result uninterrupted = CliProcess.Run(Worker("reference"));
        Assert.True(uninterrupted.ExitCode == 0, uninterrupted.StandardError);

        using PostgresTrialStorage look = PostgresTrialStorage.Open(url);
        Study killed = look.FindStudy("killed")!;
        var random = new Random(20261208);
        // Two kills of the first trial (a search trial is retried twice): during L-C (its stored checkpoint holds the L-C
        // state alone), and during fine-tuning (the stored checkpoint holds the output too), each up to 0.1 s later.
        (string Moment, Func<byte[]?, bool> Ready)[] kills =
        [
            ("during L-C", c => Tensors(c) is ["lc_state"]),
            ("during fine-tuning", c => Tensors(c).Contains("output")),
        ];
        for (int kill = 0; kill < kills.Length; kill++)
        {
            using CliProcess.Running running = CliProcess.Start(Worker("killed"));
            var waited = System.Diagnostics.Stopwatch.StartNew();
            while (!(look.Trials(killed) is [{ State: TrialState.Running } t, ..] && t.Attempts == kill + 1 && kills[kill].Ready(look.LoadCheckpoint(t.Id))))
            {
                if (running.WaitForExit(TimeSpan.FromMilliseconds(20))) Assert.Fail($"the worker to kill {kills[kill].Moment} exited first: {running.Result.StandardError}");
                Assert.True(waited.Elapsed < TimeSpan.FromMinutes(1), $"no moment to kill {kills[kill].Moment} came in a minute");
            }
            Thread.Sleep(random.Next(100));
            running.Kill();
            Assert.Equal(TrialState.Running, look.Trials(killed)[0].State);
            Thread.Sleep(TimeSpan.FromSeconds(1.6));
        }
        CliProcess.Result last = CliProcess.Run(Worker("killed"));
        Assert.True(last.ExitCode == 0, last.StandardError);
        Assert.True(last.StandardError.Contains("trial-0: level 40, resuming from the stored checkpoint"), last.StandardError);

        IReadOnlyList<Trial> expected = look.Trials(look.FindStudy("reference")!), actual = look.Trials(killed);
        Assert.NotEmpty(expected);
        Assert.Equal(expected.Select(t => (t.Key, t.Payload, t.State, t.Result)), actual.Select(t => (t.Key, t.Payload, t.State, t.Result)));
        Assert.Equal(3, actual[0].Attempts);
        // The trial's stored model after completion is the final model, not a packed checkpoint.
        Assert.Equal(["model"], Tensors(look.LoadCheckpoint(actual[0].Id)));
    }

    // The tensor names of a stored checkpoint (a packed scheme-run checkpoint: output, lc_state), or none without one.
    private static string[] Tensors(byte[]? checkpoint)
    {
        if (checkpoint is null) return [];
        using JsonDocument header = JsonDocument.Parse(checkpoint.AsMemory(8, (int)BitConverter.ToInt64(checkpoint, 0)));
        bool packed = header.RootElement.TryGetProperty("__metadata__", out JsonElement meta) && meta.TryGetProperty(SchemeRunCheckpoint.MarkerKey, out _);
        return packed ? [.. header.RootElement.EnumerateObject().Select(p => p.Name).Where(n => n != "__metadata__").Order()] : ["model"];
    }
}
