using Dopant.Compression;
using Dopant.Data;
using Dopant.Matrices;
using Dopant.Models;
using Dopant.Training;

namespace Dopant.Tests.Training;

public class DopingScheduleTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "dopant-doping-" + Guid.NewGuid().ToString("N"));

    public DopingScheduleTests()
    {
        Directory.CreateDirectory(_folder);
        string[] sentences = ["the cat sat on the mat", "a dog ran in the park", "the bird sang a song", "my cat likes the dog"];
        var random = new Random(4);
        string Text(int lines) => string.Concat(Enumerable.Range(0, lines).Select(_ => " " + sentences[random.Next(sentences.Length)] + " \n"));
        File.WriteAllText(Path.Combine(_folder, "train.txt"), Text(200));
        File.WriteAllText(Path.Combine(_folder, "valid.txt"), Text(30));
        File.WriteAllText(Path.Combine(_folder, "test.txt"), Text(30));
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static TrainingOptions Options() => new()
    {
        Layers = 2, HiddenSize = 8, Bptt = 6, BatchSize = 4, Epochs = 3, LearningRate = 1, Decay = 0.5, DecayAfter = 2,
        InitRange = 0.1, Clip = 5, Seed = 9, EvalBatchSize = 3,
        FinalSparsity = 0.9, PruneStartEpoch = 0.5, PruneEndEpoch = 2, PruneEvents = 10, CoMatrixDropout = 0.5,
        Compression = new LstmCompression(CompressionMethod.Dlmf, 4),
    };

    // A dense model compressed to doped low-rank matrices (rank 2, S dense) — what `dopant compress` starts from.
    private static LanguageModel<float> DopedModel(TrainingOptions options, int vocabulary)
    {
        var model = new LanguageModel<float>(options.ModelConfig(vocabulary));
        model.InitializeUniform(options.InitRange, new Dopant.Numerics.Xoshiro256(options.Seed));
        model.CompressLstm(_ => WeightFormSpec.Doped(WeightFormSpec.LowRank(2)));
        return model;
    }

    private static IEnumerable<PrunedMatrix<float>> Sparse(LanguageModel<float> model) =>
        model.Layers.SelectMany(l => new[] { l.InputWeights, l.RecurrentWeights }).Cast<DopedMatrix<float>>().Select(d => d.Sparse);

    [Fact]
    public void Doping_matrices_anneal_to_the_final_sparsity_and_the_diagnostic_is_logged()
    {
        PtbCorpus corpus = PtbCorpus.Load(_folder);
        TrainingOptions options = Options();
        var trainer = new LanguageModelTrainer(options, corpus, DopedModel(options, corpus.Vocabulary.Count));
        TrainingResult result = trainer.Run();

        foreach (PrunedMatrix<float> s in Sparse(trainer.Model))
        {
            Assert.Equal((long)Math.Round(0.9 * s.Mask.Length, MidpointRounding.AwayFromZero), s.PrunedCount);
            for (int k = 0; k < s.Mask.Length; k++)
                if (s.Mask[k] == 0) Assert.Equal(0f, s.Weight.Value[k]);
        }
        double?[] sparsity = [.. result.History.Select(e => e.Sparsity)];
        Assert.All(sparsity, s => Assert.NotNull(s));
        Assert.True(sparsity[0] > 0 && sparsity[0] < 0.9, $"after epoch 1 the schedule is midway, got {sparsity[0]}");
        Assert.Equal(0.9, sparsity[1]!.Value, 2);
        Assert.Equal(sparsity[1], sparsity[2]);
        Assert.All(result.History, e => Assert.True(e.ValidPerplexityWithoutSparse > 1));
        Assert.All(trainer.Model.Layers.SelectMany(l => new[] { l.InputWeights, l.RecurrentWeights }).Cast<DopedMatrix<float>>(),
            d => Assert.False(d.SparseDropout!.IsActive, "co-matrix dropout must be off outside a training step"));
        Assert.True(double.IsFinite(result.TestPerplexity) && result.TestPerplexity < corpus.Vocabulary.Count);
    }

    [Fact]
    public void Matrices_with_their_own_factor_anneal_to_their_own_final_sparsity()
    {
        PtbCorpus corpus = PtbCorpus.Load(_folder);
        var compression = new LstmCompression(CompressionMethod.Dlmf, 4) { MatrixFactors = [new MatrixFactor(@"rnn\.weight_.._l1", 2)] };
        TrainingOptions options = Options() with { Compression = compression, FinalSparsity = compression.FinalSparsity };
        var trainer = new LanguageModelTrainer(options, corpus, DopedModel(options, corpus.Vocabulary.Count));
        trainer.Run();

        for (int l = 0; l < 2; l++)
        {
            double final = l == 0 ? 1 - 0.25 / 4 : 1 - 0.25 / 2;
            foreach (IWeightMatrix<float> matrix in new[] { trainer.Model.Layers[l].InputWeights, trainer.Model.Layers[l].RecurrentWeights })
            {
                PrunedMatrix<float> s = ((DopedMatrix<float>)matrix).Sparse;
                Assert.Equal((long)Math.Round(final * s.Mask.Length, MidpointRounding.AwayFromZero), s.PrunedCount);
            }
        }
    }

    [Fact]
    public void A_doped_run_resumed_after_an_epoch_ends_bit_for_bit_as_the_uninterrupted_one()
    {
        PtbCorpus corpus = PtbCorpus.Load(_folder);
        TrainingOptions options = Options();
        string whole = Path.Combine(_folder, "whole.safetensors"), split = Path.Combine(_folder, "split.safetensors");
        var uninterrupted = new LanguageModelTrainer(options, corpus, DopedModel(options, corpus.Vocabulary.Count));
        uninterrupted.EpochCompleted += e =>
        {
            if (e.Epoch == 1) File.Copy(whole, split);
        };
        TrainingResult expected = uninterrupted.Run(whole);

        ModelCheckpoint checkpoint = ModelCheckpoint.Load(split);
        Assert.Equal(options, checkpoint.Options);
        var resumed = LanguageModelTrainer.Resume(checkpoint, PtbCorpus.Load(_folder, checkpoint.Vocabulary));
        TrainingResult actual = resumed.Run(split);

        Assert.Equal(expected.TestPerplexity, actual.TestPerplexity);
        Assert.Equal(expected.History.Select(e => e.ValidPerplexityWithoutSparse), actual.History.Select(e => e.ValidPerplexityWithoutSparse));
        var final = uninterrupted.Model.Parameters.ToDictionary(p => p.Name);
        foreach (Parameter<float> p in resumed.Model.Parameters)
            Assert.Equal(final[p.Name].Value, p.Value);
        Assert.Equal(Sparse(uninterrupted.Model).SelectMany(s => s.Mask.ToArray()), Sparse(resumed.Model).SelectMany(s => s.Mask.ToArray()));
    }

    [Fact]
    public void Pruned_forms_follow_the_same_schedule_and_dense_models_are_untouched()
    {
        PtbCorpus corpus = PtbCorpus.Load(_folder);
        TrainingOptions options = Options() with { FinalSparsity = 0.75, CoMatrixDropout = 0 };
        var model = new LanguageModel<float>(options.ModelConfig(corpus.Vocabulary.Count));
        model.InitializeUniform(options.InitRange, new Dopant.Numerics.Xoshiro256(1));
        model.CompressLstm(name => name == "rnn.weight_hh_l1" ? WeightFormSpec.Pruned : null);
        var trainer = new LanguageModelTrainer(options, corpus, model);
        TrainingResult result = trainer.Run();
        var pruned = Assert.IsType<PrunedMatrix<float>>(trainer.Model.Layers[1].RecurrentWeights);
        Assert.Equal(0.75, pruned.Sparsity, 10);
        Assert.All(result.History, e => Assert.Null(e.ValidPerplexityWithoutSparse));

        var dense = new LanguageModelTrainer(options, corpus).Run();
        Assert.All(dense.History, e => Assert.Null(e.Sparsity));
    }

    [Fact]
    public void A_model_that_does_not_match_the_options_is_refused()
    {
        PtbCorpus corpus = PtbCorpus.Load(_folder);
        var model = new LanguageModel<float>(new LanguageModelConfig(corpus.Vocabulary.Count, 9, 2));
        var e = Assert.Throws<ArgumentException>(() => new LanguageModelTrainer(Options(), corpus, model));
        Assert.Contains("does not match", e.Message);
    }

    [Fact]
    public void Co_matrix_dropout_is_annealed_linearly_over_the_pruning_period_when_asked()
    {
        TrainingOptions options = Options() with { CoMatrixDropoutFinal = 0.1 };
        var model = DopedModel(options, 20);
        var schedule = new DopingSchedule(model, options, windowsPerEpoch: 10);  // pruning from step 5 to step 20

        Assert.Equal(0.5, schedule.SparseDropoutAt(0));
        Assert.Equal(0.5, schedule.SparseDropoutAt(5));
        Assert.Equal(0.5 - 0.4 * 5 / 15, schedule.SparseDropoutAt(10), 12);
        Assert.Equal(0.1, schedule.SparseDropoutAt(20), 12);
        Assert.Equal(0.1, schedule.SparseDropoutAt(1000), 12);
        schedule.BeforeWindow(4, 10);
        Assert.All(model.Layers.SelectMany(l => new[] { l.InputWeights, l.RecurrentWeights }).Cast<DopedMatrix<float>>(), d =>
        {
            Assert.True(d.SparseDropout!.IsActive);
            Assert.Equal(schedule.SparseDropoutAt(10), d.SparseDropout.Probability, 12);
        });

        var constant = new DopingSchedule(DopedModel(Options(), 20), Options(), windowsPerEpoch: 10);
        Assert.Equal(0.5, constant.SparseDropoutAt(0));
        Assert.Equal(0.5, constant.SparseDropoutAt(12));
        Assert.Equal(0.5, constant.SparseDropoutAt(1000));
    }

    [Fact]
    public void A_co_matrix_dropout_anneal_that_ends_outside_0_1_is_refused()
    {
        var e = Assert.Throws<ArgumentException>((Options() with { CoMatrixDropoutFinal = 1.0 }).Validate);
        Assert.Contains("--cmr-final", e.Message);
        e = Assert.Throws<ArgumentException>((Options() with { Compression = new LstmCompression(CompressionMethod.Dkp, 0.5) }).Validate);
        Assert.Contains("--factor", e.Message);
    }

    [Theory]
    [InlineData(1.0, 0, 1, 0, 0, "--sparsity")]
    [InlineData(0.5, 0.6, 1, 0, 0, "--initial-sparsity")]
    [InlineData(0.5, 0, 3, 2, 0, "must end")]
    [InlineData(0.5, 0, 1, 4, 0, "--prune-end")]
    [InlineData(0.5, 0, 1, 0, 1.0, "--cmr")]
    public void Bad_doping_options_name_the_field(double sparsity, double initial, double start, double end, double cmr, string expected)
    {
        TrainingOptions options = Options() with
        {
            FinalSparsity = sparsity, InitialSparsity = initial, PruneStartEpoch = start, PruneEndEpoch = end, CoMatrixDropout = cmr,
        };
        var e = Assert.Throws<ArgumentException>(options.Validate);
        Assert.Contains(expected, e.Message);
    }
}
