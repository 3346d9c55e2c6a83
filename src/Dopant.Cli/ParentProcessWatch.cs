using System.Diagnostics;

namespace Dopant.Cli;

/// <summary>
/// A run started by <c>dopant worker</c> exits when its worker dies (even by SIGKILL, which runs no clean-up): the worker
/// names itself in <see cref="Variable"/>, and the run checks every second that it is still there. Otherwise an orphaned
/// run would train on for nothing while its trial is re-queued elsewhere.
/// </summary>
internal static class ParentProcessWatch
{
    /// <summary>The environment variable holding the worker's process id.</summary>
    public const string Variable = "DOPANT_WORKER_PID";

    /// <summary>Starts the watch when this process was started by a worker.</summary>
    public static void ExitWithParent()
    {
        if (Environment.GetEnvironmentVariable(Variable) is not { } text || !int.TryParse(text, out int parent)) return;
        new Thread(() =>
        {
            while (Alive(parent)) Thread.Sleep(1000);
            Console.Error.WriteLine($"dopant: the worker (process {parent}) is gone; stopping this run");
            Environment.Exit(137);
        }) { IsBackground = true, Name = "dopant-parent-watch" }.Start();
    }

    private static bool Alive(int id)
    {
        try
        {
            using Process process = Process.GetProcessById(id);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
