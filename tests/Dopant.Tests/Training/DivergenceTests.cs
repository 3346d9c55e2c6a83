using Dopant.Compression;
using Dopant.Data;
using Dopant.Matrices;
using Dopant.Models;
using Dopant.Training;

namespace Dopant.Tests.Training;

public class DivergenceTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "dopant-diverge-" + Guid.NewGuid().ToString("N"));

    public DivergenceTests()
    {
        Directory.CreateDirectory(_folder);
        string[] sentences = ["the cat sat on the mat", "a dog ran in the park", "the bird sang a song", "my cat likes the dog"];
        var random = new Random(11);
        string Text(int lines) => string.Concat(Enumerable.Range(0, lines).Select(_ => " " + sentences[random.Next(sentences.Length)] + " \n"));
        File.WriteAllText(Path.Combine(_folder, "train.txt"), Text(200));
        File.WriteAllText(Path.Combine(_folder, "valid.txt"), Text(30));
        File.WriteAllText(Path.Combine(_folder, "test.txt"), Text(30));
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    // Doped low-rank LSTM matrices pruned during epochs 1-2, with co-matrix dropout and dropout: every kind of state a
    // roll-back must restore (weights, masks, the random stream, the step count that drives the pruning schedule).
    private static TrainingOptions Options(string optimizer = "sgd") => new()
    {
        Layers = 2, HiddenSize = 8, Bptt = 6, BatchSize = 4, Epochs = 3, LearningRate = optimizer == "adam" ? 0.01 : 1, Decay = 0.5,
        DecayAfter = 3, InitRange = 0.1, Dropout = 0.2, Clip = 5, Seed = 9, EvalBatchSize = 3, Optimizer = optimizer,
        FinalSparsity = 0.9, PruneStartEpoch = 0.5, PruneEndEpoch = 2.5, PruneEvents = 20, CoMatrixDropout = 0.3,
        Compression = new LstmCompression(CompressionMethod.Dlmf, 4),
    };

    private static LanguageModel<float> DopedModel(TrainingOptions options, int vocabulary)
    {
        var model = new LanguageModel<float>(options.ModelConfig(vocabulary));
        model.InitializeUniform(options.InitRange, new Dopant.Numerics.Xoshiro256(options.Seed));
        model.CompressLstm(_ => WeightFormSpec.Doped(WeightFormSpec.LowRank(2)));
        return model;
    }

    [Theory]
    [InlineData("sgd")]
    [InlineData("adam")]
    public void A_poisoned_step_is_rolled_back_exactly_and_the_epoch_trained_again_at_half_the_learning_rate(string optimizer)
    {
        PtbCorpus corpus = PtbCorpus.Load(_folder);
        TrainingOptions options = Options(optimizer);
        string path = Path.Combine(_folder, "poisoned.safetensors");
        var trainer = new LanguageModelTrainer(options, corpus, DopedModel(options, corpus.Vocabulary.Count));
        int windows = new BatchedTokenStream(corpus.Train, options.BatchSize).WindowCount(options.Bptt);
        long poisonAt = windows + 5;
        var announced = new List<DivergenceEvent>();
        trainer.Diverged += announced.Add;
        trainer.OptimizerStepped += () =>
        {
            // Once, in epoch 2: a decoder bias becomes NaN, as after an overflow.
            if (announced.Count == 0 && trainer.State.OptimizerSteps == poisonAt) trainer.Model.Decoder.Bias.Value[3] = float.NaN;
        };
        TrainingResult poisoned = trainer.Run(path);

        DivergenceEvent divergence = Assert.Single(poisoned.Divergences);
        Assert.Equal(divergence, Assert.Single(announced));
        Assert.Equal((2, 6, 0.5), (divergence.Epoch, divergence.Window, divergence.LearningRateScale));
        Assert.True(double.IsNaN(divergence.Loss));
        Assert.Equal([options.LearningRate, options.LearningRate / 2, options.LearningRate / 2], poisoned.History.Select(e => e.LearningRate));
        Assert.True(double.IsFinite(poisoned.TestPerplexity));
        TrainingState saved = ModelCheckpoint.Load(path).State!;
        Assert.Equal(0.5, saved.LearningRateScale);
        Assert.Equal(divergence, Assert.Single(saved.Divergences));

        // The same run without the poison, whose epoch 1 checkpoint is continued at half the learning rate: if the
        // roll-back restored everything, the two end bit for bit equal.
        string reference = Path.Combine(_folder, "reference.safetensors");
        var first = new LanguageModelTrainer(options, corpus, DopedModel(options, corpus.Vocabulary.Count));
        using (var stop = new CancellationTokenSource())
        {
            first.EpochCompleted += _ => stop.Cancel();
            Assert.ThrowsAny<OperationCanceledException>(() => first.Run(reference, cancellationToken: stop.Token));
        }
        ModelCheckpoint one = ModelCheckpoint.Load(reference);
        IOptimizer<float>? adam = null;
        if (optimizer == "adam")
        {
            var restored = new AdamOptimizer<float> { StepCount = one.State!.OptimizerSteps };
            foreach ((string key, float[] values) in one.OptimizerState) restored.RestoreState(key, values);
            adam = restored;
        }
        ModelCheckpoint.Save(reference, one.Model, one.Vocabulary, options, one.State! with { LearningRateScale = 0.5 }, extraMetadata: null, optimizer: adam);
        ModelCheckpoint continued = ModelCheckpoint.Load(reference);
        TrainingResult expected = LanguageModelTrainer.Resume(continued, PtbCorpus.Load(_folder, continued.Vocabulary)).Run();

        Assert.Equal(expected.TestPerplexity, poisoned.TestPerplexity);
        Assert.Equal(expected.History.Select(e => e.ValidPerplexity), poisoned.History.Select(e => e.ValidPerplexity));
        Assert.Equal(expected.History.Select(e => e.Sparsity), poisoned.History.Select(e => e.Sparsity));
    }

    [Fact]
    public void An_exploding_run_is_rolled_back_until_the_learning_rate_is_sane()
    {
        PtbCorpus corpus = PtbCorpus.Load(_folder);
        TrainingOptions options = new()
        {
            Layers = 1, HiddenSize = 16, Bptt = 6, BatchSize = 4, Epochs = 2, LearningRate = 1e5, DecayAfter = 2, Clip = 5, Seed = 3,
            RollbackLearningRateFactor = 1e-5,
        };
        TrainingResult result = new LanguageModelTrainer(options, corpus).Run();
        DivergenceEvent divergence = Assert.Single(result.Divergences);
        Assert.Equal(1, divergence.Epoch);
        Assert.True(!double.IsFinite(divergence.Loss) || divergence.Loss > 2 * Math.Log(corpus.Vocabulary.Count), $"loss {divergence.Loss}");
        Assert.Equal([1.0, 1.0], result.History.Select(e => e.LearningRate).Select(lr => Math.Round(lr, 9)));
        Assert.True(result.TestPerplexity < corpus.Vocabulary.Count, $"test perplexity {result.TestPerplexity}");
    }

    [Fact]
    public void A_run_that_keeps_diverging_stops_with_the_last_good_checkpoint_on_disk()
    {
        PtbCorpus corpus = PtbCorpus.Load(_folder);
        TrainingOptions options = new()
        {
            Layers = 1, HiddenSize = 16, Bptt = 6, BatchSize = 4, Epochs = 3, LearningRate = 1, DecayAfter = 3, Clip = 5, Seed = 3, MaxRollbacks = 2,
        };
        string path = Path.Combine(_folder, "stops.safetensors");
        var trainer = new LanguageModelTrainer(options, corpus);
        // From epoch 2 on, every step ends with a NaN weight: no learning rate helps.
        trainer.OptimizerStepped += () =>
        {
            if (trainer.State.History.Count >= 1) trainer.Model.Encoder.Weight.Value[0] = float.NaN;
        };
        int announced = 0;
        trainer.Diverged += _ => announced++;
        var e = Assert.Throws<TrainingDivergedException>(() => trainer.Run(path));
        Assert.Equal(3, e.Divergences.Count);
        Assert.Equal(2, announced);
        Assert.Contains("epoch 2", e.Message);
        Assert.Contains("--max-rollbacks 2", e.Message);
        ModelCheckpoint last = ModelCheckpoint.Load(path);
        Assert.Equal(1, last.State!.EpochsCompleted);
        Assert.All(last.Model.Parameters, p => Assert.All(p.Value, v => Assert.True(float.IsFinite(v))));
        Assert.All(trainer.Model.Parameters, p => Assert.All(p.Value, v => Assert.True(float.IsFinite(v))));
    }

    [Fact]
    public void Roll_back_options_are_validated()
    {
        Assert.Contains("--max-rollbacks", Assert.Throws<ArgumentException>(() => (Options() with { MaxRollbacks = -1 }).Validate()).Message);
        Assert.Contains("--rollback-lr-factor", Assert.Throws<ArgumentException>(() => (Options() with { RollbackLearningRateFactor = 1 }).Validate()).Message);
    }
}
