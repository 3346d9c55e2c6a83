using System.CommandLine;
using System.Text.Json;
using Dopant.Cli.Runs;
using Dopant.Data;
using Dopant.Models;
using Dopant.Numerics;
using Dopant.Training;

namespace Dopant.Cli.Commands;

/// <summary><c>dopant train</c>: trains a dense LSTM language model on a PTB-format folder.</summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var command = new Command("train", "Train an LSTM or GRU language model (Zaremba presets, every field overridable), or with --task a tagger or a sentence classifier; checkpoints after every epoch.");
        var data = new Option<string?>("--data") { Description = "PTB-format folder (train.txt, valid.txt, test.txt); default: the cached brown-ptb." };
        var output = new Option<string?>("--out") { Description = "Model file (safetensors), also the per-epoch checkpoint (required unless --run)." };
        var run = RunOption.Create();
        var resume = new Option<bool>("--resume") { Description = "Continue the run saved in --out (or in the --run folder)." };
        var force = new Option<bool>("--force") { Description = "Overwrite an existing --out file (with --run: delete that folder's run and start again)." };
        var json = new Option<bool>("--json") { Description = "Print the result as one JSON object on standard output." };
        var from = new Option<string?>("--model") { Description = "Fine-tune this dense model (its weights, architecture and vocabulary) instead of training a fresh one." };
        var threads = ThreadsOption.Create();
        var task = new Option<string?>("--task")
        {
            Description = "lm (a word language model), charlm (a character language model: single-character tokens, measured in bits per character), " +
                "tag (a tagger: word<TAB>tag lines, a blank line after each sentence) or classify (a classifier: label<TAB>text lines); " +
                "the files are train.txt, valid.txt and test.txt of --data. Default: inferred from --data's train.txt, else lm.",
        };
        task.AcceptOnlyFromAmong([.. CorpusTasks.All]);
        var bidirectional = new Option<bool?>("--bidirectional") { Description = "tag/classify: read every sentence backwards too (default: on for tag, off for classify)." };
        var pooling = new Option<string?>("--pooling") { Description = "classify: the sentence's features, final (the final states, default) or mean (the mean over its words)." };
        pooling.AcceptOnlyFromAmong("final", "mean");
        var minCount = new Option<int?>("--min-count") { Description = "tag/classify: training words seen fewer times read as <unk> (default 2)." };
        var maxLength = new Option<int?>("--max-length") { Description = "tag/classify: the longest training sentence or example accepted (default 250 for tag, 1000 for classify: brown-genre's examples reach 645 words)." };
        var binder = new TrainingOptionsBinder();
        binder.AddTo(command);
        foreach (Option o in new Option[] { data, output, run, from, resume, force, json, threads, task, bidirectional, pooling, minCount, maxLength }) command.Options.Add(o);

        command.SetAction((parse, cancellationToken) =>
        {
            ThreadsOption.Apply(parse, threads);
            string? labelerFile = parse.GetValue(resume) && (parse.GetValue(run) is { } runFolder ? TrainingRunFolder.CheckpointOf(new RunFolder(runFolder)) : parse.GetValue(output))
                is { } saved && LabelerCheckpoint.Holds(saved) ? saved : null;
            CorpusTask chosen = parse.GetValue(task) is string name ? CorpusTasks.Parse(name)
                : parse.GetValue(data) is string given && !parse.GetValue(resume) ? CorpusTasks.Infer(given) : CorpusTask.LanguageModel;
            if (chosen.IsLabeling() || labelerFile is not null || parse.GetValue(from) is { } tuned && LabelerCheckpoint.Holds(tuned))
            {
                string labeled = parse.GetValue(data) ?? throw new ArgumentException("--task tag and --task classify need --data, a folder of train.txt, valid.txt and test.txt.");
                LabelerOptions? options = null;
                if (parse.GetValue(resume))
                {
                    if (binder.AnyOverride(parse) || parse.GetValue(from) is not null)
                        throw new ArgumentException("--resume continues with the options stored in the checkpoint; drop the other training options.");
                }
                else if (parse.GetValue(from) is string start)
                {
                    if (parse.GetValue(bidirectional) is not null || parse.GetValue(pooling) is not null || parse.GetValue(minCount) is not null || parse.GetValue(maxLength) is not null)
                        throw new ArgumentException("--model fine-tunes that model with its architecture and vocabulary; drop --bidirectional, --pooling, --min-count and --max-length.");
                    LabelerOptions stored = LabelerCheckpoint.Load(start).Options ?? LabelerOptions.FromPreset(chosen.Labeling() == LabelingTask.Tagging ? "tagger" : "classifier");
                    if (parse.GetValue(run) is null && parse.GetValue(output) is { } existing && File.Exists(existing) && !parse.GetValue(force))
                        throw new ArgumentException($"'{existing}' exists; pass --resume to continue its run or --force to overwrite it.");
                    (string tunedPath, TrainingRecorder? tunedRecorder) = RunOption.Start(parse.GetValue(run), parse.GetValue(output), "train", "dense", "dense", 1, parse.GetValue(force));
                    LabelerCommands.Run(TrainingRuns.FineTuneLabeler(start, binder.BindLabeler(parse, stored), labeled), tunedPath, parse.GetValue(json), tunedRecorder, cancellationToken);
                    return Task.FromResult(0);
                }
                else
                {
                    LabelingTask labeling = chosen.Labeling();
                    if (labeling == LabelingTask.Tagging && parse.GetValue(pooling) is not null)
                        throw new ArgumentException("--pooling applies to --task classify; a tagger labels every word and pools nothing.");
                    options = binder.BindLabeler(parse, LabelerOptions.FromPreset(labeling == LabelingTask.Tagging ? "tagger" : "classifier"));
                    options = options with
                    {
                        Bidirectional = parse.GetValue(bidirectional) ?? options.Bidirectional,
                        Pooling = parse.GetValue(pooling) is "mean" ? SentencePooling.Mean : options.Pooling,
                        MinCount = parse.GetValue(minCount) ?? options.MinCount,
                        MaxLength = parse.GetValue(maxLength) ?? options.MaxLength,
                    };
                    options.Validate();
                }
                (string labelerPath, TrainingRecorder? labelerRecorder) = parse.GetValue(resume)
                    ? RunOption.Resume(parse.GetValue(run), parse.GetValue(output), "train")
                    : RunOption.Start(parse.GetValue(run), parse.GetValue(output), "train", "dense", "dense", 1, parse.GetValue(force));
                LabelerCommands.Train(options, labeled, labelerPath, parse.GetValue(resume), force: true, parse.GetValue(json), labelerRecorder, cancellationToken);
                return Task.FromResult(0);
            }
            if (parse.GetValue(bidirectional) is not null || parse.GetValue(pooling) is not null || parse.GetValue(minCount) is not null || parse.GetValue(maxLength) is not null)
                throw new ArgumentException("--bidirectional, --pooling, --min-count and --max-length apply to --task tag and --task classify.");
            bool characters = chosen == CorpusTask.CharacterLanguageModel;
            string folder = DataCommand.ResolveDataFolder(parse.GetValue(data), characters ? BrownDataset.Characters : BrownDataset.Ptb);
            LanguageModelTrainer trainer;
            string path;
            TrainingRecorder? recorder;
            if (parse.GetValue(resume))
            {
                if (binder.AnyOverride(parse) || parse.GetValue(from) is not null) throw new ArgumentException("--resume continues with the options stored in the checkpoint; drop the other training options.");
                (path, recorder) = RunOption.Resume(parse.GetValue(run), parse.GetValue(output), "train");
                trainer = Resume(path, folder);
            }
            else
            {
                TrainingOptions options = binder.Bind(parse, characters ? "charlm" : "small");
                trainer = parse.GetValue(from) is string start ? TrainingRuns.FineTune(start, options, folder) : new LanguageModelTrainer(options, PtbCorpus.Load(folder));
                (path, recorder) = RunOption.Start(parse.GetValue(run), parse.GetValue(output), "train", "dense", "dense", 1, parse.GetValue(force));
            }
            Execute(trainer, folder, path, parse.GetValue(json), recorder, cancellationToken);
            return Task.FromResult(0);
        });
        return command;
    }

    /// <summary>
    /// Runs <paramref name="trainer"/> with a progress display and a line per epoch on standard error, then prints the
    /// result (a table, or one JSON object with <paramref name="json"/>), including the compression accounting when the
    /// model's LSTM matrices are not all dense; with a <paramref name="recorder"/>, records the run in its folder.
    /// </summary>
    internal static void Execute(LanguageModelTrainer trainer, string folder, string path, bool json, TrainingRecorder? recorder,
        CancellationToken cancellationToken)
    {
        TrainingOptions o = trainer.Options;
        Console.Error.WriteLine($"training {trainer.Model.Config.Describe()} ({trainer.Model.ParameterCount:N0} parameters) on {folder}, " +
            $"{o.Epochs} epochs, bptt {o.Bptt}, batch {o.BatchSize}, {WorkerPool.SharedThreadCount} threads");
        trainer.EpochCompleted += e => Console.Error.WriteLine(
            $"epoch {e.Epoch}/{o.Epochs} done: train ppl {e.TrainPerplexity:F2}, valid ppl {e.ValidPerplexity:F2}" +
            (e.ValidPerplexityWithoutSparse is double off ? $" ({off:F2} without S)" : "") +
            (e.Sparsity is double s ? $", sparsity {s:P2}" : "") +
            $", lr {e.LearningRate:G4}, {e.TokensPerSecond:N0} tok/s; checkpoint {path}");
        trainer.Diverged += d => Console.Error.WriteLine(
            $"epoch {d.Epoch}/{o.Epochs} diverged {(d.Window > 0 ? $"at training window {d.Window}" : "by its end")} (loss {d.Loss:G4} per token): " +
            $"rolled back to the last good state; initial learning rate now {o.LearningRate * d.LearningRateScale:G4} ({d.LearningRateScale:G4} x --lr)");
        var console = new ConsoleProgress();
        TrainingResult result = trainer.Run(path, recorder?.Progress(trainer.Model, console) ?? console, cancellationToken);
        if (recorder is not null)
        {
            recorder.Complete(trainer, path, result);
            RunReport.Load(recorder.Run).Write();
            Console.Error.WriteLine($"run folder {recorder.Run.Path}: report {recorder.Run.Report}");
        }
        CompressionReport report = trainer.Model.CompressionReport();
        bool compressed = report.IsCompressed;
        bool characters = trainer.Corpus.Vocabulary.IsCharacterLevel;
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                model = path,
                valid_ppl = result.ValidPerplexity,
                test_ppl = result.TestPerplexity,
                valid_bpc = characters ? Math.Log2(result.ValidPerplexity) : (double?)null,
                test_bpc = characters ? Math.Log2(result.TestPerplexity) : (double?)null,
                tokens_per_s = result.TokensPerSecond,
                train_seconds = result.TrainSeconds,
                threads = WorkerPool.SharedThreadCount,
                compression = compressed ? report : null,
                lstm_parameter_factor = report.LstmParameterFactor,
                lstm_byte_factor = report.LstmByteFactor,
                options = o,
                epochs = result.History,
                divergences = result.Divergences,
            }, ModelCheckpoint.Json));
            return;
        }
        Console.WriteLine($"{"epoch",5} {"lr",8} {"train ppl",10} {"valid ppl",10} {"tok/s",9}");
        foreach (EpochResult e in result.History)
            Console.WriteLine($"{e.Epoch,5} {e.LearningRate,8:G4} {e.TrainPerplexity,10:F2} {e.ValidPerplexity,10:F2} {e.TokensPerSecond,9:N0}");
        if (compressed) Console.WriteLine(Describe(report));
        if (result.Divergences.Count > 0)
            Console.WriteLine($"{result.Divergences.Count} diverged epoch(s) rolled back; the learning rate ended at {result.Divergences[^1].LearningRateScale:G4} x the initial one");
        Console.WriteLine((characters
            ? $"valid {Math.Log2(result.ValidPerplexity):F4} bits per character, test {Math.Log2(result.TestPerplexity):F4} bits per character"
            : $"valid perplexity {result.ValidPerplexity:F2}, test perplexity {result.TestPerplexity:F2}") + $", {result.TokensPerSecond:N0} tokens/s; model saved to {path}");
    }

    /// <summary>The trainer that continues the run saved in <paramref name="path"/> on the corpus in <paramref name="folder"/>.</summary>
    internal static LanguageModelTrainer Resume(string path, string folder)
    {
        LanguageModelTrainer trainer = TrainingRuns.Resume(path, folder);
        Console.Error.WriteLine($"resuming '{path}' after epoch {trainer.EpochsCompleted} of {trainer.Options.Epochs}");
        return trainer;
    }

    /// <summary>One line of compression accounting.</summary>
    internal static string Describe(CompressionReport r) =>
        $"LSTM layers: {r.LstmParameters:N0} parameters ({r.LstmParameterFactor:F1}x compression of {r.DenseLstmParameters:N0}), " +
        $"{r.LstmBytes:N0} bytes ({r.LstmByteFactor:F1}x); whole model {r.ModelParameterFactor:F2}x parameters, {r.ModelByteFactor:F2}x bytes";
}
