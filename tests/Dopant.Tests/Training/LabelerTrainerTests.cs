using Dopant.Compression;
using Dopant.Data;
using Dopant.IO;
using Dopant.Matrices;
using Dopant.Models;
using Dopant.Tests.Data;
using Dopant.Training;

namespace Dopant.Tests.Training;

/// <summary>Training a tagger and a classifier on a toy grammar: they learn it, their files round-trip, and a resumed run is the uninterrupted one.</summary>
public sealed class LabelerTrainerTests : IDisposable
{
    private readonly TemporaryFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    internal static (string Tags, string Classes) WriteToyCorpora(TemporaryFolder folder)
    {
        var random = new Random(3);
        string[] determiners = ["the", "a", "my"], nouns = ["cat", "dog", "bird", "park", "mat"], verbs = ["sat", "ran", "sang"], prepositions = ["on", "in"];
        (string[] Words, string[] Tags) Sentence()
        {
            var words = new List<string> { determiners[random.Next(3)], nouns[random.Next(5)], verbs[random.Next(3)] };
            var tags = new List<string> { "DT", "NN", "VB" };
            if (random.Next(2) == 0)
            {
                words.AddRange([prepositions[random.Next(2)], determiners[random.Next(3)], nouns[random.Next(5)]]);
                tags.AddRange(["IN", "DT", "NN"]);
            }
            return ([.. words], [.. tags]);
        }
        foreach ((string split, int count) in new[] { ("train", 300), ("valid", 40), ("test", 40) })
        {
            var tagged = new System.Text.StringBuilder();
            var examples = new System.Text.StringBuilder();
            for (int i = 0; i < count; i++)
            {
                (string[] words, string[] tags) = Sentence();
                for (int k = 0; k < words.Length; k++) tagged.Append(words[k]).Append('\t').Append(tags[k]).Append('\n');
                tagged.Append('\n');
                examples.Append(tags.Contains("IN") ? "place" : "plain").Append('\t').Append(string.Join(' ', words)).Append('\n');
            }
            folder.Write($"tags/{split}.txt", tagged.ToString());
            folder.Write($"classes/{split}.txt", examples.ToString());
        }
        return (Path.Combine(folder.Path, "tags"), Path.Combine(folder.Path, "classes"));
    }

    private static LabelerOptions Small(LabelingTask task) => LabelerOptions.FromPreset(task == LabelingTask.Tagging ? "tagger" : "classifier") with
    {
        HiddenSize = 12, EmbeddingSize = 8, Epochs = 4, LearningRate = 0.02, BatchSize = 16, Dropout = 0.1,
    };

    [Theory]
    [InlineData(LabelingTask.Tagging)]
    [InlineData(LabelingTask.Classification)]
    public void A_toy_grammar_is_learned_and_the_file_scores_the_same_after_loading(LabelingTask task)
    {
        (string tags, string classes) = WriteToyCorpora(_folder);
        LabeledCorpus corpus = LabeledCorpus.Load(task == LabelingTask.Tagging ? tags : classes, task);
        var trainer = new LabelerTrainer(Small(task), corpus);
        string path = Path.Combine(_folder.Path, "model.safetensors");
        (_, LabelingScore test) = trainer.Run(path);
        Assert.True(test.Accuracy > 0.95, $"test accuracy {test.Accuracy:P2}");
        Assert.Equal(4, trainer.History.Count);
        LabelerCheckpoint loaded = LabelerCheckpoint.Load(path);
        Assert.True(LabelerCheckpoint.Holds(path));
        Assert.Equal(corpus.Labels, loaded.Labels);
        Assert.Equal(test, LabelerTrainer.Evaluate(loaded.Model, corpus.Test, corpus, loaded.Options!));
    }

    [Fact]
    public void A_run_resumed_after_each_epoch_ends_with_the_weights_of_the_uninterrupted_run()
    {
        (string tags, _) = WriteToyCorpora(_folder);
        LabeledCorpus corpus = LabeledCorpus.Load(tags, LabelingTask.Tagging);
        LabelerOptions options = Small(LabelingTask.Tagging) with { Epochs = 3 };
        string whole = Path.Combine(_folder.Path, "whole.safetensors");
        new LabelerTrainer(options, corpus).Run(whole);
        // Interrupted after its first epoch, then resumed from the file.
        string stepped = Path.Combine(_folder.Path, "stepped.safetensors");
        var first = new LabelerTrainer(options, corpus);
        using (var cancel = new CancellationTokenSource())
        {
            first.EpochCompleted += e => { if (e.Epoch == 1) cancel.Cancel(); };
            Assert.Throws<OperationCanceledException>(() => first.Run(stepped, null, cancel.Token));
        }
        LabelerTrainer resumed = LabelerTrainer.Resume(LabelerCheckpoint.Load(stepped), corpus);
        Assert.Equal(1, resumed.EpochsCompleted);
        resumed.Run(stepped);
        SafeTensorsFile a = SafeTensorsFile.Load(whole), b = SafeTensorsFile.Load(stepped);
        foreach (SafeTensor tensor in a.Tensors)
            Assert.True(tensor.Data.Span.SequenceEqual(b.Tensors.Single(t => t.Name == tensor.Name).Data.Span), $"{tensor.Name} differs after resuming");
    }

    [Fact]
    public void Files_with_bad_labels_or_weights_are_refused_naming_the_problem()
    {
        var vocabulary = new Vocabulary(["<unk>", "a", "b"]);
        var model = new SentenceLabeler<float>(new SentenceModelConfig(3, 4, 3, 1, 2, LabelHead.SequenceLabel));
        string path = Path.Combine(_folder.Path, "m.safetensors");
        Assert.Contains("3 labels for a head of 2", Assert.Throws<ArgumentException>(() => LabelerCheckpoint.Save(path, model, vocabulary, ["x", "y", "z"])).Message);
        LabelerCheckpoint.Save(path, model, vocabulary, ["x", "y"]);
        SafeTensorsFile file = SafeTensorsFile.Load(path);
        var metadata = file.Metadata.ToDictionary(kv => kv.Key, kv => kv.Value);
        metadata[LabelerCheckpoint.LabelsKey] = "[\"x\", \"x\"]";
        new SafeTensorsFile(file.Tensors, metadata).Save(path);
        Assert.Contains("lists a label twice", Assert.Throws<InvalidDataException>(() => LabelerCheckpoint.Load(path)).Message);
        new SafeTensorsFile(file.Tensors.Select(t => t.Name == "decoder.bias" ? SafeTensor.Create<float>(t.Name, [1f, float.PositiveInfinity], 2) : t), file.Metadata).Save(path);
        string message = Assert.Throws<InvalidDataException>(() => LabelerCheckpoint.Load(path)).Message;
        Assert.Contains("tensor 'decoder.bias' holds", message);
        Assert.Contains("at index 1; a model's weights must be finite", message);
    }

    [Theory]
    [InlineData("dkp", null)]
    [InlineData("dlmf", @"rnn\..*|decoder\.weight")]
    [InlineData("prune", null)]
    public void A_trained_tagger_is_compressed_annealed_saved_and_loaded(string method, string? matrices)
    {
        (string tags, _) = WriteToyCorpora(_folder);
        LabeledCorpus corpus = LabeledCorpus.Load(tags, LabelingTask.Tagging);
        string dense = Path.Combine(_folder.Path, "dense.safetensors"), compressed = Path.Combine(_folder.Path, method + ".safetensors");
        new LabelerTrainer(Small(LabelingTask.Tagging), corpus).Run(dense);
        var compression = new LstmCompression(CompressionMethods.Parse(method), 3) { Matrices = matrices };
        LabelerTrainer trainer = MethodCompressionRun.StartLabeler(compression,
            Small(LabelingTask.Tagging) with { PruneStartEpoch = 0, PruneEndEpoch = 2 }, dense, tags);
        Assert.True(trainer.Model.WeightMatrices.Where(m => m.Name.StartsWith("rnn.", StringComparison.Ordinal)).All(m => m.Matrix is not DenseMatrix<float>));
        (_, LabelingScore test) = trainer.Run(compressed);
        Assert.True(test.Accuracy > 0.9, $"{method} at 3x: test accuracy {test.Accuracy:P2}");
        Assert.Equal(compression.FinalSparsity, trainer.History[^1].Sparsity!.Value, 2);

        LabelerCheckpoint loaded = LabelerCheckpoint.Load(compressed);
        Assert.Equal(compression, loaded.Options!.Compression);
        Assert.Equal(trainer.Model.WeightMatrices.Select(m => WeightForms.Describe(m.Matrix)), loaded.Model.WeightMatrices.Select(m => WeightForms.Describe(m.Matrix)));
        Assert.Equal(test, LabelerTrainer.Evaluate(loaded.Model, corpus.Test, corpus, loaded.Options));
        string compact = Path.Combine(_folder.Path, method + ".compact.safetensors");
        LabelerCheckpoint.Save(compact, loaded.Model, loaded.Vocabulary, loaded.Labels, compact: true);
        Assert.Equal(test, LabelerTrainer.Evaluate(LabelerCheckpoint.Load(compact).Model, corpus.Test, corpus, loaded.Options));
        Assert.True(new FileInfo(compact).Length < new FileInfo(dense).Length / 2, "the compact file drops the optimizer state and the pruned values");
    }

    [Fact]
    public void A_labeler_with_a_hidden_size_per_layer_round_trips_and_streams_as_its_forward()
    {
        var vocabulary = new Vocabulary(["<unk>", "a", "b", "c"]);
        var config = new SentenceModelConfig(4, 3, 2, 3, 3, LabelHead.TokenLabels) { Cell = RecurrentCell.Gru, LayerSizes = new LayerSizes([6, 4, 2]) };
        var model = new SentenceLabeler<float>(config);
        model.InitializeUniform(0.5, new Dopant.Numerics.Xoshiro256(3));
        int[] sentence = [1, 3, 2, 2, 0];
        model.Forward(sentence, [5], [0, 1, 2, 0, 1], 5, 1);
        float[] probabilities = model.Probabilities.ToArray();
        string path = Path.Combine(_folder.Path, "layers.safetensors");
        LabelerCheckpoint.Save(path, model, vocabulary, ["x", "y", "z"]);
        LabelerCheckpoint loaded = LabelerCheckpoint.Load(path);
        Assert.Equal(config, loaded.Model.Config);
        loaded.Model.Forward(sentence, [5], [0, 1, 2, 0, 1], 5, 1);
        Assert.Equal(probabilities, loaded.Model.Probabilities.ToArray());

        var streaming = Dopant.Inference.StreamingLabeler.From(loaded.Model);
        var logits = new float[3];
        for (int t = 0; t < sentence.Length; t++)
        {
            streaming.Advance(sentence[t]);
            streaming.TokenLogits(logits);
            double max = logits.Max(), sum = logits.Sum(z => Math.Exp(z - max));
            for (int c = 0; c < 3; c++) Assert.Equal(probabilities[t * 3 + c], Math.Exp(logits[c] - max) / sum, 5);
        }
    }

    [Fact]
    public void A_diverging_epoch_is_rolled_back_and_trained_again_at_a_lower_rate_and_a_resumed_run_keeps_that_rate()
    {
        (string tags, _) = WriteToyCorpora(_folder);
        LabeledCorpus corpus = LabeledCorpus.Load(tags, LabelingTask.Tagging);
        // Plain SGD at a rate of 500 with clipping off leaves any sensible region at once; a thousandth of it trains.
        LabelerOptions options = Small(LabelingTask.Tagging) with
        {
            Optimizer = "sgd", LearningRate = 500, Clip = 1e9, Epochs = 3, MaxRollbacks = 3, RollbackLearningRateFactor = 0.002,
        };
        var trainer = new LabelerTrainer(options, corpus);
        var seen = new List<DivergenceEvent>();
        trainer.Diverged += seen.Add;
        string path = Path.Combine(_folder.Path, "rolled.safetensors");
        (_, LabelingScore test) = trainer.Run(path);
        Assert.NotEmpty(seen);
        Assert.Equal(1, seen[0].Epoch);
        // After the roll-back the run trains: finite losses that go down, below a uniform guess's.
        Assert.All(trainer.History, e => Assert.True(double.IsFinite(e.TrainLoss) && e.TrainLoss < Math.Log(corpus.Labels.Count), $"epoch {e.Epoch}: {e.TrainLoss}"));
        Assert.True(trainer.History[^1].TrainLoss < trainer.History[0].TrainLoss);
        Assert.True(double.IsFinite(test.Loss));
        LabelerState state = LabelerCheckpoint.Load(path).State!;
        Assert.Equal(seen.Count, state.Divergences.Count);
        Assert.Equal(seen[^1].LearningRateScale, state.LearningRateScale);

        var strict = new LabelerTrainer(options with { MaxRollbacks = 0 }, corpus);
        string message = Assert.Throws<TrainingDivergedException>(() => strict.Run(Path.Combine(_folder.Path, "strict.safetensors"))).Message;
        Assert.Contains("Training diverged in epoch 1 at batch", message);
        Assert.Contains("--max-rollbacks 0", message);
    }
}
