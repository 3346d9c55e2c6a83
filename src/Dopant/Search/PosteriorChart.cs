using System.Globalization;
using System.Security;
using System.Text;

namespace Dopant.Search;

/// <summary>
/// A self-contained SVG chart of one Gaussian process of a <see cref="LevelSearch"/>: the posterior mean with a ±2σ
/// band over the domain, the trials as dots (stage 1 blue circles, stage 2 orange squares; hollow when infeasible),
/// the threshold as a dashed horizontal line, the chosen level as a vertical line, axes with ticks, and a legend.
/// </summary>
public static class PosteriorChart
{
    private const int Width = 760, Height = 440;
    private const int PlotLeft = 80, PlotRight = 590, PlotTop = 50, PlotBottom = 380;
    private const int CurvePoints = 201;
    private const string MeanColor = "#1f77b4", StageTwoColor = "#ff7f0e", ThresholdColor = "#d62728", ChosenColor = "#2ca02c";

    /// <summary>The chart of the constraint's posterior, with the threshold and the chosen level.</summary>
    /// <param name="result">A search's result with a constraint posterior.</param>
    /// <param name="title">The chart's title.</param>
    /// <param name="levelLabel">The horizontal axis' label.</param>
    /// <param name="valueLabel">The vertical axis' label.</param>
    /// <exception cref="ArgumentException">The result has no constraint posterior (no trial had a finite constraint value).</exception>
    public static string Constraint(LevelSearchResult result, string title = "Constraint", string levelLabel = "level", string valueLabel = "constraint")
    {
        ArgumentNullException.ThrowIfNull(result);
        GaussianProcess posterior = result.ConstraintPosterior
            ?? throw new ArgumentException("The search has no constraint posterior to chart.", nameof(result));
        return Render(posterior, result.Trials, t => t.ConstraintValue, title, levelLabel, valueLabel, result.Threshold, result.ChosenLevel);
    }

    /// <summary>The chart of the objective's posterior, with the chosen level.</summary>
    /// <param name="result">A search's result with an objective posterior.</param>
    /// <param name="title">The chart's title.</param>
    /// <param name="levelLabel">The horizontal axis' label.</param>
    /// <param name="valueLabel">The vertical axis' label.</param>
    /// <exception cref="ArgumentException">The result has no objective posterior (no trial had a finite objective).</exception>
    public static string Objective(LevelSearchResult result, string title = "Objective", string levelLabel = "level", string valueLabel = "objective")
    {
        ArgumentNullException.ThrowIfNull(result);
        GaussianProcess posterior = result.ObjectivePosterior
            ?? throw new ArgumentException("The search has no objective posterior to chart.", nameof(result));
        return Render(posterior, result.Trials, t => t.ObjectiveValue, title, levelLabel, valueLabel, threshold: null, result.ChosenLevel);
    }

    /// <summary>The chart of <paramref name="posterior"/> over its domain with the trials' values.</summary>
    /// <param name="posterior">The Gaussian process to draw.</param>
    /// <param name="trials">The trials to mark; those whose <paramref name="value"/> is null or not finite are left out.</param>
    /// <param name="value">The value of a trial that <paramref name="posterior"/> models.</param>
    /// <param name="title">The chart's title.</param>
    /// <param name="levelLabel">The horizontal axis' label.</param>
    /// <param name="valueLabel">The vertical axis' label.</param>
    /// <param name="threshold">A dashed horizontal line, or null.</param>
    /// <param name="chosenLevel">A vertical line, or null.</param>
    public static string Render(GaussianProcess posterior, IReadOnlyList<SearchTrial> trials, Func<SearchTrial, double?> value,
        string title, string levelLabel = "level", string valueLabel = "value", double? threshold = null, double? chosenLevel = null)
    {
        ArgumentNullException.ThrowIfNull(posterior);
        ArgumentNullException.ThrowIfNull(trials);
        ArgumentNullException.ThrowIfNull(value);
        ArgumentNullException.ThrowIfNull(title);
        SearchDomain domain = posterior.Domain;
        var levels = new double[CurvePoints];
        var means = new double[CurvePoints];
        var deviations = new double[CurvePoints];
        for (int i = 0; i < CurvePoints; i++)
        {
            levels[i] = domain.FromUnit((double)i / (CurvePoints - 1));
            GaussianProcessPrediction p = posterior.Predict(levels[i]);
            means[i] = p.Mean;
            deviations[i] = 2 * p.StandardDeviation;
        }
        List<(SearchTrial Trial, double Value)> samples = [.. trials
            .Select(t => (Trial: t, Value: value(t)))
            .Where(s => s.Value is { } v && double.IsFinite(v) && domain.Contains(s.Trial.Level))
            .Select(s => (s.Trial, s.Value!.Value))];

        IEnumerable<double> extents = means.Select((m, i) => m - deviations[i]).Concat(means.Select((m, i) => m + deviations[i]))
            .Concat(samples.Select(s => s.Value));
        if (threshold is { } h && double.IsFinite(h)) extents = extents.Append(h);
        double low = extents.Min(), high = extents.Max();
        if (!(high > low))
        {
            double pad = Math.Max(Math.Abs(low) * 0.05, 1);
            (low, high) = (low - pad, high + pad);
        }
        double yStep = NiceStep((high - low) / 5);
        double yMin = Math.Floor(low / yStep) * yStep, yMax = Math.Ceiling(high / yStep) * yStep;
        double xStep = NiceStep(domain.Width / 6);

        double X(double level) => PlotLeft + (level - domain.Lower) / domain.Width * (PlotRight - PlotLeft);
        double Y(double v) => PlotBottom - (v - yMin) / (yMax - yMin) * (PlotBottom - PlotTop);

        var svg = new StringBuilder();
        svg.Append(Invariant($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" viewBox=\"0 0 {Width} {Height}\" font-family=\"sans-serif\" font-size=\"12\">\n"));
        svg.Append(Invariant($"<rect width=\"{Width}\" height=\"{Height}\" fill=\"white\"/>\n"));
        svg.Append(Invariant($"<text class=\"title\" x=\"{(PlotLeft + PlotRight) / 2}\" y=\"28\" text-anchor=\"middle\" font-size=\"16\">{Escape(title)}</text>\n"));

        svg.Append("<g class=\"grid\" stroke=\"#e0e0e0\">\n");
        foreach (double tick in Ticks(yMin, yMax, yStep))
            svg.Append(Invariant($"<line x1=\"{PlotLeft}\" y1=\"{F(Y(tick))}\" x2=\"{PlotRight}\" y2=\"{F(Y(tick))}\"/>\n"));
        svg.Append("</g>\n");

        svg.Append("<path class=\"band\" fill=\"").Append(MeanColor).Append("\" fill-opacity=\"0.2\" stroke=\"none\" d=\"");
        for (int i = 0; i < CurvePoints; i++) svg.Append(i == 0 ? 'M' : 'L').Append(F(X(levels[i]))).Append(',').Append(F(Y(means[i] + deviations[i]))).Append(' ');
        for (int i = CurvePoints - 1; i >= 0; i--) svg.Append('L').Append(F(X(levels[i]))).Append(',').Append(F(Y(means[i] - deviations[i]))).Append(' ');
        svg.Append("Z\"/>\n");
        svg.Append("<polyline class=\"mean\" fill=\"none\" stroke=\"").Append(MeanColor).Append("\" stroke-width=\"2\" points=\"");
        for (int i = 0; i < CurvePoints; i++) svg.Append(F(X(levels[i]))).Append(',').Append(F(Y(means[i]))).Append(i + 1 < CurvePoints ? " " : "");
        svg.Append("\"/>\n");

        if (threshold is { } line && double.IsFinite(line))
            svg.Append(Invariant($"<line class=\"threshold\" x1=\"{PlotLeft}\" y1=\"{F(Y(line))}\" x2=\"{PlotRight}\" y2=\"{F(Y(line))}\" stroke=\"{ThresholdColor}\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\"/>\n"));
        if (chosenLevel is { } chosen && domain.Contains(chosen))
            svg.Append(Invariant($"<line class=\"chosen\" x1=\"{F(X(chosen))}\" y1=\"{PlotTop}\" x2=\"{F(X(chosen))}\" y2=\"{PlotBottom}\" stroke=\"{ChosenColor}\" stroke-width=\"2\"/>\n"));

        foreach ((SearchTrial trial, double v) in samples)
        {
            string color = trial.Stage == SearchStage.Objective ? StageTwoColor : MeanColor;
            string fill = trial.Feasible ? color : "white";
            if (trial.Stage == SearchStage.Objective)
                svg.Append(Invariant($"<rect class=\"trial objective\" x=\"{F(X(trial.Level) - 4.5)}\" y=\"{F(Y(v) - 4.5)}\" width=\"9\" height=\"9\" fill=\"{fill}\" stroke=\"{StageTwoColor}\" stroke-width=\"1.5\"><title>{Escape(Describe(trial, v))}</title></rect>\n"));
            else
                svg.Append(Invariant($"<circle class=\"trial level-set\" cx=\"{F(X(trial.Level))}\" cy=\"{F(Y(v))}\" r=\"5\" fill=\"{fill}\" stroke=\"{MeanColor}\" stroke-width=\"1.5\"><title>{Escape(Describe(trial, v))}</title></circle>\n"));
        }

        svg.Append("<g class=\"axes\" stroke=\"black\">\n");
        svg.Append(Invariant($"<line x1=\"{PlotLeft}\" y1=\"{PlotBottom}\" x2=\"{PlotRight}\" y2=\"{PlotBottom}\"/>\n"));
        svg.Append(Invariant($"<line x1=\"{PlotLeft}\" y1=\"{PlotTop}\" x2=\"{PlotLeft}\" y2=\"{PlotBottom}\"/>\n"));
        foreach (double tick in Ticks(domain.Lower, domain.Upper, xStep))
            svg.Append(Invariant($"<line x1=\"{F(X(tick))}\" y1=\"{PlotBottom}\" x2=\"{F(X(tick))}\" y2=\"{PlotBottom + 5}\"/>\n"));
        foreach (double tick in Ticks(yMin, yMax, yStep))
            svg.Append(Invariant($"<line x1=\"{PlotLeft - 5}\" y1=\"{F(Y(tick))}\" x2=\"{PlotLeft}\" y2=\"{F(Y(tick))}\"/>\n"));
        svg.Append("</g>\n");
        svg.Append("<g class=\"tick-labels\">\n");
        foreach (double tick in Ticks(domain.Lower, domain.Upper, xStep))
            svg.Append(Invariant($"<text x=\"{F(X(tick))}\" y=\"{PlotBottom + 19}\" text-anchor=\"middle\">{Label(tick, xStep)}</text>\n"));
        foreach (double tick in Ticks(yMin, yMax, yStep))
            svg.Append(Invariant($"<text x=\"{PlotLeft - 8}\" y=\"{F(Y(tick) + 4)}\" text-anchor=\"end\">{Label(tick, yStep)}</text>\n"));
        svg.Append("</g>\n");
        svg.Append(Invariant($"<text class=\"axis-label\" x=\"{(PlotLeft + PlotRight) / 2}\" y=\"{PlotBottom + 45}\" text-anchor=\"middle\">{Escape(levelLabel)}</text>\n"));
        svg.Append(Invariant($"<text class=\"axis-label\" x=\"20\" y=\"{(PlotTop + PlotBottom) / 2}\" text-anchor=\"middle\" transform=\"rotate(-90 20 {(PlotTop + PlotBottom) / 2})\">{Escape(valueLabel)}</text>\n"));

        AppendLegend(svg, threshold is { } t && double.IsFinite(t), chosenLevel is { } c && domain.Contains(c));
        svg.Append("</svg>\n");
        return svg.ToString();
    }

    private static void AppendLegend(StringBuilder svg, bool threshold, bool chosen)
    {
        int x = PlotRight + 20, y = PlotTop + 6;
        svg.Append("<g class=\"legend\">\n");
        svg.Append(Invariant($"<line x1=\"{x}\" y1=\"{y}\" x2=\"{x + 24}\" y2=\"{y}\" stroke=\"{MeanColor}\" stroke-width=\"2\"/><text x=\"{x + 32}\" y=\"{y + 4}\">posterior mean</text>\n"));
        y += 22;
        svg.Append(Invariant($"<rect x=\"{x}\" y=\"{y - 6}\" width=\"24\" height=\"12\" fill=\"{MeanColor}\" fill-opacity=\"0.2\"/><text x=\"{x + 32}\" y=\"{y + 4}\">±2σ</text>\n"));
        y += 22;
        svg.Append(Invariant($"<circle cx=\"{x + 12}\" cy=\"{y}\" r=\"5\" fill=\"{MeanColor}\" stroke=\"{MeanColor}\"/><text x=\"{x + 32}\" y=\"{y + 4}\">stage 1 trial</text>\n"));
        y += 22;
        svg.Append(Invariant($"<rect x=\"{x + 7.5}\" y=\"{y - 4.5}\" width=\"9\" height=\"9\" fill=\"{StageTwoColor}\" stroke=\"{StageTwoColor}\"/><text x=\"{x + 32}\" y=\"{y + 4}\">stage 2 trial</text>\n"));
        y += 22;
        svg.Append(Invariant($"<circle cx=\"{x + 12}\" cy=\"{y}\" r=\"5\" fill=\"white\" stroke=\"{MeanColor}\" stroke-width=\"1.5\"/><text x=\"{x + 32}\" y=\"{y + 4}\">infeasible</text>\n"));
        if (threshold)
        {
            y += 22;
            svg.Append(Invariant($"<line x1=\"{x}\" y1=\"{y}\" x2=\"{x + 24}\" y2=\"{y}\" stroke=\"{ThresholdColor}\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\"/><text x=\"{x + 32}\" y=\"{y + 4}\">threshold</text>\n"));
        }
        if (chosen)
        {
            y += 22;
            svg.Append(Invariant($"<line x1=\"{x}\" y1=\"{y}\" x2=\"{x + 24}\" y2=\"{y}\" stroke=\"{ChosenColor}\" stroke-width=\"2\"/><text x=\"{x + 32}\" y=\"{y + 4}\">chosen level</text>\n"));
        }
        svg.Append("</g>\n");
    }

    private static string Describe(SearchTrial trial, double value) =>
        Invariant($"trial {trial.Index} (stage {(int)trial.Stage}): level {trial.Level:G6}, value {value:G6}, {(trial.Feasible ? "feasible" : "infeasible")}");

    /// <summary>1, 2 or 5 times a power of ten, the smallest at least <paramref name="rough"/> (Heckbert's "nice numbers", Graphics Gems, 1990).</summary>
    private static double NiceStep(double rough)
    {
        double power = Math.Pow(10, Math.Floor(Math.Log10(rough)));
        double fraction = rough / power;
        return (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * power;
    }

    private static IEnumerable<double> Ticks(double low, double high, double step)
    {
        // Multiples of the step, computed from integers so rounding never skips or repeats one.
        long first = (long)Math.Ceiling(low / step - 1e-9), last = (long)Math.Floor(high / step + 1e-9);
        for (long k = first; k <= last; k++) yield return k * step;
    }

    private static string Label(double tick, double step)
    {
        int decimals = Math.Clamp(-(int)Math.Floor(Math.Log10(step)), 0, 10);
        return (Math.Abs(tick) < step * 1e-9 ? 0 : tick).ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
    }

    private static string F(double coordinate) => coordinate.ToString("0.##", CultureInfo.InvariantCulture);

    private static string Escape(string text) => SecurityElement.Escape(text) ?? "";

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
