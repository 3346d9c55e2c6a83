using Dopant.Data;
using Dopant.Models;

namespace Dopant.Training;

/// <summary>
/// The trainers a training command starts from files: fine-tuning a saved dense model, and resuming a saved run
/// (its distillation teacher included). Every command that trains goes through these, so a test can too.
/// </summary>
public static class TrainingRuns
{
    /// <summary>
    /// A trainer that continues training the dense model in <paramref name="denseModel"/> with <paramref name="options"/>
    /// (its architecture taken from the model, its dropout from the options) on the corpus in <paramref name="dataFolder"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The model is compressed, or the options are not valid.</exception>
    public static LanguageModelTrainer FineTune(string denseModel, TrainingOptions options, string dataFolder)
    {
        ArgumentException.ThrowIfNullOrEmpty(denseModel);
        ArgumentNullException.ThrowIfNull(options);
        ModelCheckpoint start = ModelCheckpoint.Load(denseModel);
        if (start.Model.CompressionReport().IsCompressed)
            throw new ArgumentException($"'{denseModel}' holds a compressed model; --model fine-tunes a dense one (continue a compressed run with compress --resume).");
        LanguageModel<float> model = Starting(start, options);
        options = options.WithArchitectureOf(model.Config);
        options.Validate();
        model.SetDropout(options.Dropout);
        return new LanguageModelTrainer(options, PtbCorpus.Load(dataFolder, start.Vocabulary), model);
    }

    /// <summary>
    /// The model a run from <paramref name="start"/> trains: the checkpoint's, or, when the options ask for tied weights
    /// and it has none, its copy with the decoder tied to the embedding (<see cref="LanguageModel{T}.WithTiedWeights"/>).
    /// </summary>
    internal static LanguageModel<float> Starting(ModelCheckpoint start, TrainingOptions options) =>
        options.TiedWeights && !start.Model.Config.TiedWeights ? start.Model.WithTiedWeights() : start.Model;

    /// <summary>
    /// A trainer that continues training the dense tagger or classifier in <paramref name="denseModel"/> with
    /// <paramref name="options"/> (its architecture and task taken from the model, its dropout from the options) on the
    /// labeled corpus in <paramref name="dataFolder"/>, read with the model's vocabulary and labels: the same-budget
    /// control of a compressed labeler.
    /// </summary>
    /// <exception cref="ArgumentException">The model is compressed, or the options are not valid.</exception>
    public static LabelerTrainer FineTuneLabeler(string denseModel, LabelerOptions options, string dataFolder)
    {
        ArgumentException.ThrowIfNullOrEmpty(denseModel);
        ArgumentNullException.ThrowIfNull(options);
        LabelerCheckpoint start = LabelerCheckpoint.Load(denseModel);
        if (start.Model.IsCompressed())
            throw new ArgumentException($"'{denseModel}' holds a compressed model; --model fine-tunes a dense one (continue a compressed run with compress --resume).");
        options = options.WithArchitectureOf(start.Model.Config);
        options.Validate();
        start.Model.SetDropout(options.Dropout);
        return new LabelerTrainer(options, LabeledCorpus.Load(dataFolder, options.Task, start.Vocabulary, start.Labels), start.Model);
    }

    /// <summary>The trainer that continues the run saved in <paramref name="checkpoint"/> on the corpus in <paramref name="dataFolder"/>.</summary>
    public static LanguageModelTrainer Resume(string checkpoint, string dataFolder)
    {
        ArgumentException.ThrowIfNullOrEmpty(checkpoint);
        ModelCheckpoint saved = ModelCheckpoint.Load(checkpoint);
        var corpus = PtbCorpus.Load(dataFolder, saved.Vocabulary);
        LanguageModel<float>? teacher = saved.Options is { } options ? LoadTeacher(options, corpus) : null;
        return LanguageModelTrainer.Resume(saved, corpus, teacher);
    }

    /// <summary>The teacher model of a distilling run (null for another run), checked against the corpus vocabulary.</summary>
    /// <exception cref="FileNotFoundException">The teacher's file does not exist.</exception>
    /// <exception cref="ArgumentException">The teacher has another vocabulary than the corpus.</exception>
    public static LanguageModel<float>? LoadTeacher(TrainingOptions options, PtbCorpus corpus)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(corpus);
        if (options.Distillation == 0) return null;
        string path = options.Teacher ?? throw new InvalidDataException("The run distills from a teacher but does not record its file.");
        if (!File.Exists(path)) throw new FileNotFoundException($"The teacher model '{path}' of this distilling run does not exist.", path);
        ModelCheckpoint teacher = ModelCheckpoint.Load(path);
        if (!teacher.Vocabulary.Words.SequenceEqual(corpus.Vocabulary.Words))
            throw new ArgumentException($"The teacher model '{path}' has another vocabulary than the model it teaches.");
        return teacher.Model;
    }
}
