using System.Globalization;
using System.Net;
using System.Text;
using Spectre.Console;

namespace Dopant.Cli.Runs;

/// <summary>
/// The report of a run folder, rebuilt from its stored results alone: a terminal table and one self-contained HTML
/// file (inline SVG charts, no scripts) with the table, perplexity against compression, the training curves (loss,
/// S sparsity, validation perplexity with S on and off: the co-matrix adaptation gap) and the speed chart.
/// </summary>
internal sealed class RunReport
{
    private static readonly string[] Palette = ["#d62728", "#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"];
    private readonly RunFolder _run;
    private readonly List<ModelResult> _results;
    private readonly Dictionary<string, SpeedResult> _speed;
    private readonly List<CurvePoint> _curve;

    private RunReport(RunFolder run, List<ModelResult> results, Dictionary<string, SpeedResult> speed, List<CurvePoint> curve) =>
        (_run, _results, _speed, _curve) = (run, results, speed, curve);

    /// <exception cref="ArgumentException">The folder holds no results.</exception>
    public static RunReport Load(RunFolder run)
    {
        if (!Directory.Exists(run.Path)) throw new ArgumentException($"Run folder '{run.Path}' does not exist.");
        var results = RunFolder.ReadLines<ModelResult>(run.Results);
        if (results.Count == 0) throw new ArgumentException($"'{run.Path}' holds no results yet ({Path.GetFileName(run.Results)} is missing or empty).");
        var speed = RunFolder.ReadLines<SpeedResult>(run.Speed).GroupBy(s => s.Name).ToDictionary(g => g.Key, g => g.Last());
        // A resumed run repeats the points of its interrupted epoch: the last one recorded for a position wins.
        var curve = RunFolder.ReadLines<CurvePoint>(run.Metrics).GroupBy(p => (p.Run, p.Position)).Select(g => g.Last())
            .OrderBy(p => p.Position).ToList();
        return new RunReport(run, results, speed, curve);
    }

    private ModelResult? Dense => _results.FirstOrDefault(r => r.Method == "dense");

    // Test perplexity against the dense model's (relative), or test accuracy (in percentage points) for a labeler.
    private string Change(ModelResult r) => Dense is not { } d || r == d ? "-"
        : r.Labeling is { } l && d.Labeling is { } dl ? ((l.TestAccuracy - dl.TestAccuracy) * 100).ToString("+0.00' pt';-0.00' pt'", CultureInfo.InvariantCulture)
        : r.TestPpl is { } ppl && d.TestPpl is { } densePpl ? (ppl / densePpl - 1).ToString("+0.0%;-0.0%", CultureInfo.InvariantCulture) : "-";

    // The test score as the table shows it: perplexity, or a labeler's accuracy.
    private static string TestScore(ModelResult r) => r.Labeling is { } l
        ? l.TestAccuracy.ToString("P2", CultureInfo.InvariantCulture) : r.TestPpl?.ToString("F2", CultureInfo.InvariantCulture) ?? "-";

    private static string ValidScore(ModelResult r) => r.Labeling is { } l
        ? l.ValidAccuracy.ToString("P2", CultureInfo.InvariantCulture) : r.ValidPpl?.ToString("F2", CultureInfo.InvariantCulture) ?? "-";

    private IEnumerable<ModelResult> Ordered => _results.OrderBy(r => r.Method == "dense" ? 0 : 1).ThenBy(r => r.Factor).ThenBy(r => r.Method);

    /// <summary>Prints the summary table to standard output (narrow enough for an 80-column terminal).</summary>
    public void PrintTable()
    {
        var table = new Table().Title(new TableTitle("Dopant run: recurrent layers compressed", Style.Plain));
        foreach (string column in new[] { "method", "factor", _results.Any(r => r.Labeling is not null) ? "test acc" : "test ppl", "vs dense", "file MB", "µs/token", "speed-up" })
            table.AddColumn(new TableColumn(column).RightAligned());
        foreach (ModelResult r in Ordered)
        {
            _speed.TryGetValue(r.Name, out SpeedResult? s);
            table.AddRow(r.Method, r.LstmParameterFactor.ToString("F1", CultureInfo.InvariantCulture) + "x",
                TestScore(r), Change(r), (r.FileBytes / 1e6).ToString("F2", CultureInfo.InvariantCulture),
                s is null ? "-" : s.RecurrentMicroseconds.ToString("F1", CultureInfo.InvariantCulture),
                s is null ? "-" : s.RecurrentSpeedup.ToString("F2", CultureInfo.InvariantCulture) + "x");
        }
        AnsiConsole.Write(table);
        Console.WriteLine("factor: compression of the LSTM layers' parameters; µs/token: the recurrent part (embedding row and LSTM layers), " +
            "batch 1, median of passes alternating with dense; file MB: the exported deployment file (10^6 bytes).");
        foreach (string line in EndToEndLines()) Console.WriteLine(line);
        foreach (ModelResult r in Ordered)
            foreach (Dopant.Training.DivergenceEvent d in r.Divergences ?? [])
                Console.WriteLine(Diverged(r, d));
    }

    private List<SpeedResult> References => [.. _speed.Values.Where(s => s.Reference)];

    // Every model's whole-model cost (softmax head included) against the references timed in the same run.
    private IEnumerable<string> EndToEndLines()
    {
        if (References.Count == 0) yield break;
        yield return "end to end (head included), µs/token: " + string.Join(", ", Ordered.Where(r => _speed.ContainsKey(r.Name))
            .Select(r => _speed[r.Name]).Concat(References).Select(s => string.Create(CultureInfo.InvariantCulture, $"{s.Name} {s.TotalMicroseconds:F1}")));
    }

    private static string Diverged(ModelResult r, Dopant.Training.DivergenceEvent d) => string.Create(CultureInfo.InvariantCulture,
        $"{r.Name}: epoch {d.Epoch} diverged (loss {d.Loss:G4} per token) and was rolled back and trained again at {d.LearningRateScale:G4} x the learning rate.");

    /// <summary>Writes <c>report.html</c> into the run folder (atomically).</summary>
    public void Write() => RunFolder.WriteAtomically(_run.Report, Html());

    public string Html()
    {
        var sb = new StringBuilder();
        sb.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Dopant report</title><style>")
          .Append("body{font-family:sans-serif;max-width:1000px;margin:2em auto;color:#222}table{border-collapse:collapse}")
          .Append("td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}th{background:#f4f4f4}td:first-child{text-align:left}")
          .Append("figure{margin:1.5em 0}</style></head><body>\n");
        sb.Append("<h1>Dopant report</h1>\n<p>Run folder <code>").Append(E(Path.GetFullPath(_run.Path))).Append("</code>. Rebuild with <code>dopant report ")
          .Append(E(_run.Path)).Append("</code>.</p>\n");
        if (File.Exists(_run.Settings))
            sb.Append("<p>Settings: <code>").Append(E(File.ReadAllText(_run.Settings).Trim())).Append("</code></p>\n");
        sb.Append("<h2>Results</h2>\n<table><tr><th>model</th><th>method</th><th>LSTM factor (params)</th><th>LSTM factor (bytes)</th><th>file bytes</th>")
          .Append(_results.Any(r => r.Labeling is not null) ? "<th>valid accuracy</th><th>test accuracy</th>" : "<th>valid ppl</th><th>test ppl</th>").Append("<th>vs dense</th><th>recurrent µs/token</th><th>speed-up</th><th>with decoder µs/token</th><th>speed-up</th></tr>\n");
        foreach (ModelResult r in Ordered)
        {
            _speed.TryGetValue(r.Name, out SpeedResult? s);
            sb.Append(CultureInfo.InvariantCulture, $"<tr><td>{E(r.Name)}</td><td>{E(r.Method)}</td><td>{r.LstmParameterFactor:F1}x</td><td>{r.LstmByteFactor:F1}x</td>")
              .Append(CultureInfo.InvariantCulture, $"<td>{r.FileBytes:N0}</td><td>{ValidScore(r)}</td><td>{TestScore(r)}</td><td>{Change(r)}</td>")
              .Append(s is null ? "<td>-</td><td>-</td><td>-</td><td>-</td>"
                  : string.Create(CultureInfo.InvariantCulture, $"<td>{s.RecurrentMicroseconds:F1}</td><td>{s.RecurrentSpeedup:F2}x</td><td>{s.TotalMicroseconds:F1}</td><td>{s.TotalSpeedup:F2}x</td>"))
              .Append("</tr>\n");
        }
        sb.Append("</table>\n");
        foreach (ModelResult r in Ordered)
            foreach (Dopant.Training.DivergenceEvent divergence in r.Divergences ?? [])
                sb.Append("<p><strong>").Append(E(Diverged(r, divergence))).Append("</strong></p>\n");
        sb.Append("<p>Speed: batch 1, token by token, every model timed in one process with passes alternating; medians")
          .Append(_speed.Values.FirstOrDefault() is { } any ? string.Create(CultureInfo.InvariantCulture, $", {any.Threads} thread(s)") : "").Append(".</p>\n");
        if (References.Count > 0) EndToEndTable(sb);

        var compressed = _results.Where(r => r.Method != "dense").ToList();
        var byMethod = compressed.GroupBy(r => r.Method).OrderBy(g => g.Key).ToList();
        if (_results.Any(r => r.Labeling is not null))
            Figure(sb, new SvgLineChart
            {
                Title = "Test accuracy against compression of the recurrent layers", XLabel = "compression factor (parameters, log scale)",
                YLabel = "test accuracy", LogX = true, Reference = Dense?.Labeling is { } dl ? (dl.TestAccuracy, "dense") : null,
            }.Render([.. byMethod.Select((g, k) => new ChartSeries(g.Key, Palette[k % Palette.Length],
                [.. g.Where(r => r.Labeling is not null).OrderBy(r => r.LstmParameterFactor).Select(r => (r.LstmParameterFactor, r.Labeling!.TestAccuracy))]))]));
        else
            Figure(sb, new SvgLineChart
            {
                Title = "Test perplexity against compression of the LSTM layers", XLabel = "compression factor (parameters, log scale)",
                YLabel = "test perplexity", LogX = true, Reference = Dense?.TestPpl is { } densePpl ? (densePpl, "dense") : null,
            }.Render([.. byMethod.Select((g, k) => new ChartSeries(g.Key, Palette[k % Palette.Length],
                [.. g.Where(r => r.TestPpl is not null).OrderBy(r => r.LstmParameterFactor).Select(r => (r.LstmParameterFactor, r.TestPpl!.Value))]))]));

        var names = _results.Select(r => r.Name).ToList();
        string Color(string name) => Palette[names.IndexOf(name) % Palette.Length];
        Figure(sb, new SvgLineChart { Title = "Training loss (mean so far in each epoch)", XLabel = "epoch", YLabel = "training loss" }
            .Render([.. names.Select(n => new ChartSeries(n, Color(n), [.. _curve.Where(p => p.Run == n).Select(p => (p.Position, p.Loss))]))]));
        Figure(sb, new SvgLineChart { Title = "Sparsity of S (doped) and of the pruned matrices", XLabel = "epoch", YLabel = "pruned fraction" }
            .Render([.. compressed.Select(r => new ChartSeries(r.Name, Color(r.Name),
                [.. _curve.Where(p => p.Run == r.Name && p.Sparsity is not null).Select(p => (p.Position, p.Sparsity!.Value))]))]));
        var doped = compressed.Where(r => r.Epochs.Any(e => e.ValidPerplexityWithoutSparse is not null)).ToList();
        if (doped.Count > 0)
            Figure(sb, new SvgLineChart
            {
                Title = "Co-matrix adaptation: validation perplexity with S on and off", XLabel = "epoch", YLabel = "validation perplexity (log scale)", LogY = true,
                LegendWidth = 200,
            }.Render([.. doped.SelectMany(r => new[]
            {
                new ChartSeries(r.Name + ", S on", Color(r.Name), [.. r.Epochs.Select(e => ((double)e.Epoch, e.ValidPerplexity))]),
                new ChartSeries(r.Name + ", S off", Color(r.Name), [.. r.Epochs.Where(e => e.ValidPerplexityWithoutSparse is not null)
                    .Select(e => ((double)e.Epoch, e.ValidPerplexityWithoutSparse!.Value))], Dashed: true),
            })]));
        if (_speed.Count > 0) Figure(sb, SpeedBars());
        sb.Append("</body></html>\n");
        return sb.ToString();
    }

    // The whole model with its softmax head: bytes the runtime reads and µs per token, against dense fp32 and each reference.
    private void EndToEndTable(StringBuilder sb)
    {
        var rows = Ordered.Where(r => _speed.ContainsKey(r.Name)).Select(r => _speed[r.Name]).Concat(References).ToList();
        SpeedResult? dense = Dense is { } d && _speed.TryGetValue(d.Name, out SpeedResult? s) ? s : null;
        sb.Append("<h2>End to end</h2>\n<table><tr><th>runtime, model</th><th>weight bytes (whole model)</th><th>with head µs/token</th><th>vs dense fp32</th>");
        foreach (SpeedResult reference in References) sb.Append("<th>vs ").Append(E(reference.Name)).Append("</th>");
        sb.Append("</tr>\n");
        foreach (SpeedResult row in rows)
        {
            sb.Append("<tr><td>").Append(E(row.Name)).Append("</td>")
              .Append(CultureInfo.InvariantCulture, $"<td>{(row.WeightBytes > 0 ? row.WeightBytes.ToString("N0", CultureInfo.InvariantCulture) : "-")}</td><td>{row.TotalMicroseconds:F1}</td>")
              .Append(dense is null ? "<td>-</td>" : string.Create(CultureInfo.InvariantCulture, $"<td>{dense.TotalMicroseconds / row.TotalMicroseconds:F2}x</td>"));
            foreach (SpeedResult reference in References)
                sb.Append(CultureInfo.InvariantCulture, $"<td>{reference.TotalMicroseconds / row.TotalMicroseconds:F2}x</td>");
            sb.Append("</tr>\n");
        }
        sb.Append("</table>\n<p>The same passes as above, the softmax head included: Dopant's dense model at int8 (one scale a row) and ONNX Runtime ")
          .Append("running the dense model's ONNX export (<code>dopant export --format onnx</code>) are what a user would otherwise deploy; ")
          .Append("a ratio above 1 is that many times faster than the runtime of its column.</p>\n");
    }

    // Horizontal bars: recurrent µs per token of every timed model, its speed-up over dense at the end of the bar.
    private string SpeedBars()
    {
        var rows = Ordered.Where(r => _speed.ContainsKey(r.Name)).Select(r => _speed[r.Name]).ToList();
        const int left = 110, barHeight = 22, top = 36;
        int width = 640, height = top + rows.Count * (barHeight + 8) + 30;
        double max = rows.Max(s => s.RecurrentMicroseconds);
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"12\">")
          .Append(CultureInfo.InvariantCulture, $"<rect width=\"{width}\" height=\"{height}\" fill=\"white\"/>")
          .Append(CultureInfo.InvariantCulture, $"<text x=\"{width / 2}\" y=\"20\" text-anchor=\"middle\" font-size=\"14\">Recurrent part, µs per token (batch 1)</text>");
        for (int k = 0; k < rows.Count; k++)
        {
            SpeedResult s = rows[k];
            double y = top + k * (barHeight + 8), w = s.RecurrentMicroseconds / max * (width - left - 150);
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{left - 8}\" y=\"{y + 15}\" text-anchor=\"end\">{E(s.Name)}</text>")
              .Append(CultureInfo.InvariantCulture, $"<rect x=\"{left}\" y=\"{y}\" width=\"{w:F1}\" height=\"{barHeight}\" fill=\"{(s.Name == "dense" ? "#7f7f7f" : "#1f77b4")}\"/>")
              .Append(CultureInfo.InvariantCulture, $"<text x=\"{left + w + 6:F1}\" y=\"{y + 15}\">{s.RecurrentMicroseconds:F1} µs ({s.RecurrentSpeedup:F2}x)</text>");
        }
        sb.Append("</svg>");
        return sb.ToString();
    }

    private static void Figure(StringBuilder sb, string svg) => sb.Append("<figure>").Append(svg).Append("</figure>\n");

    private static string E(string text) => WebUtility.HtmlEncode(text);
}
