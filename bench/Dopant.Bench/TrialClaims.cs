using System.Diagnostics;
using Dopant.PostgreSql;
using Dopant.Trials;

namespace Dopant.Bench;

/// <summary>
/// `trial-claims --storage URL [--workers 16] [--trials 4000]`: how many no-op trials per second concurrent workers claim
/// and complete through PostgreSQL (each worker its own connection pool, heartbeats on), after queuing them.
/// </summary>
internal static class TrialClaims
{
    public static int Run(string[] args)
    {
        string storage = Value(args, "--storage") ?? throw new ArgumentException("--storage postgresql://user@host:port/database is required (PGPASSWORD for the password).");
        int workers = int.Parse(Value(args, "--workers") ?? "16"), trials = int.Parse(Value(args, "--trials") ?? "4000");
        PostgresUrl url = PostgresUrl.Parse(storage);
        string study = "claims-" + Guid.NewGuid().ToString("N")[..8];
        using (PostgresTrialStorage setup = PostgresTrialStorage.Open(url))
        {
            Study created = setup.CreateStudy(study, "{}");
            var queue = Stopwatch.StartNew();
            Parallel.For(0, trials, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i => setup.Enqueue(created, $"t{i}", "{}", 0));
            Console.WriteLine($"queued {trials:N0} trials in {queue.Elapsed.TotalSeconds:F2} s ({trials / queue.Elapsed.TotalSeconds:N0}/s, 8 connections)");
            setup.CloseStudy(created);
        }
        var options = new TrialWorkerOptions { HeartbeatInterval = TimeSpan.FromSeconds(5), Grace = TimeSpan.FromSeconds(30), PollInterval = TimeSpan.FromMilliseconds(50) };
        var clock = Stopwatch.StartNew();
        int[] completed = new int[workers];
        var threads = Enumerable.Range(0, workers).Select(w => new Thread(() =>
        {
            using PostgresTrialStorage storage = PostgresTrialStorage.Open(url);
            completed[w] = new TrialWorker(storage, $"bench-{w}", options).Run(study, _ => "{}");
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        double seconds = clock.Elapsed.TotalSeconds;
        Console.WriteLine($"{workers} workers claimed and completed {completed.Sum():N0} trials in {seconds:F2} s: {completed.Sum() / seconds:N0} trials/s " +
            $"(fewest by one worker {completed.Min():N0}, most {completed.Max():N0}; {Environment.ProcessorCount} cores)");
        return 0;
    }

    private static string? Value(string[] args, string name)
    {
        int at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? args[at + 1] : null;
    }
}
