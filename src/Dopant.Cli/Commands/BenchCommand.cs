using System.CommandLine;
using System.Text.Json;
using Dopant.Data;
using Dopant.Numerics;
using Dopant.Training;

namespace Dopant.Cli.Commands;

/// <summary><c>dopant bench train</c>: training throughput of the presets.</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var bench = new Command("bench", "Measure speed.");
        var train = new Command("train", "Training throughput (target tokens per second) of presets on a PTB-format folder.");
        var presets = new Option<string[]>("--preset") { Description = "Presets to measure (repeatable).", DefaultValueFactory = _ => ["small", "medium"], AllowMultipleArgumentsPerToken = true };
        var data = new Option<string?>("--data") { Description = "PTB-format folder; default: the cached brown-ptb." };
        var windows = new Option<int>("--windows") { Description = "Timed windows per preset (after 3 warm-up windows).", DefaultValueFactory = _ => 30 };
        var repeats = new Option<int>("--repeats") { Description = "Timed runs per preset; the median is reported.", DefaultValueFactory = _ => 3 };
        var json = new Option<bool>("--json") { Description = "Print one JSON object per preset." };
        var threads = ThreadsOption.Create();
        foreach (Option o in new Option[] { presets, data, windows, repeats, json, threads }) train.Options.Add(o);
        train.SetAction(parse =>
        {
            ThreadsOption.Apply(parse, threads);
            int timed = parse.GetValue(windows), runs = parse.GetValue(repeats);
            if (timed < 1 || runs < 1) throw new ArgumentException("--windows and --repeats must be at least 1.");
            PtbCorpus corpus = PtbCorpus.Load(DataCommand.ResolveDataFolder(parse.GetValue(data)));
            foreach (string preset in parse.GetValue(presets)!)
            {
                TrainingOptions options = TrainingOptions.FromPreset(preset);
                var trainer = new LanguageModelTrainer(options, corpus);
                var samples = new double[runs];
                for (int r = 0; r < runs; r++) samples[r] = trainer.MeasureThroughput(r == 0 ? 3 : 1, timed);
                Array.Sort(samples);
                double median = samples[runs / 2];
                if (parse.GetValue(json))
                    Console.WriteLine(JsonSerializer.Serialize(new { bench = "train", preset, tokens_per_s = median, samples, windows = timed, threads = WorkerPool.SharedThreadCount, sgemm_kernel = Blas.KernelName }));
                else
                    Console.WriteLine($"{preset,-8} {median,10:N0} tokens/s (median of {runs} runs of {timed} windows; {WorkerPool.SharedThreadCount} threads, {Blas.KernelName} SGEMM)");
            }
            return 0;
        });
        bench.Subcommands.Add(train);
        return bench;
    }
}
