using System.CommandLine;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using System.Text.Json;
using System.Text.RegularExpressions;
using Dopant.Data;

namespace Dopant.Cli;

/// <summary>Turns the library's expected failures into one-line messages and exit codes.</summary>
internal static class CommandLineErrors
{
    /// <summary>Exit code for bad input: a missing or corrupt file, an invalid option value.</summary>
    public const int BadInput = 1;

    /// <summary>Exit code when something the command needs is unavailable (e.g. npm).</summary>
    public const int Unavailable = 3;

    public static int Invoke(RootCommand root, string[] args)
    {
        ParseResult parse = root.Parse(args);
        if (parse.Action is ParseErrorAction && parse.Errors.Count > 0 && args.Length > 0)
        {
            // System.CommandLine would print every error and then the whole help text; one line says what is wrong
            // (a bare 'dopant' still gets the help).
            Console.Error.WriteLine($"dopant: error: {Describe(parse.Errors[0])} (see '{CommandPath(parse.CommandResult)} --help').");
            return BadInput;
        }
        try
        {
            return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (Describe(e) is { } message)
        {
            Console.Error.WriteLine($"dopant: error: {OneLine(message)}");
            return e is DatasetUnavailableException ? Unavailable : BadInput;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("dopant: cancelled.");
            return 130;
        }
    }

    // "--method: Argument 'foo' not recognized. Must be one of: 'kp', 'dkp', ..." from the error and the option it concerns.
    private static string Describe(ParseError error)
    {
        string[] lines = error.Message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        string message = lines.Length == 0 ? "invalid command line" : lines[0] + (lines.Length > 1 ? " " + string.Join(", ", lines[1..]) : "");
        message = Regex.Replace(message, @" as expected type '([^']*)'", type =>
            type.Groups[1].Value.Contains("Int", StringComparison.Ordinal) ? " as an integer"
            : type.Groups[1].Value.Contains("Double", StringComparison.Ordinal) ? " as a number" : type.Value);
        Option? option = (error.SymbolResult as OptionResult ?? error.SymbolResult?.Parent as OptionResult)?.Option;
        return (option is null || message.Contains(option.Name, StringComparison.Ordinal) ? message : $"{option.Name}: {message}").TrimEnd('.');
    }

    // "dopant bench infer" for the command being parsed.
    private static string CommandPath(CommandResult command)
    {
        var names = new List<string>();
        for (CommandResult? at = command; at?.Parent is CommandResult parent; at = parent) names.Insert(0, at.Command.Name);
        return string.Join(' ', ["dopant", .. names]);
    }

    // Messages of lower layers may span lines (ArgumentOutOfRangeException adds "Actual value was ..."): one line.
    private static string OneLine(string message) =>
        string.Join(' ', message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    private static string? Describe(Exception e) => e switch
    {
        DatasetUnavailableException or InvalidDataException or FileNotFoundException or DirectoryNotFoundException
            or UnauthorizedAccessException or JsonException or KeyNotFoundException => e.Message,
        ArgumentException a => a.ParamName is null ? a.Message : a.Message.Replace($" (Parameter '{a.ParamName}')", ""),
        IOException io => io.Message,
        Dopant.Training.TrainingDivergedException d => d.Message,
        _ => null,
    };
}
