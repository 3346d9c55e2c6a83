using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Dopant.IO;

namespace Dopant.Search;

/// <summary>
/// The trials of a <see cref="LevelSearch"/> in a JSON-lines file, one <see cref="SearchTrial"/> per line
/// (<c>{"index":0,"stage":"level_set","level":25,"constraint_value":131.2,"objective_value":2.4,"feasible":true}</c>),
/// so that a search killed between trials resumes without repeating one. Each append rewrites the whole file
/// atomically (<see cref="AtomicFile"/>): a crash leaves either the old trials or all of them.
/// </summary>
public sealed class SearchTrialStore
{
    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
        Converters = { new JsonStringEnumConverter<SearchStage>(JsonNamingPolicy.SnakeCaseLower, allowIntegerValues: false) },
    };

    /// <summary>A store in the file at <paramref name="path"/> (which need not exist yet).</summary>
    /// <param name="path">The JSON-lines file; its directory must exist when trials are appended.</param>
    public SearchTrialStore(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        Path = path;
    }

    /// <summary>The JSON-lines file.</summary>
    public string Path { get; }

    /// <summary>The stored trials in file order; none if the file does not exist. Blank lines are skipped.</summary>
    /// <exception cref="InvalidDataException">A line is not a valid trial; the message names the file and the line.</exception>
    public IReadOnlyList<SearchTrial> Load()
    {
        if (!File.Exists(Path)) return [];
        var trials = new List<SearchTrial>();
        int lineNumber = 0;
        foreach (string line in File.ReadLines(Path, Encoding.UTF8))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            SearchTrial? trial;
            try
            {
                trial = JsonSerializer.Deserialize<SearchTrial>(line, Json);
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"{Path}, line {lineNumber}: not a search trial ({e.Message}): {DiagnosticText.Quote(line)}", e);
            }
            trials.Add(trial ?? throw new InvalidDataException($"{Path}, line {lineNumber}: not a search trial: {DiagnosticText.Quote(line)}"));
        }
        return trials;
    }

    /// <summary>Adds <paramref name="trial"/> after the stored trials.</summary>
    /// <param name="trial">The next trial: its index must equal the number of stored trials.</param>
    /// <exception cref="ArgumentException">The trial's index is not the next one.</exception>
    /// <exception cref="InvalidDataException">The stored file is corrupt.</exception>
    public void Append(SearchTrial trial)
    {
        ArgumentNullException.ThrowIfNull(trial);
        IReadOnlyList<SearchTrial> stored = Load();
        if (trial.Index != stored.Count)
            throw new ArgumentException($"{Path} holds {stored.Count} trials, so the next has index {stored.Count}, not {trial.Index}.", nameof(trial));
        var text = new StringBuilder();
        foreach (SearchTrial t in stored.Append(trial)) text.Append(Serialize(t)).Append('\n');
        AtomicFile.WriteAllText(Path, text.ToString());
    }

    /// <summary>One trial as one line of JSON, without the line break.</summary>
    /// <param name="trial">The trial.</param>
    public static string Serialize(SearchTrial trial) => JsonSerializer.Serialize(trial, Json);
}
