using System.CommandLine;
using Dopant.Inference;
using Dopant.Matrices;

namespace Dopant.Cli;

/// <summary><c>--precision fp32|fp16|int8</c>: how the streaming runtime stores a model's dense matrices.</summary>
internal static class PrecisionOption
{
    private static readonly Dictionary<string, WeightPrecision> Names = new()
    {
        ["fp32"] = WeightPrecision.Float32, ["fp16"] = WeightPrecision.Float16, ["int8"] = WeightPrecision.Int8,
    };

    public static Option<string> Create(string description) =>
        new("--precision") { Description = $"{description} (fp32, fp16 or int8, the last two with one scale per row).", DefaultValueFactory = _ => "fp32" };

    public static WeightPrecision Get(ParseResult parse, Option<string> option)
    {
        string name = parse.GetValue(option)!;
        return Names.TryGetValue(name, out WeightPrecision precision) ? precision
            : throw new ArgumentException($"--precision must be one of: {string.Join(", ", Names.Keys)} (got '{name}').");
    }
}
