using System.CommandLine;
using Dopant.Cli.Sweeps;
using Dopant.Numerics;
using Dopant.PostgreSql;
using Dopant.Search;
using Dopant.Trials;

namespace Dopant.Cli.Commands;

/// <summary><c>dopant worker</c>: claims a study's trials from its storage and runs them until the study is done.</summary>
internal static class WorkerCommand
{
    public static Command Create()
    {
        var command = new Command("worker", "Run the trials of a study (dopant sweep queues them) stored in PostgreSQL, on any number of machines at once, or in a local folder, until the study is done; a trial whose worker dies is re-queued after the grace period and resumes from its last checkpoint.");
        var storage = StorageOption.Create();
        var study = new Option<string>("--study") { Description = "The study whose trials to run.", Required = true };
        var grace = new Option<double>("--grace") { Description = "Seconds a trial's heartbeat may be old before the trial is taken from its worker and re-queued.", DefaultValueFactory = _ => 30 };
        var heartbeat = new Option<double>("--heartbeat") { Description = "Seconds between heartbeats of a running trial.", DefaultValueFactory = _ => 5 };
        var data = new Option<string?>("--data") { Description = "For a search: the PTB-format folder on this machine; default: the cached brown-ptb." };
        var threads = ThreadsOption.Create();
        foreach (Option o in new Option[] { storage, study, grace, heartbeat, data, threads }) command.Options.Add(o);
        command.SetAction((parse, cancellationToken) =>
        {
            ThreadsOption.Apply(parse, threads);
            var options = new TrialWorkerOptions
            {
                Grace = TimeSpan.FromSeconds(parse.GetValue(grace)), HeartbeatInterval = TimeSpan.FromSeconds(parse.GetValue(heartbeat)),
            };
            options.Validate();
            using ITrialStorage trials = StorageOption.Open(parse, storage);
            var worker = new TrialWorker(trials, TrialWorker.DefaultName(), options);
            Action<string> log = line => Console.Error.WriteLine($"[{worker.Name}] {line}");
            Study found = trials.FindStudy(parse.GetValue(study)!) ?? throw new ArgumentException($"No study '{parse.GetValue(study)}' in {parse.GetValue(storage)}.");
            int completed = SchemeSearch.IsSearch(found)
                ? SchemeSearch.RunWorker(trials, found, DataCommand.ResolveDataFolder(parse.GetValue(data)), worker, log, null, cancellationToken)
                : worker.Run(found.Name, new SweepTrialRunner(WorkerPool.SharedThreadCount, log).Run, log, cancellationToken);
            Console.WriteLine($"study '{parse.GetValue(study)}' is done; this worker completed {completed} trial(s)");
            return Task.FromResult(0);
        });
        return command;
    }
}
