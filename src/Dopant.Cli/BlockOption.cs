using System.CommandLine;
using Dopant.Matrices;

namespace Dopant.Cli;

/// <summary><c>--block RxC</c>: parsed into a <see cref="BlockShape"/> where the command line is read, so the library never sees the text.</summary>
internal static class BlockOption
{
    public static Option<BlockShape?> Create(string description) => new("--block")
    {
        Description = description,
        CustomParser = result =>
        {
            string text = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
            try
            {
                return BlockShape.Parse(text);
            }
            catch (FormatException e)
            {
                result.AddError($"--block: {e.Message}");
                return null;
            }
        },
    };
}
