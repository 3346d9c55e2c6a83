using System.Xml.Linq;
using Dopant.Search;

namespace Dopant.Tests.Search;

public class PosteriorChartTests
{
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    private static LevelSearchResult Search()
    {
        SyntheticCurve curve = SyntheticCurve.Named("linear");
        return new LevelSearch(curve.Options(LevelSearchGoal.MaximizeObjective))
            .Run(level => new LevelMeasurement(curve.Constraint(level), 1 + 3 * Math.Exp(-Math.Pow((curve.Aggression(level) - 0.25) / 0.2, 2))));
    }

    [Fact]
    public void The_constraint_chart_is_well_formed_SVG_with_every_element()
    {
        LevelSearchResult result = Search();
        string svg = PosteriorChart.Constraint(result, "Perplexity <vs> factor & more", "compression factor", "perplexity");
        XElement root = XDocument.Parse(svg).Root!;
        Assert.Equal(Svg + "svg", root.Name);
        Assert.Single(root.Descendants(Svg + "path"), e => (string?)e.Attribute("class") == "band");
        Assert.Single(root.Descendants(Svg + "polyline"), e => (string?)e.Attribute("class") == "mean");
        XElement threshold = Assert.Single(root.Descendants(Svg + "line"), e => (string?)e.Attribute("class") == "threshold");
        Assert.NotNull(threshold.Attribute("stroke-dasharray"));
        XElement chosen = Assert.Single(root.Descendants(Svg + "line"), e => (string?)e.Attribute("class") == "chosen");
        Assert.Equal(chosen.Attribute("x1")!.Value, chosen.Attribute("x2")!.Value);
        // The threshold is horizontal at 110 and the chosen line vertical at the chosen level: their positions agree with the axes.
        Assert.Equal(threshold.Attribute("y1")!.Value, threshold.Attribute("y2")!.Value);

        int stageOne = result.Trials.Count(t => t.Stage == SearchStage.LevelSet);
        int stageTwo = result.Trials.Count(t => t.Stage == SearchStage.Objective);
        Assert.True(stageTwo > 0);
        Assert.Equal(stageOne, root.Descendants(Svg + "circle").Count(e => (string?)e.Attribute("class") == "trial level-set"));
        Assert.Equal(stageTwo, root.Descendants(Svg + "rect").Count(e => (string?)e.Attribute("class") == "trial objective"));
        Assert.Equal(result.Trials.Count(t => !t.Feasible),
            root.Descendants().Count(e => ((string?)e.Attribute("class"))?.StartsWith("trial") == true && (string?)e.Attribute("fill") == "white"));

        string[] texts = [.. root.Descendants(Svg + "text").Select(e => e.Value)];
        Assert.Contains("Perplexity <vs> factor & more", texts);
        Assert.Contains("compression factor", texts);
        Assert.Contains("perplexity", texts);
        // Ticks on the level axis: the domain [2, 50] in steps of 10.
        Assert.Contains("10", texts);
        Assert.Contains("50", texts);
        Assert.Contains("threshold", texts);
        Assert.Contains("chosen level", texts);
        Assert.All(root.Descendants(Svg + "polyline").Single().Attribute("points")!.Value.Split(' '),
            point => Assert.Equal(2, point.Split(',').Select(double.Parse).Count()));
    }

    [Fact]
    public void The_objective_chart_has_no_threshold()
    {
        string svg = PosteriorChart.Objective(Search(), "Speed-up", "compression factor", "speed-up");
        XElement root = XDocument.Parse(svg).Root!;
        Assert.DoesNotContain(root.Descendants(Svg + "line"), e => (string?)e.Attribute("class") == "threshold");
        Assert.Single(root.Descendants(Svg + "line"), e => (string?)e.Attribute("class") == "chosen");
        Assert.Contains("Speed-up", root.Descendants(Svg + "text").Select(e => e.Value));
    }
}
