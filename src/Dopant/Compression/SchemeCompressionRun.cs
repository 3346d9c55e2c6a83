using System.Text.Json;
using Dopant.Data;
using Dopant.IO;
using Dopant.Matrices;
using Dopant.Models;
using Dopant.Tasks;
using Dopant.Training;

namespace Dopant.Compression;

/// <summary>
/// Compresses a trained dense language model by a scheme (<c>dopant compress --scheme</c>): learning-compression
/// (<see cref="LearningCompressionOptimizer"/>, its state checkpointed after every iteration to
/// <see cref="StatePath"/>), then the compressed forms built (<see cref="CompressedModelBuilder"/>), masked fine-tuning
/// (checkpointed to the output after every epoch), the scheme's quantization applied to the fine-tuned values, and
/// the final model written to the output. An interrupted run resumes from whichever checkpoint is newest.
/// </summary>
public static class SchemeCompressionRun
{
    /// <summary>The metadata key of the final model's storage accounting (JSON).</summary>
    public const string StorageKey = "dopant.scheme_storage";

    /// <summary>The L-C state file of a run writing <paramref name="output"/>.</summary>
    public static string StatePath(string output) => output + ".lc";

    /// <summary>Runs (or, with <paramref name="resume"/>, continues) a scheme compression.</summary>
    /// <param name="denseModel">The trained dense model to compress.</param>
    /// <param name="dataFolder">The PTB-format corpus.</param>
    /// <param name="output">The compressed model file; also the fine-tuning checkpoint.</param>
    /// <param name="settings">The run's settings; ignored when resuming (the stored ones are used).</param>
    /// <param name="resume">Continue an interrupted run of <paramref name="output"/>.</param>
    /// <param name="progress">Training and evaluation progress.</param>
    /// <param name="iterations">Every L-C iteration's result.</param>
    /// <param name="cancellationToken">Stops the run at the next window.</param>
    /// <param name="checkpointed">Called after every checkpoint the run writes (the L-C state after an iteration, the output
    /// after a fine-tuning epoch), e.g. to copy them elsewhere (<see cref="SchemeRunCheckpoint.Pack"/>).</param>
    public static SchemeRunResult Run(string denseModel, string dataFolder, string output, SchemeRunSettings? settings, bool resume,
        IProgress<TrainingProgress>? progress = null, IProgress<LearningCompressionIteration>? iterations = null,
        CancellationToken cancellationToken = default, Action? checkpointed = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(denseModel);
        ArgumentException.ThrowIfNullOrEmpty(dataFolder);
        ArgumentException.ThrowIfNullOrEmpty(output);
        string statePath = StatePath(output);
        if (resume && !File.Exists(statePath) && !File.Exists(output))
            throw new ArgumentException($"Nothing to resume: neither '{output}' nor '{statePath}' exists.");
        if (!resume && (File.Exists(output) || File.Exists(statePath)))
            throw new ArgumentException($"'{(File.Exists(output) ? output : statePath)}' exists; resume its run or remove it.");

        LanguageModel<float> model;
        Vocabulary vocabulary;
        PtbCorpus corpus;
        CompressedModelBuilder builder;
        LanguageModelTrainer? trainer;
        LearningCompressionState lcState;
        TrainingOptions fineTune;
        if (resume && File.Exists(output))
        {
            ModelCheckpoint checkpoint = ModelCheckpoint.Load(output);
            if (checkpoint.Options?.Scheme is not { } schemeJson)
                throw new InvalidDataException($"'{output}' is not the checkpoint of a scheme compression run.");
            SchemeFile file = SchemeFile.Parse(schemeJson, output);
            model = checkpoint.Model;
            vocabulary = checkpoint.Vocabulary;
            corpus = PtbCorpus.Load(dataFolder, vocabulary);
            builder = new CompressedModelBuilder(model, file.Build(checkpoint.Options.SchemeLevel));
            builder.RestoreMasks();
            fineTune = checkpoint.Options;
            trainer = checkpoint.State is null ? null : LanguageModelTrainer.Resume(checkpoint, corpus);
            lcState = File.Exists(statePath) ? LearningCompressionState.Load(statePath, []) : new LearningCompressionState();
        }
        else
        {
            ModelCheckpoint dense = ModelCheckpoint.Load(denseModel);
            vocabulary = dense.Vocabulary;
            LearningCompressionState? state = null;
            // The settings say whether the model is tied, and the tied model's parameters are what the state holds.
            SafeTensorsFile? saved = resume ? LearningCompressionState.Open(statePath) : null;
            if (saved is not null) settings = StoredSettings(LearningCompressionState.Load(saved, statePath, []), statePath);
            ArgumentNullException.ThrowIfNull(settings);
            model = TrainingRuns.Starting(dense, settings.Training);
            if (saved is not null) state = LearningCompressionState.Load(saved, statePath, model.Parameters.Select(p => (p.Name, p.Value)));
            settings = settings with
            {
                Training = settings.Training.WithArchitectureOf(model.Config),
            };
            settings.Validate();
            corpus = PtbCorpus.Load(dataFolder, vocabulary);
            CompressionScheme scheme = SchemeFile.Parse(settings.Scheme).Build(settings.Level);
            builder = new CompressedModelBuilder(model, scheme);
            var optimizer = new LearningCompressionOptimizer(scheme, ModelWeights.Of(model), settings.LearningCompression);
            var learner = new LanguageModelLearningStep(model, corpus, settings.Training, settings.LStepWindows, settings.FirstLStepWindows)
            {
                Progress = progress,
                CancellationToken = cancellationToken,
            };
            string run = JsonSerializer.Serialize(settings, ModelCheckpoint.Json);
            lcState = optimizer.Run(learner, state, s =>
            {
                s.Run = run;
                s.Save(statePath, model.Parameters.Select(p => (p.Name, p.Value, p.Shape)));
                checkpointed?.Invoke();
            }, iterations, cancellationToken);
            builder.Build();
            fineTune = settings.Training with
            {
                Epochs = Math.Max(1, settings.FineTuneEpochs),
                Scheme = settings.Scheme,
                SchemeLevel = settings.Level,
                FinalSparsity = 0,
                Compression = null,
                DecayAfter = Math.Min(settings.Training.DecayAfter, Math.Max(1, settings.FineTuneEpochs)),
                PruneEndEpoch = 0,
                PruneStartEpoch = 0,
            };
            trainer = settings.FineTuneEpochs > 0 ? new LanguageModelTrainer(fineTune, corpus, model) : null;
        }

        if (trainer is not null)
        {
            trainer.OptimizerStepped += builder.ApplyMasks;
            if (checkpointed is not null) trainer.EpochCompleted += _ => checkpointed();
            trainer.Run(output, progress, cancellationToken);
        }
        builder.Quantize();
        double valid = PerplexityEvaluator.Evaluate(model, corpus.Valid, fineTune.EvalBatchSize, fineTune.Bptt).Value;
        double test = PerplexityEvaluator.Evaluate(model, corpus.Test, fineTune.EvalBatchSize, fineTune.Bptt).Value;
        (var storage, long denseBytes, long compressedBytes, Dictionary<string, string> metadata) = Account(builder, model.Parameters, lcState);
        var result = new SchemeRunResult(valid, test, lcState.History, lcState.BestIteration, storage, denseBytes, compressedBytes);
        // The options (the scheme) are stored even without fine-tuning, so that resuming a finished run re-evaluates it.
        ModelCheckpoint.Save(output, model, vocabulary, fineTune, trainer?.State, null, metadata);
        File.Delete(statePath);
        return result;
    }

    /// <summary>
    /// The storage of the built model's matrices, its whole size dense and compressed (biases in fp32), and the
    /// metadata that records them with the L-C history in the final file.
    /// </summary>
    internal static (IReadOnlyList<(string Name, StorageEstimate Dense, StorageEstimate Compressed)> Storage, long DenseBytes, long CompressedBytes,
        Dictionary<string, string> Metadata) Account(CompressedModelBuilder builder, IEnumerable<Parameter<float>> parameters, LearningCompressionState lcState)
    {
        var storage = builder.Account();
        long biases = parameters.Where(p => p.Shape.Length == 1).Sum(p => (long)p.Length) * sizeof(float);
        long denseBytes = storage.Sum(s => s.Dense.Bytes) + biases, compressedBytes = storage.Sum(s => s.Compressed.Bytes) + biases;
        var metadata = new Dictionary<string, string>
        {
            [StorageKey] = JsonSerializer.Serialize(new
            {
                dense_bytes = denseBytes, compressed_bytes = compressedBytes,
                matrices = storage.Select(s => new { name = s.Name, dense_bytes = s.Dense.Bytes, bytes = s.Compressed.Bytes, values = s.Compressed.Values }),
                lc_history = lcState.History, lc_best_iteration = lcState.BestIteration,
            }),
        };
        return (storage, denseBytes, compressedBytes, metadata);
    }

    private static SchemeRunSettings StoredSettings(LearningCompressionState state, string statePath) =>
        JsonSerializer.Deserialize<SchemeRunSettings>(state.Run ?? throw new InvalidDataException($"'{statePath}' does not record its run's settings."),
            ModelCheckpoint.Json) ?? throw new InvalidDataException($"'{statePath}': the run's settings are null.");
}
