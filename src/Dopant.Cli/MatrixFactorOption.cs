using System.CommandLine;
using Dopant.Matrices;

namespace Dopant.Cli;

/// <summary><c>--matrix-factor PATTERN=FACTOR</c>, repeatable: parsed into <see cref="MatrixFactor"/>s where the command line is read.</summary>
internal static class MatrixFactorOption
{
    public static Option<MatrixFactor[]> Create() => new("--matrix-factor")
    {
        Description = "A factor for the compressed matrices whose names match PATTERN, in place of --factor, e.g. 'encoder\\.weight|decoder\\.weight=5' " +
            "to compress the embedding and decoder 5x while --factor applies to the rest; repeatable, the first that matches wins.",
        Arity = ArgumentArity.OneOrMore,
        CustomParser = result =>
        {
            var parsed = new List<MatrixFactor>();
            foreach (var token in result.Tokens)
            {
                try
                {
                    parsed.Add(MatrixFactor.Parse(token.Value));
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

    /// <summary>The factors given, or null when none were.</summary>
    public static IReadOnlyList<MatrixFactor>? Get(ParseResult parse, Option<MatrixFactor[]> option) =>
        parse.GetValue(option) is { Length: > 0 } given ? given : null;
}
