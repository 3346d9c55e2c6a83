using System.Text.Json;

namespace Dopant.Cli.Runs;

/// <summary>
/// The run folder of one <c>dopant train</c> or <c>compress --method</c> run (<c>--run DIR</c>): <c>run.json</c>, the
/// checkpoint (<c>models/NAME.safetensors</c> unless <c>--out</c> puts it elsewhere), the curve, the result and the report.
/// </summary>
internal static class TrainingRunFolder
{
    /// <summary>Files a run writes, relative to its folder (besides the model's checkpoint and compact file).</summary>
    private static readonly string[] RunFiles = ["run.json", "metrics.jsonl", "results.jsonl", "report.html"];

    /// <summary>
    /// Starts a run in <paramref name="run"/>: refuses a folder that already holds one unless <paramref name="force"/>
    /// (which deletes that run's files, and nothing else), writes <c>run.json</c> and returns the checkpoint path and the recorder.
    /// </summary>
    public static (string Checkpoint, TrainingRecorder Recorder) Start(RunFolder run, string command, string name, string method, double factor,
        string? checkpoint, bool force)
    {
        if (File.Exists(run.Settings))
        {
            if (!force) throw new ArgumentException($"'{run.Path}' holds a run (run.json); pass --resume to continue it or --force to start again.");
            TrainingRunSettings old = Read(run);
            File.Delete(CheckpointPath(run, old));
            File.Delete(run.CompactModel(old.Name));
            foreach (string file in RunFiles) File.Delete(Path.Combine(run.Path, file));
        }
        string path = checkpoint ?? run.Model(name);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        string relative = Path.GetRelativePath(run.Path, path);
        string stored = relative.StartsWith("..", StringComparison.Ordinal) || Path.IsPathRooted(relative) ? Path.GetFullPath(path) : relative;
        var settings = new TrainingRunSettings(command, name, method, factor, stored, [.. Environment.GetCommandLineArgs().Skip(1)]);
        RunFolder.WriteAtomically(run.Settings, JsonSerializer.Serialize(settings, RunFolder.Json));
        return (path, new TrainingRecorder(run, name, method, factor));
    }

    /// <summary>The checkpoint of the run in <paramref name="run"/>, or null when the folder holds no run.</summary>
    public static string? CheckpointOf(RunFolder run) => File.Exists(run.Settings) ? CheckpointPath(run, Read(run)) : null;

    /// <summary>The checkpoint and recorder of the run in <paramref name="run"/>, to resume it.</summary>
    /// <exception cref="ArgumentException">The folder holds no run of <paramref name="command"/>.</exception>
    public static (string Checkpoint, TrainingRecorder Recorder) Resume(RunFolder run, string command)
    {
        if (!File.Exists(run.Settings)) throw new ArgumentException($"'{run.Path}' holds no run to resume (no run.json).");
        TrainingRunSettings settings = Read(run);
        if (settings.Command != command)
            throw new ArgumentException($"'{run.Path}' holds a 'dopant {settings.Command}' run; resume it with 'dopant {settings.Command} --run {run.Path} --resume'.");
        if (RunFolder.ReadLines<ModelResult>(run.Results).Any(r => r.Name == settings.Name))
            throw new ArgumentException($"the run in '{run.Path}' has finished; its report is {run.Report}.");
        string checkpoint = CheckpointPath(run, settings);
        if (!File.Exists(checkpoint))
            throw new ArgumentException($"the run in '{run.Path}' has no checkpoint yet ('{checkpoint}': it stopped before its first epoch ended); start it again with --force.");
        return (checkpoint, new TrainingRecorder(run, settings.Name, settings.Method, settings.Factor));
    }

    private static string CheckpointPath(RunFolder run, TrainingRunSettings settings) =>
        Path.IsPathRooted(settings.Checkpoint) ? settings.Checkpoint : Path.Combine(run.Path, settings.Checkpoint);

    private static TrainingRunSettings Read(RunFolder run)
    {
        try
        {
            return JsonSerializer.Deserialize<TrainingRunSettings>(File.ReadAllText(run.Settings), RunFolder.Json)
                is { Command: not null, Name: not null, Method: not null, Checkpoint: not null } settings
                ? settings : throw new JsonException("fields missing");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{run.Settings}' is not the settings of a train or compress run: {e.Message}");
        }
    }
}
