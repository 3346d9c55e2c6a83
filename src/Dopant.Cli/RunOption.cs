using System.CommandLine;
using Dopant.Cli.Runs;

namespace Dopant.Cli;

/// <summary>The <c>--run DIR</c> option of <c>train</c> and <c>compress</c>: a run folder for the training.</summary>
internal static class RunOption
{
    public static Option<string?> Create() => new("--run")
    {
        Description = "Run folder: writes DIR/run.json (the command line), the checkpoint DIR/models/NAME.safetensors (unless --out is given), " +
            "DIR/metrics.jsonl (training loss and sparsity every 2% of an epoch), and at the end DIR/results.jsonl, the compact file and " +
            "DIR/report.html; with --resume, continues the run in DIR.",
    };

    /// <summary>
    /// The checkpoint path and, with <c>--run</c>, the recorder of a new run (<paramref name="name"/>, <paramref name="method"/>,
    /// <paramref name="factor"/>): <c>--out</c> if given, else the run's model file.
    /// </summary>
    public static (string Checkpoint, TrainingRecorder? Recorder) Start(string? runFolder, string? output, string command, string name,
        string method, double factor, bool force)
    {
        if (runFolder is null)
        {
            string path = output ?? throw new ArgumentException("--out is required (the model file), unless --run gives a run folder.");
            if (File.Exists(path) && !force) throw new ArgumentException($"'{path}' exists; pass --resume to continue its run or --force to overwrite it.");
            return (path, null);
        }
        if (output is not null && File.Exists(output) && !force)
            throw new ArgumentException($"'{output}' exists; pass --resume to continue its run or --force to overwrite it.");
        return TrainingRunFolder.Start(new RunFolder(runFolder), command, name, method, factor, output, force);
    }

    /// <summary>The checkpoint to resume: <c>--out</c>, or the one of the run in <c>--run</c> (where <c>--out</c> is not needed).</summary>
    public static (string Checkpoint, TrainingRecorder? Recorder) Resume(string? runFolder, string? output, string command)
    {
        if (runFolder is null) return (output ?? throw new ArgumentException("--resume needs --out (the model file) or --run (the run folder)."), null);
        (string checkpoint, TrainingRecorder recorder) = TrainingRunFolder.Resume(new RunFolder(runFolder), command);
        if (output is not null && Path.GetFullPath(output) != Path.GetFullPath(checkpoint))
            throw new ArgumentException($"the run in '{runFolder}' keeps its checkpoint in '{checkpoint}', not '{output}'; drop --out.");
        return (checkpoint, recorder);
    }
}
