using System.Text.Json;

namespace Dopant.Trials;

/// <summary>
/// One run of a <see cref="SweepPlan"/>: a <c>dopant</c> command line (<c>train</c>, <c>compress</c>, <c>eval</c> or
/// <c>bench infer</c> with its options) under a name unique in the plan.
/// </summary>
/// <param name="Name">The run's name, its trial's key.</param>
/// <param name="Arguments">The command line after <c>dopant</c>, e.g. <c>["compress", "--method", "dkp", ...]</c>.</param>
/// <param name="MaxRetries">How often the run is claimed again after a failure or a lost worker.</param>
public sealed record SweepRun(string Name, IReadOnlyList<string> Arguments, int MaxRetries)
{
    private static readonly string[] Verbs = ["train", "compress", "eval", "bench"];

    // The worker owns where a run writes and how it reports: a plan may not set these.
    private static readonly string[] WorkerOptions = ["--out", "--run", "--json", "--threads", "--resume", "--force"];

    /// <summary>Whether the run trains a model (<c>train</c>, <c>compress</c>): its worker keeps the checkpoint in the storage and resumes from it.</summary>
    public bool Trains => Arguments[0] is "train" or "compress";

    /// <summary>The run as a trial's payload.</summary>
    public string ToPayload() => JsonSerializer.Serialize(new Dictionary<string, object> { ["name"] = Name, ["arguments"] = Arguments });

    /// <summary>The run a trial's payload describes.</summary>
    /// <exception cref="InvalidDataException">The payload is not a run.</exception>
    public static SweepRun FromPayload(string payload, int maxRetries)
    {
        try
        {
            JsonElement root = JsonDocument.Parse(payload).RootElement;
            return Checked(root.GetProperty("name").GetString()!, [.. root.GetProperty("arguments").EnumerateArray().Select(a => a.GetString()!)], maxRetries, "the trial");
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new InvalidDataException($"A trial's payload is not a sweep run: {e.Message}", e);
        }
    }

    internal static SweepRun Checked(string name, string[] arguments, int maxRetries, string where)
    {
        if (string.IsNullOrWhiteSpace(name)) throw new InvalidDataException($"{where}: a run has no \"name\".");
        if (arguments.Length == 0 || !Verbs.Contains(arguments[0]) || arguments[0] == "bench" && (arguments.Length < 2 || arguments[1] != "infer"))
            throw new InvalidDataException($"{where}: run '{name}' must start with train, compress, eval or bench infer (got '{string.Join(' ', arguments.Take(2))}').");
        if (arguments.FirstOrDefault(a => WorkerOptions.Contains(a)) is { } owned)
            throw new InvalidDataException($"{where}: run '{name}' gives {owned}, which the worker sets ({string.Join(", ", WorkerOptions)}).");
        if (maxRetries < 0) throw new InvalidDataException($"{where}: run '{name}' has \"max_retries\" {maxRetries}; it must be at least 0.");
        return new SweepRun(name, arguments, maxRetries);
    }
}

/// <summary>
/// An experiment grid to queue on workers: <c>{"max_retries": 2, "runs": [{"name": "dense", "command": ["train", "--preset",
/// "small"]}, ...]}</c>, each run's <c>max_retries</c> optional (default the plan's, else 2).
/// </summary>
public sealed record SweepPlan(IReadOnlyList<SweepRun> Runs)
{
    /// <summary>Reads and checks a plan file.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a plan, a run is malformed, or two runs share a name; the message names the file and the run.</exception>
    public static SweepPlan Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Plan file '{path}' does not exist.", path);
        JsonElement root;
        try
        {
            root = JsonDocument.Parse(File.ReadAllText(path)).RootElement;
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not JSON ({e.Message}).", e);
        }
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("runs", out JsonElement runs) || runs.ValueKind != JsonValueKind.Array || runs.GetArrayLength() == 0)
            throw new InvalidDataException($"{path}: a plan is an object with a non-empty \"runs\" list.");
        int defaultRetries = root.TryGetProperty("max_retries", out JsonElement r) && r.ValueKind == JsonValueKind.Number ? r.GetInt32() : 2;
        var parsed = new List<SweepRun>();
        int index = 0;
        foreach (JsonElement run in runs.EnumerateArray())
        {
            string where = $"{path}, run {index++}";
            if (run.ValueKind != JsonValueKind.Object || !run.TryGetProperty("name", out JsonElement name) || name.ValueKind != JsonValueKind.String
                || !run.TryGetProperty("command", out JsonElement command) || command.ValueKind != JsonValueKind.Array
                || command.EnumerateArray().Any(a => a.ValueKind != JsonValueKind.String))
                throw new InvalidDataException($"{where}: a run is {{\"name\": \"...\", \"command\": [\"train\", ...]}} (strings only).");
            int retries = run.TryGetProperty("max_retries", out JsonElement own) && own.ValueKind == JsonValueKind.Number ? own.GetInt32() : defaultRetries;
            parsed.Add(SweepRun.Checked(name.GetString()!, [.. command.EnumerateArray().Select(a => a.GetString()!)], retries, where));
        }
        if (parsed.GroupBy(p => p.Name).FirstOrDefault(g => g.Count() > 1) is { } twice)
            throw new InvalidDataException($"{path}: two runs are named '{twice.Key}'; names are the runs' keys.");
        return new SweepPlan(parsed);
    }
}
