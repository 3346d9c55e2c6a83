using System.CommandLine;
using System.Text.Json;
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
        try
        {
            return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (Describe(e) is { } message)
        {
            Console.Error.WriteLine($"dopant: error: {message}");
            return e is DatasetUnavailableException ? Unavailable : BadInput;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("dopant: cancelled.");
            return 130;
        }
    }

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
