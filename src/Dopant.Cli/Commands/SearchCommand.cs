using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Dopant.Search;
using Dopant.Training;
using Dopant.Trials;
using Dopant.IO;

namespace Dopant.Cli.Commands;

/// <summary>
/// <c>dopant search</c>: infers the level of a scheme that meets a perplexity constraint and maximizes an objective,
/// with Condensa's two-stage Bayesian search; every trial a scheme compression run.
/// </summary>
internal static class SearchCommand
{
    public static Command Create()
    {
        var command = new Command("search", "Infer the \"$level\" of a compression scheme: the most aggressive level within a perplexity " +
                                            "constraint, or the one with the best measured latency, by two-stage Bayesian search (at most --budget compression runs).");
        var from = new Option<string?>("--model") { Description = "The trained dense model (required unless --fetch-best)." };
        var output = new Option<string?>("--out") { Description = "The search folder: settings, trials, trial models, report, best.safetensors (required without --storage)." };
        var storage = new Option<string?>("--storage") { Description = "Queue the search as --study in this trial storage (a PostgreSQL URL or a folder) for 'dopant worker' processes on any machines, instead of running it here." };
        var study = new Option<string?>("--study") { Description = "With --storage: the study's name." };
        var fetchBest = new Option<string?>("--fetch-best") { Description = "With --storage and --study: print the search's result so far and write the chosen trial's model to this file." };
        var levels = new Option<string?>("--levels") { Description = "The level range LOW:HIGH, e.g. 2:50 for a factor (required unless --resume)." };
        var lowerMore = new Option<bool>("--lower-is-more") { Description = "A lower level compresses more (a density); default: a higher level does (a factor)." };
        var increase = new Option<double?>("--max-ppl-increase") { Description = "Constraint: validation perplexity at most this many percent above the dense model's (default 2)." };
        var absolute = new Option<double?>("--max-ppl") { Description = "Constraint: validation perplexity at most this value (instead of --max-ppl-increase)." };
        var objective = new Option<string>("--objective") { Description = "latency (measured runtime speed-up), memory (bytes) or parameters.", DefaultValueFactory = _ => "memory" };
        objective.AcceptOnlyFromAmong("latency", "memory", "parameters");
        var budget = new Option<int?>("--budget") { Description = "Trials at most (default 10)." };
        var data = new Option<string?>("--data") { Description = "PTB-format folder; default: the cached brown-ptb." };
        var resume = new Option<bool>("--resume") { Description = "Continue the search in --out." };
        var json = new Option<bool>("--json") { Description = "Print the result as one JSON object on standard output." };
        var threads = ThreadsOption.Create();
        var binder = new TrainingOptionsBinder();
        binder.AddTo(command);
        var run = new SchemeCompressOptions();
        Option<string?> scheme = run.Scheme;
        scheme.Description = "The scheme file, with a \"$level\" setting (required unless --resume).";
        Option[] searchOptions = [levels, lowerMore, increase, absolute, objective, budget, .. run.All.Where(o => o != run.Level)];
        foreach (Option o in (Option[])[.. searchOptions, from, output, data, resume, json, threads, storage, study, fetchBest]) command.Options.Add(o);

        command.SetAction((parse, cancellationToken) =>
        {
            ThreadsOption.Apply(parse, threads);
            if (parse.GetValue(storage) is not null || parse.GetValue(study) is not null || parse.GetValue(fetchBest) is not null)
            {
                string name = parse.GetValue(study) ?? throw new ArgumentException("--storage needs --study, the search's name.");
                if (parse.GetValue(storage) is null) throw new ArgumentException("--study and --fetch-best need --storage.");
                if (parse.GetValue(output) is not null || parse.GetValue(resume)) throw new ArgumentException("--storage searches keep their trials in the storage; drop --out and --resume.");
                using ITrialStorage trials = StorageOption.Open(parse.GetValue(storage)!);
                if (parse.GetValue(fetchBest) is string best)
                {
                    Study found = trials.FindStudy(name) ?? throw new ArgumentException($"No study '{name}' in {parse.GetValue(storage)}.");
                    (LevelSearchResult sofar, byte[]? model) = SchemeSearch.StudyResult(trials, found);
                    if (model is null) throw new ArgumentException($"Study '{name}' has chosen no level yet ({sofar.Trials.Count} finished trials, none within the constraint {sofar.Threshold:F2}).");
                    AtomicFile.Write(best, stream => stream.Write(model));
                    Console.WriteLine($"chosen level {sofar.ChosenLevel:G4} of {sofar.Trials.Count} finished trials: valid perplexity {sofar.Chosen!.ConstraintValue:F2} (limit {sofar.Threshold:F2}), objective {sofar.Chosen.ObjectiveValue:F2}x; model written to {best}");
                    return Task.FromResult(0);
                }
                SchemeSearchSettings queued = SettingsFrom(parse) ?? throw new ArgumentException("--scheme is required (a scheme file with a \"$level\" setting).");
                Study created = SchemeSearch.CreateStudy(trials, name, parse.GetValue(from) ?? throw new ArgumentException("--model is required: the trained dense model."),
                    Path.GetFullPath(DataCommand.ResolveDataFolder(parse.GetValue(data))), queued, line => Console.Error.WriteLine(line));
                Console.WriteLine($"search '{created.Name}' queued: start 'dopant worker --storage ... --study {created.Name}' on any number of machines, then 'dopant search --storage ... --study {created.Name} --fetch-best OUT'");
                return Task.FromResult(0);
            }
            string folder = DataCommand.ResolveDataFolder(parse.GetValue(data));
            string dir = parse.GetValue(output) ?? throw new ArgumentException("--out is required: the search folder (or give --storage and --study).");
            SchemeSearchSettings? settings = null;
            if (parse.GetValue(resume))
            {
                if (binder.AnyOverride(parse) || searchOptions.Any(o => parse.GetResult(o) is { Implicit: false }))
                    throw new ArgumentException("--resume continues with the settings stored in the search folder; drop the other options.");
            }
            else settings = SettingsFrom(parse) ?? throw new ArgumentException("--scheme is required (a scheme file with a \"$level\" setting).");
            LevelSearchResult result = SchemeSearch.Run(parse.GetValue(from) ?? throw new ArgumentException("--model is required: the trained dense model."), folder, dir, settings, line => Console.Error.WriteLine(line),
                new ConsoleProgress(), cancellationToken);

            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(new
                {
                    folder = dir,
                    chosen_level = result.ChosenLevel,
                    chosen = result.Chosen,
                    feasible_limit = result.FeasibleLimit,
                    threshold = result.Threshold,
                    trials = result.Trials,
                    model = result.Chosen is null ? null : Path.Combine(dir, "best.safetensors"),
                }, ModelCheckpoint.Json));
                return Task.FromResult(0);
            }
            Console.WriteLine(result.Chosen is { } c
                ? $"chosen level {c.Level:G4} (trial {c.Index} of {result.Trials.Count}): valid perplexity {c.ConstraintValue:F2} (limit {result.Threshold:F2}), objective {c.ObjectiveValue:F2}x; model {Path.Combine(dir, "best.safetensors")}, report {Path.Combine(dir, "report.md")}"
                : $"no level met the constraint (valid perplexity at most {result.Threshold:F2}) in {result.Trials.Count} trials; report {Path.Combine(dir, "report.md")}");
            return Task.FromResult(0);
        });

        // The settings of a new search from the command line, or null without --scheme.
        SchemeSearchSettings? SettingsFrom(ParseResult parse)
        {
            if (parse.GetValue(scheme) is null) return null;
            string range = parse.GetValue(levels) ?? throw new ArgumentException("--levels is required, e.g. 2:50.");
            string[] ends = range.Split(':');
            if (ends.Length != 2 || !double.TryParse(ends[0], CultureInfo.InvariantCulture, out double low) || !double.TryParse(ends[1], CultureInfo.InvariantCulture, out double high))
                throw new ArgumentException($"--levels must be LOW:HIGH, e.g. 2:50 (got '{range}').");
            if (parse.GetValue(increase) is not null && parse.GetValue(absolute) is not null)
                throw new ArgumentException("--max-ppl-increase and --max-ppl are alternatives; give one.");
            double? relative = parse.GetValue(absolute) is null ? (parse.GetValue(increase) ?? 2) / 100 : null;
            var runSettings = run.Settings(parse, binder, level: low);
            return new SchemeSearchSettings(runSettings with { Level = null }, new SearchDomain(low, high), !parse.GetValue(lowerMore),
                relative, parse.GetValue(absolute), Enum.Parse<SearchObjective>(parse.GetValue(objective)!, ignoreCase: true), parse.GetValue(budget) ?? 10);
        }

        return command;
    }
}
