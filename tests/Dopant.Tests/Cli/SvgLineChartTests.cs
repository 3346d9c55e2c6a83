using System.Text.RegularExpressions;
using Dopant.Cli.Runs;

namespace Dopant.Tests.Cli;

public class SvgLineChartTests
{
    // The tick labels of the y axis: the end-anchored texts left of the axis.
    private static string[] YLabels(string svg) =>
        [.. Regex.Matches(svg, "<text x=\"62\" y=\"[0-9.]+\" text-anchor=\"end\">([^<]*)</text>").Select(m => m.Groups[1].Value)];

    [Fact]
    public void A_log_axis_spanning_less_than_a_decade_gets_round_linear_labels()
    {
        string svg = new SvgLineChart { Title = "t", XLabel = "x", YLabel = "y", LogY = true }
            .Render([new ChartSeries("s", "#000", [(1, 372), (2, 423)])]);
        string[] labels = YLabels(svg);
        Assert.True(labels.Length >= 3, $"labels: {string.Join(", ", labels)}");
        Assert.All(labels, l => Assert.True(double.Parse(l) is >= 360 and <= 430, l));
    }

    [Fact]
    public void A_log_axis_over_decades_keeps_one_two_five_labels()
    {
        string svg = new SvgLineChart { Title = "t", XLabel = "x", YLabel = "y", LogY = true }
            .Render([new ChartSeries("s", "#000", [(1, 150), (2, 1100)])]);
        Assert.Equal(["200", "500", "1000"], YLabels(svg));
    }

    [Fact]
    public void A_linear_axis_from_zero_labels_zero_without_a_sign()
    {
        string svg = new SvgLineChart { Title = "t", XLabel = "x", YLabel = "y" }
            .Render([new ChartSeries("s", "#000", [(0, 0), (1, 0.4), (2, 1)])]);
        string[] labels = YLabels(svg);
        Assert.Contains("0", labels);
        Assert.DoesNotContain("-0", labels);
    }
}
