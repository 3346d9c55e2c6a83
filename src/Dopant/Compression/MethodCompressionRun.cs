using Dopant.Matrices;
using Dopant.Data;
using Dopant.Models;
using Dopant.Training;

namespace Dopant.Compression;

/// <summary>
/// Starts a method compression (<c>dopant compress --method</c>): the model (a trained dense one, or a fresh one of
/// the options' architecture) gets the method's forms on the selected matrices, initialized from its values, and a
/// trainer anneals and trains them; the library twin of <see cref="SchemeCompressionRun"/>. Resuming goes through
/// <see cref="TrainingRuns.Resume"/>, as for any training run.
/// </summary>
public static class MethodCompressionRun
{
    /// <summary>
    /// The trainer for <paramref name="compression"/> of the dense model in <paramref name="denseModel"/> (its
    /// architecture and vocabulary; null: a fresh model of <paramref name="options"/> on the corpus's vocabulary), the
    /// forms already in place, with <paramref name="options"/> completed by the method and its sparsity target; and
    /// the accounting at the start (S still dense).
    /// </summary>
    /// <exception cref="ArgumentException">
    /// The method, its factor for some selected matrix, or the options are not valid; nothing is trained then.
    /// </exception>
    public static (LanguageModelTrainer Trainer, CompressionReport Start) Start(LstmCompression compression, TrainingOptions options,
        string? denseModel, string dataFolder)
    {
        ArgumentNullException.ThrowIfNull(compression);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(dataFolder);
        compression.Validate();
        LanguageModel<float> model;
        PtbCorpus corpus;
        if (denseModel is not null)
        {
            ModelCheckpoint start = ModelCheckpoint.Load(denseModel);
            model = TrainingRuns.Starting(start, options);
            options = options.WithArchitectureOf(model.Config);
            // The options' dropout (default the preset's) applies to the fine-tuning, whatever the model was trained with.
            model.SetDropout(options.Dropout);
            corpus = PtbCorpus.Load(dataFolder, start.Vocabulary);
        }
        else
        {
            corpus = PtbCorpus.Load(dataFolder);
            options.Validate();
            model = LanguageModelTrainer.CreateModel(options, corpus.Vocabulary.Count);
        }
        compression.CheckFactorFits(model);
        options = options with { FinalSparsity = compression.AnnealedSparsity, Compression = compression };
        options.Validate();
        // The forms replace the matrices before the trainer binds the parameters and the pruning schedule.
        CompressionReport target = compression.Apply(model);
        var trainer = new LanguageModelTrainer(options, corpus, model, TrainingRuns.LoadTeacher(options, corpus));
        return (trainer, target);
    }

    /// <summary>
    /// The trainer for <paramref name="compression"/> of the trained tagger or classifier in <paramref name="model"/>:
    /// its selected matrices (default the recurrent ones) take the method's forms, initialized from its weights, and
    /// <paramref name="options"/> (the model's architecture and task replace theirs) anneal and train them on the
    /// labeled corpus in <paramref name="dataFolder"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The model is already compressed, or the method, its factor or the options are not valid.</exception>
    public static LabelerTrainer StartLabeler(LstmCompression compression, LabelerOptions options, string model, string dataFolder)
    {
        ArgumentNullException.ThrowIfNull(compression);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(model);
        compression.Validate();
        LabelerCheckpoint start = LabelerCheckpoint.Load(model);
        if (start.Model.IsCompressed()) throw new ArgumentException($"'{model}' is already compressed; --model starts from a dense tagger or classifier.");
        compression.CheckFactorFits(start.Model);
        options = options.WithArchitectureOf(start.Model.Config) with { FinalSparsity = compression.AnnealedSparsity, Compression = compression };
        options.Validate();
        start.Model.Training = false;
        start.Model.SetDropout(options.Dropout);
        compression.ApplyForms(start.Model);
        LabeledCorpus corpus = LabeledCorpus.Load(dataFolder, options.Task, start.Vocabulary, start.Labels);
        SentenceLabeler<float>? teacher = options.Distillation > 0 ? LabelerCheckpoint.Load(options.Teacher!).Model : null;
        return new LabelerTrainer(options, corpus, start.Model, teacher);
    }
}
