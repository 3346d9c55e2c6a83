using System.Collections.Concurrent;
using System.Text.RegularExpressions;

namespace Dopant.Matrices;

/// <summary>
/// A regular expression over weight-matrix names (PyTorch's state-dict names) that must match a whole name, matched in
/// time linear in the name whatever the pattern.
/// </summary>
public sealed class NamePattern
{
    private const int MaxCompiled = 256;
    private static readonly ConcurrentDictionary<string, NamePattern> Compiled = new(StringComparer.Ordinal);
    private readonly Regex _regex;

    private NamePattern(string pattern, Regex regex)
    {
        Pattern = pattern;
        _regex = regex;
    }

    /// <summary>The pattern as written.</summary>
    public string Pattern { get; }

    /// <summary>Whether the pattern matches the whole of <paramref name="name"/>.</summary>
    public bool IsMatch(string name) => _regex.IsMatch(name);

    // Patterns come from scheme files and the command line: the non-backtracking engine matches in time linear in the
    // name whatever the pattern, so that one like (a+)+$ cannot stall a run; the timeout is a second line of defence.
    // Its automaton costs milliseconds to build, and a search builds the same scheme for every trial, hence the cache.
    /// <summary>Compiles <paramref name="pattern"/> (cached).</summary>
    /// <exception cref="ArgumentException">
    /// Not a valid regular expression, or a construct that linear-time matching does not support (backreferences,
    /// lookarounds, atomic groups, conditionals); the message quotes the pattern.
    /// </exception>
    public static NamePattern Parse(string pattern)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        if (Compiled.TryGetValue(pattern, out NamePattern? cached)) return cached;
        try
        {
            var compiled = new NamePattern(pattern, new Regex($"^(?:{pattern})$", RegexOptions.CultureInvariant | RegexOptions.NonBacktracking, TimeSpan.FromSeconds(1)));
            if (Compiled.Count >= MaxCompiled) Compiled.Clear();
            Compiled[pattern] = compiled;
            return compiled;
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"Invalid name pattern {DiagnosticText.Quote(pattern)}: {DiagnosticText.OneLine(e.Message)}", e);
        }
        catch (NotSupportedException e)
        {
            throw new ArgumentException(
                $"Name pattern {DiagnosticText.Quote(pattern)} uses a construct that linear-time matching does not support " +
                $"(backreferences, lookarounds, atomic groups): {DiagnosticText.OneLine(e.Message)}", e);
        }
    }
}
