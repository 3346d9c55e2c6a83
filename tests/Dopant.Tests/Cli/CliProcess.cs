using System.Diagnostics;

namespace Dopant.Tests.Cli;

/// <summary>Runs the built <c>dopant</c> command (Dopant.Cli.dll beside the tests) as a child process.</summary>
internal static class CliProcess
{
    public sealed record Result(int ExitCode, string StandardOutput, string StandardError)
    {
        /// <summary>The non-empty lines written to standard error.</summary>
        public string[] ErrorLines => StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }

    public static Result Run(params string[] args)
    {
        using Running running = Start(args);
        if (!running.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            running.Kill();
            throw new TimeoutException($"dopant {string.Join(' ', args)} did not finish in 2 minutes.");
        }
        return running.Result;
    }

    /// <summary>Starts the command and returns at once.</summary>
    public static Running Start(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Dopant.Cli.dll"));
        foreach (string arg in args) start.ArgumentList.Add(arg);
        return new Running(Process.Start(start)!);
    }

    /// <summary>A started command, its output collected as it runs.</summary>
    public sealed class Running : IDisposable
    {
        private readonly Process _process;
        private readonly Task<string> _output, _error;

        internal Running(Process process)
        {
            _process = process;
            _output = process.StandardOutput.ReadToEndAsync();
            _error = process.StandardError.ReadToEndAsync();
        }

        public bool WaitForExit(TimeSpan timeout) => _process.WaitForExit(timeout);

        /// <summary>Kills the process (SIGKILL on Unix: no clean-up runs) and waits for it.</summary>
        public void Kill()
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        /// <summary>The finished command's exit code and output.</summary>
        public Result Result
        {
            get
            {
                _process.WaitForExit();
                return new Result(_process.ExitCode, _output.Result, _error.Result);
            }
        }

        public void Dispose() => _process.Dispose();
    }
}
