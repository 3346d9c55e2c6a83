using System.Text.Json;
using Dopant.Tests.Data;

namespace Dopant.Tests.Cli;

/// <summary><c>dopant demo</c> and <c>dopant report</c> end to end on a tiny corpus: the run folder, the report, resuming.</summary>
public sealed class DemoCliTests : IDisposable
{
    private readonly TemporaryFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private string[] Demo(string run, params string[] extra) =>
    [
        "demo", "--data", TinyCorpus.Write(_folder), "--out", run, "--train-tokens", "1000", "--eval-tokens", "200", "--hidden", "16",
        "--dense-epochs", "2", "--epochs", "1", "--threads", "1", .. extra,
    ];

    private static int Lines(string file) => File.ReadAllLines(file).Count(l => l.Trim().Length > 0);

    [Fact]
    public void The_demo_writes_a_run_folder_and_a_self_contained_report_and_resumes_after_an_interruption()
    {
        string run = Path.Combine(_folder.Path, "run");
        CliProcess.Result first = CliProcess.Run(Demo(run));
        Assert.True(first.ExitCode == 0, first.StandardError);
        foreach (string name in new[] { "dense", "dkp10", "prune10", "dkp25", "prune25" })
        {
            Assert.True(File.Exists(Path.Combine(run, "models", name + ".safetensors")), name);
            Assert.Contains("== " + name, first.StandardError);
        }
        // The summary table: a row per model, by method and factor.
        string[] methods = [.. first.StandardOutput.Split('\n').Where(r => r.StartsWith('│')).Select(r => r.Split('│')[1].Trim())];
        Assert.Equal(["method", "dense", "dkp", "prune", "dkp", "prune"], methods);
        Assert.Equal(5, Lines(Path.Combine(run, "results.jsonl")));
        // Every model, then the dense one at int8 and under ONNX Runtime, timed in the same passes.
        Assert.Equal(7, Lines(Path.Combine(run, "speed.jsonl")));
        JsonElement[] speed = [.. File.ReadLines(Path.Combine(run, "speed.jsonl")).Select(l => JsonDocument.Parse(l).RootElement)];
        Assert.Equal(["dense, int8 runtime", "dense, ONNX Runtime"], speed.Where(s => s.GetProperty("reference").GetBoolean()).Select(s => s.GetProperty("name").GetString()));
        Assert.All(speed, s => Assert.True(s.GetProperty("weight_bytes").GetInt64() > 0 && s.GetProperty("total_microseconds").GetDouble() > 0));
        // The int8 dense model reads a quarter of the fp32 one's bytes plus a float scale a row and the fp32 biases (a third at hidden 16).
        Assert.InRange(speed[5].GetProperty("weight_bytes").GetInt64() / (double)speed[0].GetProperty("weight_bytes").GetInt64(), 0.25, 0.4);
        Assert.Contains("end to end (head included), µs/token: dense ", first.StandardOutput);
        string html = File.ReadAllText(Path.Combine(run, "report.html"));
        Assert.Contains("<h2>End to end</h2>", html);
        Assert.Contains("<th>vs dense, ONNX Runtime</th>", html);
        Assert.Equal(5, CountOf(html, "<svg "));
        Assert.DoesNotContain("<script", html);
        Assert.DoesNotContain("http://", html.Replace("http://www.w3.org/2000/svg", ""));
        Assert.Contains("<td>dkp25</td>", html);
        using (JsonDocument dense = JsonDocument.Parse(File.ReadLines(Path.Combine(run, "results.jsonl")).First()))
            Assert.Equal(2, dense.RootElement.GetProperty("epochs").GetArrayLength());

        // Starting again over a run is refused, and nothing is touched.
        DateTime written = File.GetLastWriteTimeUtc(Path.Combine(run, "results.jsonl"));
        CliProcess.Result refused = CliProcess.Run(Demo(run));
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("--resume", refused.StandardError);
        Assert.Equal(written, File.GetLastWriteTimeUtc(Path.Combine(run, "results.jsonl")));

        // An interruption during prune25's result append: its line cut short, the timings not written.
        string results = Path.Combine(run, "results.jsonl");
        string[] lines = File.ReadAllLines(results);
        File.WriteAllText(results, string.Join('\n', lines[..^1]) + "\n" + lines[^1][..20]);
        File.Delete(Path.Combine(run, "speed.jsonl"));
        File.Delete(Path.Combine(run, "report.html"));
        CliProcess.Result resumed = CliProcess.Run("demo", "--out", run, "--resume");
        Assert.True(resumed.ExitCode == 0, resumed.StandardError);
        Assert.Contains("== prune25", resumed.StandardError);
        Assert.DoesNotContain("== dkp25", resumed.StandardError);
        Assert.Equal(5, RunLines(results).Count);
        Assert.True(File.Exists(Path.Combine(run, "report.html")));

        // The report is rebuilt from the stored results alone.
        File.Delete(Path.Combine(run, "report.html"));
        CliProcess.Result report = CliProcess.Run("report", run);
        Assert.True(report.ExitCode == 0, report.StandardError);
        Assert.Equal(methods, (string[])[.. report.StandardOutput.Split('\n').Where(r => r.StartsWith('│')).Select(r => r.Split('│')[1].Trim())]);
        Assert.True(File.Exists(Path.Combine(run, "report.html")));
    }

    [Fact]
    public void Report_and_resume_of_a_folder_without_a_run_fail_with_one_clear_line()
    {
        string empty = Path.Combine(_folder.Path, "empty");
        Directory.CreateDirectory(empty);
        CliProcess.Result report = CliProcess.Run("report", empty);
        Assert.NotEqual(0, report.ExitCode);
        Assert.Contains("holds no results", report.StandardError);
        CliProcess.Result resume = CliProcess.Run("demo", "--out", empty, "--resume");
        Assert.NotEqual(0, resume.ExitCode);
        Assert.Contains("no run to resume", resume.StandardError);
        CliProcess.Result badFactor = CliProcess.Run(Demo(Path.Combine(_folder.Path, "bad"), "--factors", "0.5"));
        Assert.NotEqual(0, badFactor.ExitCode);
        Assert.Contains("--factors", badFactor.StandardError);
    }

    // Records of a JSON-lines file (every line must parse: the cut line was dropped by the next append).
    private static List<JsonElement> RunLines(string file) =>
        [.. File.ReadAllLines(file).Where(l => l.Trim().Length > 0).Select(l => JsonDocument.Parse(l).RootElement.Clone())];

    private static int CountOf(string text, string part)
    {
        int count = 0;
        for (int i = text.IndexOf(part, StringComparison.Ordinal); i >= 0; i = text.IndexOf(part, i + 1, StringComparison.Ordinal)) count++;
        return count;
    }
}
