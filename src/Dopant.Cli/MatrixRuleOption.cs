using System.CommandLine;
using Dopant.Matrices;

namespace Dopant.Cli;

/// <summary>
/// The per-matrix rules of a method run, repeatable: <c>--matrix-factor PATTERN=FACTOR</c> (<see cref="MatrixFactor"/>) and
/// <c>--matrix-method PATTERN=METHOD[:SHARE]</c> (<see cref="MatrixMethod"/>), parsed where the command line is read.
/// </summary>
internal static class MatrixRuleOption
{
    public static Option<MatrixFactor[]> Factors() => Create("--matrix-factor",
        "A factor for the compressed matrices whose names match PATTERN, in place of --factor, e.g. 'encoder\\.weight|decoder\\.weight=5' " +
        "to compress the embedding and decoder 5x while --factor applies to the rest; repeatable, the first that matches wins.", MatrixFactor.Parse);

    public static Option<MatrixMethod[]> Methods() => Create("--matrix-method",
        "A method for the compressed matrices whose names match PATTERN, in place of --method, optionally with its own doping share, " +
        "e.g. 'encoder\\.weight|decoder\\.weight=dlmf:0.5' for doped low rank in the embedding and decoder while --method applies to the rest; " +
        "repeatable, the first that matches wins.", MatrixMethod.Parse);

    /// <summary>The rules given, or null when none were.</summary>
    public static IReadOnlyList<T>? Get<T>(ParseResult parse, Option<T[]> option) =>
        parse.GetValue(option) is { Length: > 0 } given ? given : null;

    private static Option<T[]> Create<T>(string name, string description, Func<string, T> parse) => new(name)
    {
        Description = description,
        Arity = ArgumentArity.OneOrMore,
        CustomParser = result =>
        {
            var parsed = new List<T>();
            foreach (var token in result.Tokens)
            {
                try
                {
                    parsed.Add(parse(token.Value));
                }
                catch (ArgumentException e)
                {
                    result.AddError(e.Message);
                    return [];
                }
            }
            return [.. parsed];
        },
    };
}
