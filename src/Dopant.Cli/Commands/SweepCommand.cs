using System.CommandLine;
using System.Text;
using System.Text.Json;
using Dopant.IO;
using Dopant.PostgreSql;
using Dopant.Trials;

namespace Dopant.Cli.Commands;

/// <summary><c>dopant sweep</c>: queues an experiment grid in a trial storage for workers, reports its state, exports its results.</summary>
internal static class SweepCommand
{
    public static Command Create()
    {
        var command = new Command("sweep", "Queue an experiment grid (--plan) as a study in PostgreSQL (or a local folder) for 'dopant worker' processes to run, show the study's state, or --export its finished runs as JSON lines.");
        var storage = StorageOption.Create();
        var study = new Option<string>("--study") { Description = "The study's name.", Required = true };
        var plan = new Option<string?>("--plan") { Description = "A plan file: {\"max_retries\": 2, \"runs\": [{\"name\": \"dense\", \"command\": [\"train\", \"--preset\", \"small\"]}, ...]}; queues its runs and closes the study." };
        var export = new Option<string?>("--export") { Description = "Write one JSON line per finished run (name, command, state, attempts, result) to this file." };
        foreach (Option o in new Option[] { storage, study, plan, export }) command.Options.Add(o);
        command.SetAction(parse =>
        {
            string name = parse.GetValue(study)!;
            SweepPlan? grid = parse.GetValue(plan) is string file ? SweepPlan.Load(file) : null;
            using ITrialStorage trials = StorageOption.Open(parse, storage);
            if (grid is not null)
            {
                Study created = trials.CreateStudy(name, File.ReadAllText(parse.GetValue(plan)!));
                foreach (SweepRun run in grid.Runs) trials.Enqueue(created, run.Name, run.ToPayload(), run.MaxRetries);
                trials.CloseStudy(created);
                Console.WriteLine($"study '{name}': {grid.Runs.Count} run(s) queued; start 'dopant worker --storage ... --study {name}' on any number of machines");
            }
            Study found = trials.FindStudy(name) ?? throw new ArgumentException($"No study '{name}' in {parse.GetValue(storage)}; queue one with --plan.");
            IReadOnlyList<Trial> all = trials.Trials(found);
            if (parse.GetValue(export) is string output)
            {
                var text = new StringBuilder();
                foreach (Trial t in all.Where(t => t.State is TrialState.Complete or TrialState.Failed))
                {
                    SweepRun run = SweepRun.FromPayload(t.Payload, t.MaxRetries);
                    text.Append(JsonSerializer.Serialize(new
                    {
                        name = t.Key, command = "dopant " + string.Join(' ', run.Arguments), state = t.State.Name(), attempts = t.Attempts,
                        result = t.Result is null ? (JsonElement?)null : JsonDocument.Parse(t.Result).RootElement, error = t.Error,
                    })).Append('\n');
                }
                AtomicFile.WriteAllText(output, text.ToString());
                Console.WriteLine($"wrote {output}: {all.Count(t => t.State is TrialState.Complete or TrialState.Failed)} finished run(s) of {all.Count}");
            }
            Console.WriteLine($"study '{name}': " + string.Join(", ", Enum.GetValues<TrialState>().Select(s => $"{all.Count(t => t.State == s)} {s.Name()}")));
            return 0;
        });
        return command;
    }
}
