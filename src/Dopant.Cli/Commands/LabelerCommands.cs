using System.CommandLine;
using System.Text;
using System.Text.Json;
using Dopant.Cli.Runs;
using Dopant.Compression;
using Dopant.Data;
using Dopant.Inference;
using Dopant.Matrices;
using Dopant.Models;
using Dopant.Numerics;
using Dopant.Training;

namespace Dopant.Cli.Commands;

/// <summary>
/// Taggers and sentence classifiers on the command line: <c>train --task tag|classify</c>, <c>eval</c> of their files,
/// and the commands <c>tag</c> and <c>classify</c> that label text.
/// </summary>
internal static class LabelerCommands
{
    /// <summary>Trains (or resumes) a tagger or classifier into <paramref name="path"/> and prints the result.</summary>
    public static void Train(LabelerOptions? options, string folder, string path, bool resume, bool force, bool json, TrainingRecorder? recorder,
        CancellationToken cancellationToken)
    {
        LabelerTrainer trainer;
        if (resume)
        {
            LabelerCheckpoint checkpoint = LabelerCheckpoint.Load(path);
            LabelerOptions stored = checkpoint.Options ?? throw new InvalidDataException($"'{path}' holds no training options: it is not a training checkpoint.");
            trainer = LabelerTrainer.Resume(checkpoint, LabeledCorpus.Load(folder, stored.Task, checkpoint.Vocabulary, checkpoint.Labels));
            Console.Error.WriteLine($"resuming '{path}' after epoch {trainer.EpochsCompleted} of {stored.Epochs}");
        }
        else
        {
            ArgumentNullException.ThrowIfNull(options);
            if (File.Exists(path) && !force) throw new ArgumentException($"'{path}' exists; pass --resume to continue its run or --force to overwrite it.");
            trainer = new LabelerTrainer(options, LabeledCorpus.Load(folder, options.Task, minCount: options.MinCount));
        }
        Run(trainer, path, json, recorder, cancellationToken);
    }

    /// <summary>
    /// Runs <paramref name="trainer"/> with a progress display and a line per epoch, then prints the result; with a
    /// <paramref name="recorder"/>, records the run in its folder and rebuilds the folder's report.
    /// </summary>
    public static void Run(LabelerTrainer trainer, string path, bool json, TrainingRecorder? recorder, CancellationToken cancellationToken)
    {
        string folder = trainer.Corpus.Folder;
        LabelerOptions o = trainer.Options;
        SentenceModelConfig c = trainer.Model.Config;
        Console.Error.WriteLine($"training a {(o.Task == LabelingTask.Tagging ? "tagger" : "classifier")}: {c.DescribeLayers()} " +
            $"{(c.Bidirectional ? "bidirectional " : "")}{c.Cell.Name().ToUpperInvariant()}, embedding {c.EmbeddingSize}, vocabulary {c.VocabularySize}, " +
            $"{c.LabelCount} labels ({trainer.Model.Parameters.Sum(p => (long)p.Length):N0} parameters) on {folder}, {trainer.Corpus.Train.Count:N0} training " +
            $"{(o.Task == LabelingTask.Tagging ? "sentences" : "examples")}, {o.Epochs} epochs, {WorkerPool.SharedThreadCount} threads" +
            (o.Compression is { } method ? $"; {method.Describe()} of {(method.Matrices is null ? "the recurrent matrices" : $"/{method.Matrices}/")}" : ""));
        trainer.EpochCompleted += e => Console.Error.WriteLine(
            $"epoch {e.Epoch}/{o.Epochs} done: train loss {e.TrainLoss:F4}, valid accuracy {e.Valid.Accuracy:P2}, macro-F1 {e.Valid.MacroF1:F4}, " +
            (e.Sparsity is double sparsity ? $"sparsity {sparsity:P2}, " : "") +
            $"lr {e.LearningRate:G4}, {e.LabelsPerSecond:N0} labels/s; checkpoint {path}");
        trainer.Diverged += d => Console.Error.WriteLine(
            $"epoch {d.Epoch}/{o.Epochs} diverged at batch {d.Window} (loss {d.Loss:G4} per label): rolled back to the epoch's start; " +
            $"initial learning rate now {o.LearningRate * d.LearningRateScale:G4} ({d.LearningRateScale:G4} x --lr)");
        var console = new ConsoleProgress();
        (LabelingScore valid, LabelingScore test) = trainer.Run(path, recorder?.Progress(trainer.Model, console) ?? console, cancellationToken);
        if (recorder is not null)
        {
            recorder.Complete(trainer, path, valid, test);
            RunReport.Load(recorder.Run).Write();
        }
        if (json)
        {
            CompressionReport report = trainer.Model.CompressionReport();
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                model = path, task = TaskName(o.Task), valid, test, compression = report.IsCompressed ? report : null,
                lstm_parameter_factor = report.LstmParameterFactor, lstm_byte_factor = report.LstmByteFactor,
                options = o, epochs = trainer.History, divergences = trainer.Divergences,
            }, ModelCheckpoint.Json));
            return;
        }
        Console.WriteLine($"{"epoch",5} {"lr",9} {"train loss",10} {"valid acc",10} {"macro-F1",9}");
        foreach (LabelerEpoch e in trainer.History)
            Console.WriteLine($"{e.Epoch,5} {e.LearningRate,9:G4} {e.TrainLoss,10:F4} {e.Valid.Accuracy,10:P2} {e.Valid.MacroF1,9:F4}");
        Console.WriteLine($"{Describe("valid", valid, o.Task)}\n{Describe("test", test, o.Task)}\nmodel saved to {path}");
    }

    /// <summary>Scores a tagger's or classifier's file on the validation and test files of <paramref name="folder"/>.</summary>
    public static void Evaluate(string path, string folder, bool json)
    {
        LabelerCheckpoint checkpoint = LabelerCheckpoint.Load(path);
        LabelingTask task = checkpoint.Model.Config.Head == LabelHead.TokenLabels ? LabelingTask.Tagging : LabelingTask.Classification;
        LabeledCorpus corpus = LabeledCorpus.Load(folder, task, checkpoint.Vocabulary, checkpoint.Labels);
        LabelerOptions options = checkpoint.Options ?? new LabelerOptions { Task = task };
        LabelingScore valid = LabelerTrainer.Evaluate(checkpoint.Model, corpus.Valid, corpus, options);
        LabelingScore test = LabelerTrainer.Evaluate(checkpoint.Model, corpus.Test, corpus, options);
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new { model = path, task = TaskName(task), valid, test }, ModelCheckpoint.Json));
            return;
        }
        Console.WriteLine($"{Describe("valid", valid, task)}\n{Describe("test", test, task)}");
    }

    /// <summary><c>dopant tag</c> and <c>dopant classify</c>: label the lines of a text file.</summary>
    public static Command CreateLabelCommand(LabelingTask task)
    {
        bool tagging = task == LabelingTask.Tagging;
        var command = new Command(tagging ? "tag" : "classify", tagging
            ? "Tag every word of a text file (one sentence a line, words separated by spaces): prints word<TAB>tag lines, a blank line after each sentence."
            : "Classify every line of a text file (one example a line, words separated by spaces): prints one label a line.");
        var model = new Option<string>("--model") { Description = $"A {(tagging ? "tagger" : "classifier")} file from train --task {(tagging ? "tag" : "classify")}.", Required = true };
        var text = new Option<string>("--text") { Description = "The text file.", Required = true };
        var threads = ThreadsOption.Create();
        var precision = PrecisionOption.Create("How the streaming runtime of a unidirectional model stores its dense matrices; a bidirectional model runs whole sentences in fp32");
        foreach (Option o in new Option[] { model, text, precision, threads }) command.Options.Add(o);
        command.SetAction(parse =>
        {
            ThreadsOption.Apply(parse, threads);
            string path = parse.GetValue(model)!, textPath = parse.GetValue(text)!;
            LabelerCheckpoint checkpoint = LabelerCheckpoint.Load(path);
            LabelHead expected = tagging ? LabelHead.TokenLabels : LabelHead.SequenceLabel;
            if (checkpoint.Model.Config.Head != expected)
                throw new ArgumentException($"'{path}' is a {(tagging ? "classifier" : "tagger")}; use dopant {(tagging ? "classify" : "tag")}.");
            if (!File.Exists(textPath)) throw new FileNotFoundException($"Text file '{textPath}' does not exist.", textPath);
            Vocabulary vocabulary = checkpoint.Vocabulary;
            SentenceLabeler<float> labeler = checkpoint.Model;
            WeightPrecision weights = PrecisionOption.Get(parse, precision);
            if (labeler.Config.Bidirectional && weights != WeightPrecision.Float32)
                throw new ArgumentException($"'{path}' is bidirectional: it runs whole sentences in fp32 (--precision applies to unidirectional models, which stream).");
            StreamingLabeler? streaming = labeler.Config.Bidirectional ? null : StreamingLabeler.From(labeler, weights);
            int classes = labeler.Config.LabelCount, number = 0;
            var logits = new float[classes];
            var output = new StringBuilder();
            foreach (string line in File.ReadLines(textPath))
            {
                number++;
                string[] words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                if (words.Length == 0) throw new InvalidDataException($"'{textPath}' line {number}: the sentence is empty.");
                int[] tokens = [.. words.Select(vocabulary.GetIdOrUnknown)];
                if (streaming is not null)
                {
                    streaming.Reset();
                    for (int t = 0; t < tokens.Length; t++)
                    {
                        streaming.Advance(tokens[t]);
                        if (!tagging) continue;
                        streaming.TokenLogits(logits);
                        output.Append(words[t]).Append('\t').Append(checkpoint.Labels[System.Numerics.Tensors.TensorPrimitives.IndexOfMax(logits)]).Append('\n');
                    }
                    if (tagging) output.Append('\n');
                    else
                    {
                        streaming.SentenceLogits(logits);
                        output.Append(checkpoint.Labels[System.Numerics.Tensors.TensorPrimitives.IndexOfMax(logits)]).Append('\n');
                    }
                    continue;
                }
                labeler.Forward(tokens, [tokens.Length], new int[tagging ? tokens.Length : 1], tokens.Length, 1);
                ReadOnlySpan<float> p = labeler.Probabilities;
                if (tagging)
                {
                    for (int t = 0; t < words.Length; t++)
                        output.Append(words[t]).Append('\t').Append(checkpoint.Labels[System.Numerics.Tensors.TensorPrimitives.IndexOfMax(p.Slice(t * classes, classes))]).Append('\n');
                    output.Append('\n');
                }
                else output.Append(checkpoint.Labels[System.Numerics.Tensors.TensorPrimitives.IndexOfMax(p[..classes])]).Append('\n');
            }
            Console.Write(output.ToString());
            return 0;
        });
        return command;
    }

    private static string TaskName(LabelingTask task) => task == LabelingTask.Tagging ? "tag" : "classify";

    private static string Describe(string split, LabelingScore s, LabelingTask task) =>
        $"{split}: accuracy {s.Accuracy:P2} of {s.Labels:N0} {(task == LabelingTask.Tagging ? "tokens" : "examples")}" +
        (task == LabelingTask.Tagging && s.UnknownWordLabels > 0 ? $", unknown words {s.UnknownWordAccuracy:P2} of {s.UnknownWordLabels:N0}" : "") +
        $", macro-F1 {s.MacroF1:F4}, loss {s.Loss:F4}";
}
