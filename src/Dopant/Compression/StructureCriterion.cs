namespace Dopant.Compression;

/// <summary>
/// How a structure (a row, a column, a block) of weights is scored for structured pruning. Every criterion is taken
/// over magnitudes and is comparable across structures of different sizes except <see cref="Sum"/>: the l2 norm is
/// divided by √size (the root mean square), which Condensa omits, so that its global threshold favours large blocks.
/// </summary>
public enum StructureCriterion
{
    /// <summary>Root mean square: ‖w‖₂ / √size.</summary>
    L2,

    /// <summary>Largest magnitude.</summary>
    Max,

    /// <summary>Smallest magnitude.</summary>
    Min,

    /// <summary>Mean magnitude.</summary>
    Mean,

    /// <summary>Sum of magnitudes (grows with the structure's size).</summary>
    Sum,
}

/// <summary>Accumulates the magnitudes of one structure into its <see cref="StructureCriterion"/> score.</summary>
internal struct StructureScore(StructureCriterion criterion)
{
    private double _sum, _squares, _max, _min = double.PositiveInfinity;
    private long _count;

    public void Add(float value)
    {
        double a = Math.Abs(value);
        _sum += a;
        _squares += a * a;
        _max = Math.Max(_max, a);
        _min = Math.Min(_min, a);
        _count++;
    }

    public readonly double Value => _count == 0 ? 0 : criterion switch
    {
        StructureCriterion.L2 => Math.Sqrt(_squares / _count),
        StructureCriterion.Max => _max,
        StructureCriterion.Min => _min,
        StructureCriterion.Mean => _sum / _count,
        StructureCriterion.Sum => _sum,
        _ => throw new ArgumentOutOfRangeException(nameof(criterion)),
    };

    /// <summary>Parses <c>l2</c>, <c>max</c>, <c>min</c>, <c>mean</c> or <c>sum</c>.</summary>
    public static StructureCriterion Parse(string text) => text switch
    {
        "l2" => StructureCriterion.L2,
        "max" => StructureCriterion.Max,
        "min" => StructureCriterion.Min,
        "mean" => StructureCriterion.Mean,
        "sum" => StructureCriterion.Sum,
        _ => throw new FormatException($"Unknown criterion '{text}'; expected l2, max, min, mean or sum."),
    };
}
