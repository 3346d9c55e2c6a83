using Dopant.Search;

namespace Dopant.Tests.Search;

/// <summary>
/// Constraint curves with a known crossing, standing in for "validation perplexity against compression level": each
/// grows with aggressiveness and crosses its threshold once.
/// </summary>
internal sealed record SyntheticCurve(string Name, SearchDomain Domain, bool HigherIsMoreAggressive, double Threshold, Func<double, double> Constraint)
{
    public static readonly SyntheticCurve[] All =
    [
        // 100·(1 + 0.3σ((x − 30)/3)) = 102 where σ = 1/15: x* = 30 − 3·ln 14 ≈ 22.08.
        new("sigmoid", new SearchDomain(2, 50), true, 102, x => 100 * (1 + 0.3 / (1 + Math.Exp(-(x - 30) / 3)))),
        // 100 + (x − 2)/2 = 110: x* = 22.
        new("linear", new SearchDomain(2, 50), true, 110, x => 100 + 0.5 * (x - 2)),
        // A sigmoid crossing near 27.2 plus a deterministic ripple of ±0.4 (the slope there is about 0.55 per unit).
        new("rippled", new SearchDomain(2, 50), true, 102.5, x => 100 * (1 + 0.2 / (1 + Math.Exp(-(x - 35) / 4))) + 0.4 * Math.Sin(3.7 * x)),
        // Flat, then a steep quartic rise: 100 + 20·u⁴ = 101 at u = 0.05^¼ ≈ 0.473, x* ≈ 24.7.
        new("late-quartic", new SearchDomain(2, 50), true, 101, x => 100 + 20 * Math.Pow((x - 2) / 48, 4)),
        // A density: less is more aggressive. 100·(1 + 0.5(1 − d)³) = 105 at d* = 1 − 0.1^⅓ ≈ 0.536.
        new("density", new SearchDomain(0.05, 1), false, 105, d => 100 * (1 + 0.5 * Math.Pow(1 - d, 3))),
    ];

    public static TheoryData<string> Names()
    {
        var data = new TheoryData<string>();
        foreach (SyntheticCurve curve in All) data.Add(curve.Name);
        return data;
    }

    public static SyntheticCurve Named(string name) => All.Single(c => c.Name == name);

    /// <summary>The most aggressive level up to which every level is feasible, found by a fine scan.</summary>
    public double Crossing
    {
        get
        {
            const int steps = 200_000;
            double last = Start;
            for (int i = 1; i <= steps; i++)
            {
                double level = Level((double)i / steps);
                if (Constraint(level) > Threshold) return last;
                last = level;
            }
            return last;
        }
    }

    /// <summary>The least aggressive end.</summary>
    public double Start => Level(0);

    /// <summary>The level at aggressiveness <paramref name="a"/> ∈ [0, 1].</summary>
    public double Level(double a) => HigherIsMoreAggressive ? Domain.Lower + a * Domain.Width : Domain.Upper - a * Domain.Width;

    /// <summary>How aggressive <paramref name="level"/> is, in [0, 1].</summary>
    public double Aggression(double level) => HigherIsMoreAggressive ? Domain.ToUnit(level) : 1 - Domain.ToUnit(level);

    public LevelSearchOptions Options(LevelSearchGoal goal) => new()
    {
        Domain = Domain,
        Threshold = Threshold,
        HigherIsMoreAggressive = HigherIsMoreAggressive,
        Goal = goal,
    };
}
