using System.Text.Json;
using Dopant.Data;
using Dopant.Training;

namespace Dopant.Compression;

/// <summary>
/// Compresses a trained dense tagger or classifier by a scheme, as <see cref="SchemeCompressionRun"/> does a language
/// model: learning-compression on the labeled corpus (its state checkpointed after every iteration to
/// <see cref="SchemeCompressionRun.StatePath"/>), the compressed forms built, masked fine-tuning (checkpointed to the
/// output after every epoch), the scheme's quantization, and the final model written to the output. An interrupted run
/// resumes from whichever checkpoint is newest.
/// </summary>
public static class LabelerSchemeCompressionRun
{
    /// <summary>Runs (or, with <paramref name="resume"/>, continues) a scheme compression of a tagger or classifier.</summary>
    /// <param name="denseModel">The trained dense tagger or classifier.</param>
    /// <param name="dataFolder">The labeled corpus (train.txt, valid.txt, test.txt).</param>
    /// <param name="output">The compressed model file; also the fine-tuning checkpoint.</param>
    /// <param name="settings">The run's settings, with <see cref="SchemeRunSettings.Labeler"/>; ignored when resuming (the stored ones are used).</param>
    /// <param name="resume">Continue an interrupted run of <paramref name="output"/>.</param>
    /// <param name="progress">Training progress.</param>
    /// <param name="iterations">Every L-C iteration's result.</param>
    /// <param name="cancellationToken">Stops the run at the next batch.</param>
    /// <exception cref="ArgumentException">Nothing to resume, an output that exists, or settings without labeler options.</exception>
    public static LabelerSchemeRunResult Run(string denseModel, string dataFolder, string output, SchemeRunSettings? settings, bool resume,
        IProgress<TrainingProgress>? progress = null, IProgress<LearningCompressionIteration>? iterations = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(denseModel);
        ArgumentException.ThrowIfNullOrEmpty(dataFolder);
        ArgumentException.ThrowIfNullOrEmpty(output);
        string statePath = SchemeCompressionRun.StatePath(output);
        if (resume && !File.Exists(statePath) && !File.Exists(output))
            throw new ArgumentException($"Nothing to resume: neither '{output}' nor '{statePath}' exists.");
        if (!resume && (File.Exists(output) || File.Exists(statePath)))
            throw new ArgumentException($"'{(File.Exists(output) ? output : statePath)}' exists; resume its run or remove it.");

        LabelerCheckpoint start;
        LabeledCorpus corpus;
        CompressedModelBuilder builder;
        LabelerTrainer? trainer;
        LearningCompressionState lcState;
        LabelerOptions fineTune;
        if (resume && File.Exists(output))
        {
            start = LabelerCheckpoint.Load(output);
            if (start.Options?.Scheme is not { } schemeJson)
                throw new InvalidDataException($"'{output}' is not the checkpoint of a scheme compression run.");
            corpus = LabeledCorpus.Load(dataFolder, start.Options.Task, start.Vocabulary, start.Labels);
            builder = new CompressedModelBuilder(start.Model, SchemeFile.Parse(schemeJson, output).Build(start.Options.SchemeLevel));
            builder.RestoreMasks();
            fineTune = start.Options;
            trainer = start.State is null ? null : LabelerTrainer.Resume(start, corpus);
            lcState = File.Exists(statePath) ? LearningCompressionState.Load(statePath, []) : new LearningCompressionState();
        }
        else
        {
            start = LabelerCheckpoint.Load(denseModel);
            LearningCompressionState? state = null;
            if (resume)
            {
                state = LearningCompressionState.Load(statePath, start.Model.Parameters.Select(p => (p.Name, p.Value)));
                settings = JsonSerializer.Deserialize<SchemeRunSettings>(state.Run ?? throw new InvalidDataException($"'{statePath}' does not record its run's settings."),
                    ModelCheckpoint.Json) ?? throw new InvalidDataException($"'{statePath}': the run's settings are null.");
            }
            ArgumentNullException.ThrowIfNull(settings);
            if (settings.Labeler is null) throw new ArgumentException("A tagger's or classifier's scheme run needs its labeler options (SchemeRunSettings.Labeler).");
            settings = settings with { Labeler = settings.Labeler.WithArchitectureOf(start.Model.Config) };
            settings.Validate();
            LabelerOptions options = settings.Labeler!;
            corpus = LabeledCorpus.Load(dataFolder, options.Task, start.Vocabulary, start.Labels);
            CompressionScheme scheme = SchemeFile.Parse(settings.Scheme).Build(settings.Level);
            builder = new CompressedModelBuilder(start.Model, scheme);
            var optimizer = new LearningCompressionOptimizer(scheme, ModelWeights.Of(start.Model), settings.LearningCompression);
            var learner = new LabelerLearningStep(start.Model, corpus, options, settings.LStepWindows, settings.FirstLStepWindows)
            {
                Progress = progress,
                CancellationToken = cancellationToken,
            };
            string run = JsonSerializer.Serialize(settings, ModelCheckpoint.Json);
            lcState = optimizer.Run(learner, state, s =>
            {
                s.Run = run;
                s.Save(statePath, start.Model.Parameters.Select(p => (p.Name, p.Value, p.Shape)));
            }, iterations, cancellationToken);
            builder.Build();
            fineTune = options with
            {
                Epochs = Math.Max(1, settings.FineTuneEpochs),
                Scheme = settings.Scheme,
                SchemeLevel = settings.Level,
                FinalSparsity = 0,
                Compression = null,
                DecayAfter = Math.Min(options.DecayAfter, Math.Max(1, settings.FineTuneEpochs)),
                PruneEndEpoch = 0,
                PruneStartEpoch = 0,
            };
            trainer = settings.FineTuneEpochs > 0 ? new LabelerTrainer(fineTune, corpus, start.Model) : null;
        }

        if (trainer is not null)
        {
            trainer.OptimizerStepped += builder.ApplyMasks;
            trainer.Run(output, progress, cancellationToken);
        }
        builder.Quantize();
        LabelingScore valid = LabelerTrainer.Evaluate(start.Model, corpus.Valid, corpus, fineTune);
        LabelingScore test = LabelerTrainer.Evaluate(start.Model, corpus.Test, corpus, fineTune);
        (var storage, long denseBytes, long compressedBytes, Dictionary<string, string> metadata) = SchemeCompressionRun.Account(builder, start.Model.Parameters, lcState);
        LabelerCheckpoint.Save(output, start.Model, start.Vocabulary, start.Labels, fineTune, trainer?.State, metadata: metadata);
        File.Delete(statePath);
        return new LabelerSchemeRunResult(valid, test, lcState.History, lcState.BestIteration, storage, denseBytes, compressedBytes);
    }
}
