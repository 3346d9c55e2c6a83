using Dopant.Data;
using Dopant.Matrices;
using Dopant.Training;

namespace Dopant.Tests.Training;

public class LanguageModelTrainerTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "dopant-train-" + Guid.NewGuid().ToString("N"));

    public LanguageModelTrainerTests()
    {
        Directory.CreateDirectory(_folder);
        // A tiny language with structure to learn: a few fixed sentences in a random order.
        string[] sentences = ["the cat sat on the mat", "a dog ran in the park", "the bird sang a song", "my cat likes the dog"];
        var random = new Random(3);
        string Text(int lines) => string.Concat(Enumerable.Range(0, lines).Select(_ => " " + sentences[random.Next(sentences.Length)] + " \n"));
        File.WriteAllText(Path.Combine(_folder, "train.txt"), Text(300));
        File.WriteAllText(Path.Combine(_folder, "valid.txt"), Text(40));
        File.WriteAllText(Path.Combine(_folder, "test.txt"), Text(40));
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static TrainingOptions Options(int epochs) => new()
    {
        Layers = 2, HiddenSize = 16, Bptt = 7, BatchSize = 4, Epochs = epochs, LearningRate = 1, Decay = 0.5, DecayAfter = 2,
        InitRange = 0.1, Dropout = 0.2, Clip = 5, Seed = 5, EvalBatchSize = 3,
    };

    [Fact]
    public void Training_learns_the_structure_of_a_tiny_language()
    {
        PtbCorpus corpus = PtbCorpus.Load(_folder);
        var result = new LanguageModelTrainer(Options(12) with { DecayAfter = 10, Dropout = 0 }, corpus).Run();
        Assert.Equal(12, result.History.Count);
        // A uniform guess over the vocabulary has perplexity V; the sentences make most words predictable.
        Assert.True(result.TestPerplexity < corpus.Vocabulary.Count / 3.0, $"test perplexity {result.TestPerplexity} vs vocabulary {corpus.Vocabulary.Count}");
        Assert.True(result.History[^1].TrainPerplexity < result.History[0].TrainPerplexity);
        Assert.Equal([.. Enumerable.Repeat(1.0, 10), 0.5, 0.25], result.History.Select(e => e.LearningRate));
    }

    [Fact]
    public void Every_epoch_is_announced_after_its_checkpoint_is_written()
    {
        PtbCorpus corpus = PtbCorpus.Load(_folder);
        string path = Path.Combine(_folder, "announced.safetensors");
        var trainer = new LanguageModelTrainer(Options(2), corpus);
        var seen = new List<(int Epoch, int CheckpointEpochs)>();
        trainer.EpochCompleted += e => seen.Add((e.Epoch, ModelCheckpoint.Load(path).State!.EpochsCompleted));
        TrainingResult result = trainer.Run(path);
        Assert.Equal([(1, 1), (2, 2)], seen);
        Assert.Equal(2, result.History.Count);
    }

    [Theory]
    [InlineData("sgd")]
    [InlineData("adam")]
    public void An_interrupted_run_resumed_from_its_checkpoint_ends_bit_for_bit_as_an_uninterrupted_one(string optimizer)
    {
        PtbCorpus corpus = PtbCorpus.Load(_folder);
        TrainingOptions options = Options(3) with { Optimizer = optimizer, LearningRate = optimizer == "adam" ? 0.01 : 1 };
        string whole = Path.Combine(_folder, "whole.safetensors"), split = Path.Combine(_folder, "split.safetensors");
        var uninterrupted = new LanguageModelTrainer(options, corpus);
        TrainingResult expected = uninterrupted.Run(whole);

        new LanguageModelTrainer(options with { Epochs = 1 }, corpus).Run(split);
        // The checkpoint says 1 epoch of a 1-epoch run; continue it as the 3-epoch run it is part of.
        ModelCheckpoint partial = ModelCheckpoint.Load(split);
        ModelCheckpoint.Save(split, partial.Model, partial.Vocabulary, options, partial.State, extraMetadata: null,
            optimizer: RestoredOptimizer(partial, optimizer));
        ModelCheckpoint checkpoint = ModelCheckpoint.Load(split);
        var resumed = LanguageModelTrainer.Resume(checkpoint, PtbCorpus.Load(_folder, checkpoint.Vocabulary));
        Assert.Equal(1, resumed.EpochsCompleted);
        TrainingResult actual = resumed.Run(split);

        Assert.Equal(expected.TestPerplexity, actual.TestPerplexity);
        Assert.Equal(expected.History.Select(e => e.ValidPerplexity), actual.History.Select(e => e.ValidPerplexity));
        var final = uninterrupted.Model.Parameters.ToDictionary(p => p.Name);
        foreach (Parameter<float> p in resumed.Model.Parameters)
            Assert.Equal(final[p.Name].Value, p.Value);
    }

    [Fact]
    public void Resume_refuses_a_corpus_with_another_vocabulary()
    {
        PtbCorpus corpus = PtbCorpus.Load(_folder);
        string path = Path.Combine(_folder, "m.safetensors");
        new LanguageModelTrainer(Options(1), corpus).Run(path);
        File.WriteAllText(Path.Combine(_folder, "train.txt"), " zebra " + File.ReadAllText(Path.Combine(_folder, "train.txt")));
        var e = Assert.Throws<ArgumentException>(() => LanguageModelTrainer.Resume(ModelCheckpoint.Load(path), PtbCorpus.Load(_folder)));
        Assert.Contains("vocabulary", e.Message);
    }

    [Fact]
    public void Options_name_the_invalid_field()
    {
        Assert.Contains("--dropout", Assert.Throws<ArgumentException>(() => (Options(1) with { Dropout = 1.5 }).Validate()).Message);
        Assert.Contains("--optimizer", Assert.Throws<ArgumentException>(() => (Options(1) with { Optimizer = "lbfgs" }).Validate()).Message);
        Assert.Contains("Unknown preset 'huge'", Assert.Throws<ArgumentException>(() => TrainingOptions.FromPreset("huge")).Message);
    }

    [Fact]
    public void Presets_are_zarembas_configurations()
    {
        TrainingOptions small = TrainingOptions.FromPreset("small"), medium = TrainingOptions.FromPreset("medium"), large = TrainingOptions.FromPreset("large");
        Assert.Equal((2, 200, 20, 13, 0.5, 4, 0.1, 0.0), (small.Layers, small.HiddenSize, small.Bptt, small.Epochs, small.Decay, small.DecayAfter, small.InitRange, small.Dropout));
        Assert.Equal((2, 650, 35, 39, 0.8, 6, 0.05, 0.5), (medium.Layers, medium.HiddenSize, medium.Bptt, medium.Epochs, medium.Decay, medium.DecayAfter, medium.InitRange, medium.Dropout));
        Assert.Equal((2, 1500, 35, 55, 1 / 1.15, 14, 0.04, 0.65, 10.0), (large.Layers, large.HiddenSize, large.Bptt, large.Epochs, large.Decay, large.DecayAfter, large.InitRange, large.Dropout, large.Clip));
        Assert.Equal(0.125, LearningRateSchedule.Zaremba(1, 0.5, 4, 7));
        Assert.Equal(1, LearningRateSchedule.Zaremba(1, 0.5, 4, 4));
    }

    private static IOptimizer<float>? RestoredOptimizer(ModelCheckpoint checkpoint, string name)
    {
        if (name != "adam") return null;
        var adam = new AdamOptimizer<float> { StepCount = checkpoint.State!.OptimizerSteps };
        foreach ((string key, float[] values) in checkpoint.OptimizerState) adam.RestoreState(key, values);
        return adam;
    }
}
