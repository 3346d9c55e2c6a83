using System.Diagnostics;
using Dopant.Compression;
using Dopant.IO;
using Dopant.Trials;

namespace Dopant.Cli.Sweeps;

/// <summary>
/// Runs one sweep run as a child <c>dopant</c> process on this worker: a training run writes its checkpoint to a
/// private folder, which is copied into the storage whenever the run saves it (after every epoch; a scheme run's L-C
/// state after every iteration, packed with its output), and a run claimed again starts from the stored checkpoint
/// with <c>--resume</c>. A run taken from this worker is killed.
/// </summary>
internal sealed class SweepTrialRunner(int threads, Action<string> log)
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(250);

    /// <summary>Runs the trial's sweep run and returns its <c>--json</c> result line.</summary>
    /// <exception cref="InvalidOperationException">The run exited with an error; the message is its last line on standard error.</exception>
    public string Run(TrialContext context)
    {
        SweepRun run = SweepRun.FromPayload(context.Trial.Payload, context.Trial.MaxRetries);
        string folder = Directory.CreateTempSubdirectory("dopant-trial-").FullName;
        try
        {
            string model = Path.Combine(folder, "model.safetensors");
            List<string> arguments = [.. run.Arguments];
            bool scheme = arguments.Contains("--scheme");
            if (run.Trains && context.LoadCheckpoint() is { } checkpoint)
            {
                // A scheme run's checkpoint packs its output and its L-C state (SchemeRunCheckpoint).
                if (scheme) SchemeRunCheckpoint.Unpack(checkpoint, model);
                else AtomicFile.Write(model, stream => stream.Write(checkpoint));
                // A resumed run takes its options from the checkpoint; only where the data (and a scheme run's dense model) is may be given again.
                arguments = [run.Arguments[0], "--resume", .. Option(arguments, "--data"), .. scheme ? Option(arguments, "--model") : []];
                log($"{run.Name}: resuming from the stored checkpoint ({checkpoint.Length:N0} bytes)");
            }
            if (run.Trains) arguments.AddRange(["--out", model]);
            arguments.AddRange(["--json", "--threads", threads.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            return Execute(run, arguments, model, scheme, context);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    // The option and its value as given in the run's arguments, or nothing.
    private static string[] Option(List<string> arguments, string name)
    {
        int at = arguments.IndexOf(name);
        return at >= 0 && at + 1 < arguments.Count ? [name, arguments[at + 1]] : [];
    }

    private string Execute(SweepRun run, List<string> arguments, string model, bool scheme, TrialContext context)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!, [typeof(SweepTrialRunner).Assembly.Location, .. arguments])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            Environment = { [ParentProcessWatch.Variable] = Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture) },
        };
        using Process process = Process.Start(start)!;
        var output = new List<string>();
        string lastError = "";
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.Add(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (!string.IsNullOrWhiteSpace(e.Data)) lastError = e.Data; };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        DateTime saved = DateTime.MinValue;
        try
        {
            while (!process.WaitForExit(Poll))
            {
                context.Lost.ThrowIfCancellationRequested();
                saved = Upload(model, scheme, saved, context);
            }
            process.WaitForExit();
        }
        catch
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"dopant {string.Join(' ', run.Arguments.Take(2))} exited with code {process.ExitCode}: {lastError}");
        Upload(model, scheme, saved, context);
        lock (output)
            return output.LastOrDefault(l => l.StartsWith('{'))
                ?? throw new InvalidOperationException($"dopant {run.Arguments[0]} printed no JSON result.");
    }

    // The run's checkpoint, copied into the storage when the run has written a newer one (files are replaced atomically);
    // a scheme run's output and L-C state packed together.
    private DateTime Upload(string model, bool scheme, DateTime saved, TrialContext context)
    {
        string state = SchemeCompressionRun.StatePath(model);
        string[] files = scheme ? [model, state] : [model];
        DateTime written = files.Where(File.Exists).Select(File.GetLastWriteTimeUtc).DefaultIfEmpty(DateTime.MinValue).Max();
        if (written <= saved) return saved;
        byte[]? bytes;
        try
        {
            bytes = scheme ? SchemeRunCheckpoint.Pack(model) : File.ReadAllBytes(model);
        }
        catch (IOException)
        {
            return saved;  // replaced while read: the next poll takes the new one
        }
        if (bytes is null) return saved;
        context.SaveCheckpoint(bytes);
        log($"{context.Trial.Key}: checkpoint stored ({bytes.Length:N0} bytes)");
        return written;
    }
}
