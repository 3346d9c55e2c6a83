using System.Text.Json;
using Dopant.Search;
using Dopant.Tests.Data;

namespace Dopant.Tests.Cli;

/// <summary><c>dopant search</c> end to end on a tiny corpus, with a small budget.</summary>
public sealed class SearchCliTests : IDisposable
{
    private readonly TemporaryFolder _folder = new();
    private readonly string _dense;

    public SearchCliTests()
    {
        Data = TinyCorpus.Write(_folder);
        _dense = Path.Combine(_folder.Path, "dense.safetensors");
        CliProcess.Result train = CliProcess.Run("train", "--data", Data, "--out", _dense, "--layers", "1", "--hidden", "16", "--bptt", "5",
            "--batch-size", "4", "--epochs", "3");
        Assert.True(train.ExitCode == 0, train.StandardError);
    }

    public void Dispose() => _folder.Dispose();

    private string Data { get; }

    private string[] Search(string dir, string scheme, params string[] extra) =>
    [
        "search", "--data", Data, "--model", _dense, "--out", dir, "--scheme", scheme, "--bptt", "5", "--batch-size", "4",
        "--lc-iterations", "1", "--l-step-windows", "2", "--fine-tune-epochs", "0", "--json", .. extra,
    ];

    [Fact]
    public void A_search_stores_its_trials_reports_them_and_resumes_without_rerunning()
    {
        string scheme = Path.Combine(_folder.Path, "prune.json");
        File.WriteAllText(scheme, """{ "rules": [ { "select": { "kinds": ["lstm"] }, "operators": [ { "op": "prune", "factor": "$level" } ] } ] }""");
        string dir = Path.Combine(_folder.Path, "search");
        CliProcess.Result run = CliProcess.Run(Search(dir, scheme, "--levels", "1.5:40", "--max-ppl-increase", "3", "--budget", "4"));
        Assert.True(run.ExitCode == 0, run.StandardError);
        using JsonDocument result = JsonDocument.Parse(run.StandardOutput.Split('\n').Last(l => l.StartsWith('{')));
        int trials = result.RootElement.GetProperty("trials").GetArrayLength();
        Assert.InRange(trials, 2, 4);
        Assert.Equal(trials, new SearchTrialStore(Path.Combine(dir, "trials.jsonl")).Load().Count);
        // Trial i (as the report and the log number it) is in trial-{i}.safetensors.
        for (int i = 0; i < trials; i++) Assert.True(File.Exists(SchemeSearch.TrialModel(dir, i)), $"trial {i}'s model");
        Assert.False(File.Exists(SchemeSearch.TrialModel(dir, trials)));
        string report = File.ReadAllText(Path.Combine(dir, "report.md"));
        Assert.Contains("| trial | stage | level | valid ppl | memory | feasible |", report);
        Assert.True(File.Exists(Path.Combine(dir, "constraint.svg")));
        // Pruning a third of the weights (level 1.5) keeps the tiny model within 3%: some level is chosen.
        Assert.Equal(JsonValueKind.Number, result.RootElement.GetProperty("chosen_level").ValueKind);
        JsonElement chosen = result.RootElement.GetProperty("chosen");
        Assert.True(chosen.GetProperty("feasible").GetBoolean());
        // The chosen trial's model, byte for byte, and it evaluates to the perplexity the search recorded for it.
        string best = Path.Combine(dir, "best.safetensors");
        Assert.Equal(File.ReadAllBytes(SchemeSearch.TrialModel(dir, chosen.GetProperty("index").GetInt32())), File.ReadAllBytes(best));
        CliProcess.Result eval = CliProcess.Run("eval", "--model", best, "--data", Data, "--bptt", "5", "--batch-size", "10", "--json");
        Assert.True(eval.ExitCode == 0, eval.StandardError);
        Assert.Equal(chosen.GetProperty("constraint_value").GetDouble(),
            JsonDocument.Parse(eval.StandardOutput).RootElement.GetProperty("valid_ppl").GetDouble(), 6);

        CliProcess.Result again = CliProcess.Run("search", "--data", Data, "--model", _dense, "--out", dir, "--resume", "--json");
        Assert.True(again.ExitCode == 0, again.StandardError);
        Assert.Contains("(stored)", again.StandardError);
        Assert.DoesNotContain("L step", again.StandardError);
        using JsonDocument resumed = JsonDocument.Parse(again.StandardOutput.Split('\n').Last(l => l.StartsWith('{')));
        Assert.Equal(result.RootElement.GetProperty("trials").GetRawText(), resumed.RootElement.GetProperty("trials").GetRawText());
    }

    [Fact]
    public void A_search_queued_in_a_storage_runs_on_two_workers_and_gives_its_chosen_model()
    {
        string scheme = Path.Combine(_folder.Path, "prune.json");
        File.WriteAllText(scheme, """{ "rules": [ { "select": { "kinds": ["lstm"] }, "operators": [ { "op": "prune", "factor": "$level" } ] } ] }""");
        string storage = Path.Combine(_folder.Path, "trials");
        string[] queue = [.. Search("unused", scheme, "--levels", "1.5:40", "--max-ppl-increase", "3", "--budget", "4").Where(a => a != "--json")];
        int at = Array.IndexOf(queue, "--out");
        queue = [.. queue[..at], .. queue[(at + 2)..], "--storage", storage, "--study", "prune"];
        CliProcess.Result queued = CliProcess.Run(queue);
        Assert.True(queued.ExitCode == 0, queued.StandardError);
        Assert.Contains("search 'prune' queued", queued.StandardOutput);

        string[] worker = ["worker", "--storage", storage, "--study", "prune", "--data", Data, "--threads", "1"];
        using CliProcess.Running first = CliProcess.Start(worker);
        using CliProcess.Running second = CliProcess.Start(worker);
        Assert.True(first.WaitForExit(TimeSpan.FromMinutes(2)) && second.WaitForExit(TimeSpan.FromMinutes(2)));
        Assert.True(first.Result.ExitCode == 0, first.Result.StandardError);
        Assert.True(second.Result.ExitCode == 0, second.Result.StandardError);

        string best = Path.Combine(_folder.Path, "best.safetensors");
        CliProcess.Result fetched = CliProcess.Run("search", "--storage", storage, "--study", "prune", "--fetch-best", best);
        Assert.True(fetched.ExitCode == 0, fetched.StandardError);
        Assert.Matches(@"chosen level [\d.]+ of [234] finished trials: valid perplexity ([\d.]+)", fetched.StandardOutput);
        double recorded = double.Parse(System.Text.RegularExpressions.Regex.Match(fetched.StandardOutput, @"valid perplexity ([\d.]+)").Groups[1].Value,
            System.Globalization.CultureInfo.InvariantCulture);
        CliProcess.Result eval = CliProcess.Run("eval", "--model", best, "--data", Data, "--bptt", "5", "--batch-size", "10", "--json");
        Assert.True(eval.ExitCode == 0, eval.StandardError);
        Assert.Equal(recorded, JsonDocument.Parse(eval.StandardOutput).RootElement.GetProperty("valid_ppl").GetDouble(), 2);
    }

    [Theory]
    [InlineData("no-level", "no \"$level\"")]
    [InlineData("resume-empty", "no search to continue")]
    [InlineData("bad-levels", "--levels must be LOW:HIGH")]
    public void Bad_searches_fail_with_a_clear_error(string problem, string expected)
    {
        string scheme = Path.Combine(_folder.Path, problem + ".json");
        File.WriteAllText(scheme, problem == "no-level"
            ? """{ "rules": [ { "operators": [ { "op": "prune", "factor": 4 } ] } ] }"""
            : """{ "rules": [ { "operators": [ { "op": "prune", "factor": "$level" } ] } ] }""");
        string dir = Path.Combine(_folder.Path, problem);
        string[] args = problem switch
        {
            "resume-empty" => ["search", "--data", Data, "--model", _dense, "--out", dir, "--resume"],
            "bad-levels" => Search(dir, scheme, "--levels", "2-50"),
            _ => Search(dir, scheme, "--levels", "2:50"),
        };
        CliProcess.Result run = CliProcess.Run(args);
        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains(expected, run.StandardError);
        Assert.False(File.Exists(Path.Combine(dir, "trials.jsonl")));
    }
}
