using Dopant.Data;
using Dopant.Matrices;
using Dopant.Models;
using Dopant.Training;

namespace Dopant.Tests.Training;

/// <summary>Knowledge distillation in the trainer: the teacher reads the student's windows with its own state.</summary>
public sealed class DistillationTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "dopant-distill-" + Guid.NewGuid().ToString("N"));

    public DistillationTests()
    {
        Directory.CreateDirectory(_folder);
        string[] sentences = ["the cat sat on the mat", "a dog ran in the park", "the bird sang a song", "my cat likes the dog"];
        var random = new Random(7);
        string Text(int lines) => string.Concat(Enumerable.Range(0, lines).Select(_ => " " + sentences[random.Next(sentences.Length)] + " \n"));
        File.WriteAllText(Path.Combine(_folder, "train.txt"), Text(200));
        File.WriteAllText(Path.Combine(_folder, "valid.txt"), Text(30));
        File.WriteAllText(Path.Combine(_folder, "test.txt"), Text(30));
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static TrainingOptions Options(int epochs) => new()
    {
        Layers = 2, HiddenSize = 12, Bptt = 6, BatchSize = 4, Epochs = epochs, LearningRate = 1, DecayAfter = 1,
        InitRange = 0.1, Clip = 5, Seed = 3, EvalBatchSize = 3,
    };

    private string Teacher(PtbCorpus corpus)
    {
        string path = Path.Combine(_folder, "teacher.safetensors");
        if (!File.Exists(path)) new LanguageModelTrainer(Options(2), corpus).Run(path);
        return path;
    }

    [Fact]
    public void A_model_distilled_wholly_from_a_copy_of_itself_does_not_move()
    {
        // p = q in every window, and so a zero gradient, only if the teacher reads the same windows from the same
        // state as the student: from zero at the start of each epoch, then carried.
        PtbCorpus corpus = PtbCorpus.Load(_folder);
        string teacher = Teacher(corpus);
        LanguageModel<float> student = ModelCheckpoint.Load(teacher).Model;
        float[][] before = [.. student.Parameters.Select(p => (float[])p.Value.Clone())];
        var trainer = new LanguageModelTrainer(Options(2) with { Distillation = 1 }, corpus, student, ModelCheckpoint.Load(teacher).Model);
        TrainingResult result = trainer.Run();

        Assert.Equal(2, result.History.Count);
        Assert.All(student.Parameters.Zip(before), pair => Assert.Equal(pair.Second, pair.First.Value));

        // Half the targets from the corpus: the same start moves.
        LanguageModel<float> mixed = ModelCheckpoint.Load(teacher).Model;
        new LanguageModelTrainer(Options(1) with { Distillation = 0.5 }, corpus, mixed, ModelCheckpoint.Load(teacher).Model).Run();
        Assert.Contains(mixed.Parameters.Zip(before), pair => !pair.First.Value.AsSpan().SequenceEqual(pair.Second));
    }

    [Fact]
    public void An_interrupted_distilling_run_resumes_bit_for_bit()
    {
        PtbCorpus corpus = PtbCorpus.Load(_folder);
        string teacher = Teacher(corpus);
        TrainingOptions options = Options(3) with { Distillation = 0.6, Dropout = 0.2, Seed = 9, Teacher = teacher };
        string whole = Path.Combine(_folder, "whole.safetensors"), split = Path.Combine(_folder, "split.safetensors");
        var uninterrupted = new LanguageModelTrainer(options, corpus, model: null, ModelCheckpoint.Load(teacher).Model);
        TrainingResult expected = uninterrupted.Run(whole);

        new LanguageModelTrainer(options with { Epochs = 1 }, corpus, model: null, ModelCheckpoint.Load(teacher).Model).Run(split);
        ModelCheckpoint partial = ModelCheckpoint.Load(split);
        ModelCheckpoint.Save(split, partial.Model, partial.Vocabulary, options, partial.State, extraMetadata: null);
        ModelCheckpoint checkpoint = ModelCheckpoint.Load(split);
        Assert.Equal(teacher, checkpoint.Options!.Teacher);
        Assert.Equal(0.6, checkpoint.Options.Distillation);
        var resumed = LanguageModelTrainer.Resume(checkpoint, PtbCorpus.Load(_folder, checkpoint.Vocabulary), ModelCheckpoint.Load(teacher).Model);
        TrainingResult actual = resumed.Run(split);

        Assert.Equal(expected.History.Select(e => e.ValidPerplexity), actual.History.Select(e => e.ValidPerplexity));
        var final = uninterrupted.Model.Parameters.ToDictionary(p => p.Name);
        foreach (Parameter<float> p in resumed.Model.Parameters)
            Assert.Equal(final[p.Name].Value, p.Value);
    }

    [Fact]
    public void The_trainer_refuses_a_missing_a_needless_or_a_mismatched_teacher()
    {
        PtbCorpus corpus = PtbCorpus.Load(_folder);
        LanguageModel<float> teacher = ModelCheckpoint.Load(Teacher(corpus)).Model;
        var missing = Assert.Throws<ArgumentException>(() => new LanguageModelTrainer(Options(1) with { Distillation = 0.5 }, corpus, null, null));
        Assert.Contains("none was given", missing.Message);
        var needless = Assert.Throws<ArgumentException>(() => new LanguageModelTrainer(Options(1), corpus, null, teacher));
        Assert.Contains("without distillation", needless.Message);
        var other = new LanguageModel<float>(new LanguageModelConfig(corpus.Vocabulary.Count + 1, 12, 2));
        var mismatched = Assert.Throws<ArgumentException>(() => new LanguageModelTrainer(Options(1) with { Distillation = 0.5 }, corpus, null, other));
        Assert.Contains("words", mismatched.Message);
        var itself = Assert.Throws<ArgumentException>(() => new LanguageModelTrainer(Options(1) with { Distillation = 0.5 }, corpus, teacher, teacher));
        Assert.Contains("another model object", itself.Message);
        Assert.Throws<ArgumentException>(() => (Options(1) with { Distillation = 1.5 }).Validate());
    }
}
