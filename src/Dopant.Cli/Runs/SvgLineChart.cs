using System.Globalization;
using System.Net;
using System.Text;

namespace Dopant.Cli.Runs;

/// <summary>One line of a <see cref="SvgLineChart"/>: points joined in the order given, optionally dashed.</summary>
internal sealed record ChartSeries(string Label, string Color, IReadOnlyList<(double X, double Y)> Points, bool Dashed = false);

/// <summary>A line chart written as a self-contained SVG element (no scripts, no external resources).</summary>
internal sealed class SvgLineChart
{
    private const int Left = 70, Top = 36, Bottom = 46;

    public required string Title { get; init; }
    public required string XLabel { get; init; }
    public required string YLabel { get; init; }
    public bool LogX { get; init; }
    public bool LogY { get; init; }
    public int Width { get; init; } = 640;
    public int Height { get; init; } = 360;
    public int LegendWidth { get; init; } = 170;
    /// <summary>A dashed horizontal reference line (e.g. the dense baseline) and its label.</summary>
    public (double Y, string Label)? Reference { get; init; }

    public string Render(IReadOnlyList<ChartSeries> series)
    {
        var all = series.SelectMany(s => s.Points).Where(p => double.IsFinite(p.X) && double.IsFinite(p.Y)
            && (!LogX || p.X > 0) && (!LogY || p.Y > 0)).ToList();
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" font-family=\"sans-serif\" font-size=\"12\">");
        sb.Append(CultureInfo.InvariantCulture, $"<rect width=\"{Width}\" height=\"{Height}\" fill=\"white\"/>");
        sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{Width / 2}\" y=\"20\" text-anchor=\"middle\" font-size=\"14\">{Escape(Title)}</text>");
        if (all.Count == 0)
        {
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{Width / 2}\" y=\"{Height / 2}\" text-anchor=\"middle\">no data</text></svg>");
            return sb.ToString();
        }
        Func<double, double> fx = LogX ? Math.Log10 : v => v, fy = LogY ? Math.Log10 : v => v;
        double x0 = all.Min(p => fx(p.X)), x1 = all.Max(p => fx(p.X));
        var ys = all.Select(p => fy(p.Y)).ToList();
        if (Reference is { } r && (!LogY || r.Y > 0)) ys.Add(fy(r.Y));
        double y0 = ys.Min(), y1 = ys.Max();
        if (x1 - x0 < 1e-12) (x0, x1) = (x0 - 1, x1 + 1);
        double pad = 0.08 * (y1 - y0 > 1e-12 ? y1 - y0 : 1);
        (y0, y1) = (y0 - pad, y1 + pad);
        int right = Width - LegendWidth, bottom = Height - Bottom;
        double Px(double v) => Left + (fx(v) - x0) / (x1 - x0) * (right - Left);
        double Py(double v) => Top + (y1 - fy(v)) / (y1 - y0) * (bottom - Top);

        sb.Append(CultureInfo.InvariantCulture, $"<line x1=\"{Left}\" y1=\"{bottom}\" x2=\"{right}\" y2=\"{bottom}\" stroke=\"black\"/>");
        sb.Append(CultureInfo.InvariantCulture, $"<line x1=\"{Left}\" y1=\"{Top}\" x2=\"{Left}\" y2=\"{bottom}\" stroke=\"black\"/>");
        sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{(Left + right) / 2}\" y=\"{Height - 10}\" text-anchor=\"middle\">{Escape(XLabel)}</text>");
        sb.Append(CultureInfo.InvariantCulture, $"<text x=\"16\" y=\"{(Top + bottom) / 2}\" text-anchor=\"middle\" transform=\"rotate(-90 16 {(Top + bottom) / 2})\">{Escape(YLabel)}</text>");
        foreach (double v in Ticks(x0, x1, LogX))
        {
            sb.Append(CultureInfo.InvariantCulture, $"<line x1=\"{Px(v):F1}\" y1=\"{bottom}\" x2=\"{Px(v):F1}\" y2=\"{bottom + 5}\" stroke=\"black\"/>");
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{Px(v):F1}\" y=\"{bottom + 18}\" text-anchor=\"middle\">{v:G4}</text>");
        }
        foreach (double v in Ticks(y0, y1, LogY))
        {
            sb.Append(CultureInfo.InvariantCulture, $"<line x1=\"{Left - 5}\" y1=\"{Py(v):F1}\" x2=\"{Left}\" y2=\"{Py(v):F1}\" stroke=\"black\"/>");
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{Left - 8}\" y=\"{Py(v) + 4:F1}\" text-anchor=\"end\">{v:G4}</text>");
        }
        if (Reference is { } reference && (!LogY || reference.Y > 0))
        {
            sb.Append(CultureInfo.InvariantCulture, $"<line x1=\"{Left}\" y1=\"{Py(reference.Y):F1}\" x2=\"{right}\" y2=\"{Py(reference.Y):F1}\" stroke=\"black\" stroke-dasharray=\"6 4\"/>");
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{right + 6}\" y=\"{Py(reference.Y) + 4:F1}\">{Escape(reference.Label)}</text>");
        }
        for (int k = 0; k < series.Count; k++)
        {
            ChartSeries s = series[k];
            var points = s.Points.Where(p => double.IsFinite(p.X) && double.IsFinite(p.Y) && (!LogX || p.X > 0) && (!LogY || p.Y > 0)).ToList();
            string dash = s.Dashed ? " stroke-dasharray=\"4 3\"" : "";
            if (points.Count > 1)
                sb.Append(CultureInfo.InvariantCulture, $"<path d=\"{string.Join(' ', points.Select((p, i) => string.Create(CultureInfo.InvariantCulture, $"{(i == 0 ? 'M' : 'L')}{Px(p.X):F1},{Py(p.Y):F1}")))}\" fill=\"none\" stroke=\"{s.Color}\" stroke-width=\"2\"{dash}/>");
            if (points.Count < 12)
                foreach ((double x, double y) in points)
                    sb.Append(CultureInfo.InvariantCulture, $"<circle cx=\"{Px(x):F1}\" cy=\"{Py(y):F1}\" r=\"3\" fill=\"{s.Color}\"/>");
            int ly = Top + 14 + 16 * k;
            sb.Append(CultureInfo.InvariantCulture, $"<line x1=\"{right + 8}\" y1=\"{ly - 4}\" x2=\"{right + 28}\" y2=\"{ly - 4}\" stroke=\"{s.Color}\" stroke-width=\"2\"{dash}/>");
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{right + 32}\" y=\"{ly}\">{Escape(s.Label)}</text>");
        }
        sb.Append("</svg>");
        return sb.ToString();
    }

    // Axis ticks as values, about five at round numbers. A log axis takes 1, 2 and 5 times the powers of ten in its
    // range; one that spans too little for three of them takes round values of a linear axis over the same range.
    private static IEnumerable<double> Ticks(double lo, double hi, bool log)
    {
        if (!log) return LinearTicks(lo, hi);
        var ticks = new List<double>();
        for (int e = (int)Math.Floor(lo); e <= (int)Math.Ceiling(hi); e++)
            foreach (double m in new[] { 1.0, 2, 5 })
            {
                double v = m * Math.Pow(10, e);
                if (Math.Log10(v) >= lo - 1e-9 && Math.Log10(v) <= hi + 1e-9) ticks.Add(v);
            }
        return ticks.Count >= 3 ? ticks : LinearTicks(Math.Pow(10, lo), Math.Pow(10, hi)).Where(v => v > 0);
    }

    private static IEnumerable<double> LinearTicks(double lo, double hi)
    {
        double raw = (hi - lo) / 5, magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        double step = new[] { 1.0, 2, 5, 10 }.Select(m => m * magnitude).First(s => s >= raw);
        // + 0.0 turns a rounded -0 into 0, which would otherwise be labelled "-0".
        for (double v = Math.Ceiling(lo / step) * step; v <= hi + 1e-9 * step; v += step) yield return Math.Round(v / step) * step + 0.0;
    }

    private static string Escape(string text) => WebUtility.HtmlEncode(text);
}
