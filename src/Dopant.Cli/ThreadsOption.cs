using System.CommandLine;
using Dopant.Numerics;

namespace Dopant.Cli;

/// <summary><c>--threads N</c>: the size of the shared worker pool.</summary>
internal static class ThreadsOption
{
    public static Option<int?> Create() => new("--threads") { Description = "Worker threads (default: DOPANT_THREADS or the number of cores)." };

    public static void Apply(ParseResult parse, Option<int?> option)
    {
        int? threads = parse.GetValue(option);
        if (threads is null) return;
        if (threads < 1 || threads > WorkerPool.MaxThreadCount)
            throw new ArgumentException($"--threads must be between 1 and {WorkerPool.MaxThreadCount} (got {threads}); this machine has {Environment.ProcessorCount} cores.");
        WorkerPool.SharedThreadCount = threads.Value;
    }
}
