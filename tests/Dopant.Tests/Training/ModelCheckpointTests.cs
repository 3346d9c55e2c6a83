using Dopant.Data;
using Dopant.IO;
using Dopant.Matrices;
using Dopant.Models;
using Dopant.Numerics;
using Dopant.Training;

namespace Dopant.Tests.Training;

public class ModelCheckpointTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "dopant-ckpt-" + Guid.NewGuid().ToString("N"));

    public ModelCheckpointTests() => Directory.CreateDirectory(_folder);

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void A_model_written_by_pytorch_loads_and_reproduces_the_pytorch_loss()
    {
        ModelCheckpoint checkpoint = ModelCheckpoint.Load(Path.Combine(AppContext.BaseDirectory, "Fixtures", "torch_tiny_lm.safetensors"));
        var fixture = new GoldenFixture("lm_golden.json");
        Assert.Equal(fixture.Vocabulary, checkpoint.Vocabulary.Words);
        var stream = new BatchedTokenStream(fixture.Stream, fixture.Int("batch_size"));
        int steps = fixture.Int("bptt"), batch = stream.BatchSize;
        var inputs = new int[steps * batch];
        var targets = new int[steps * batch];
        stream.CopyWindow(new BpttWindow(0, steps), inputs, targets);
        double loss = checkpoint.Model.Forward(inputs, targets, steps, batch, checkpoint.Model.CreateState(batch)) / (steps * batch);
        Assert.Equal(fixture.Window0.GetProperty("loss").GetDouble(), loss, 5);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Save_and_load_round_trip_weights_vocabulary_options_and_state_bit_for_bit(bool tied)
    {
        (LanguageModel<float> model, Vocabulary vocabulary) = TinyModel(tied);
        var options = new TrainingOptions { HiddenSize = 6, Layers = 2, Epochs = 3, Dropout = 0.25, TiedWeights = tied, Seed = 77 };
        var state = new TrainingState { EpochsCompleted = 2, RandomState = new Xoshiro256(5).GetState(), OptimizerSteps = 41, TrainSeconds = 1.5, TrainTokens = 999,
            History = [new EpochResult(1, 1, 300.5, 250.25, 1234, 0.7), new EpochResult(2, 0.5, 200, double.NaN, 1300, 0.8)] };
        string path = Path.Combine(_folder, "m.safetensors");
        ModelCheckpoint.Save(path, model, vocabulary, options, state);

        ModelCheckpoint loaded = ModelCheckpoint.Load(path);
        Assert.Equal(model.Config, loaded.Model.Config);
        Assert.Equal(vocabulary.Words, loaded.Vocabulary.Words);
        Assert.Equal(options, loaded.Options);
        Assert.Equal(state.RandomState, loaded.State!.RandomState);
        Assert.Equal(state.History, loaded.State.History);
        Assert.Equal(41, loaded.State.OptimizerSteps);
        var expected = model.Parameters.ToDictionary(p => p.Name);
        Assert.Equal(expected.Keys.Order(), loaded.Model.Parameters.Select(p => p.Name).Order());
        foreach (Parameter<float> p in loaded.Model.Parameters)
            Assert.Equal(expected[p.Name].Value.Select(BitConverter.SingleToInt32Bits), p.Value.Select(BitConverter.SingleToInt32Bits));
        Assert.Equal(tied ? 1 : 2, SafeTensorsFile.Load(path).Tensors.Count(t => t.Name is "encoder.weight" or "decoder.weight"));
    }

    [Fact]
    public void A_tied_model_with_a_separate_decoder_weight_as_pytorch_saves_it_loads()
    {
        (LanguageModel<float> model, Vocabulary vocabulary) = TinyModel(tied: true);
        string path = Path.Combine(_folder, "t.safetensors");
        ModelCheckpoint.Save(path, model, vocabulary);
        SafeTensorsFile file = SafeTensorsFile.Load(path);
        SafeTensor encoder = file.Tensors.Single(t => t.Name == "encoder.weight");
        var withDecoder = new SafeTensorsFile(file.Tensors.Append(SafeTensor.Create<float>("decoder.weight", encoder.AsSpan<float>(), [.. encoder.Shape])), file.Metadata);
        withDecoder.Save(path);
        Assert.True(ModelCheckpoint.Load(path).Model.Config.TiedWeights);
    }

    [Fact]
    public void A_missing_file_names_the_file()
    {
        var e = Assert.Throws<FileNotFoundException>(() => ModelCheckpoint.Load(Path.Combine(_folder, "nope.safetensors")));
        Assert.Contains("nope.safetensors", e.Message);
    }

    [Fact]
    public void A_truncated_checkpoint_is_rejected_with_a_clear_message()
    {
        (LanguageModel<float> model, Vocabulary vocabulary) = TinyModel(false);
        string path = Path.Combine(_folder, "m.safetensors");
        ModelCheckpoint.Save(path, model, vocabulary);
        byte[] bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length - 10)]);
        var e = Assert.Throws<InvalidDataException>(() => ModelCheckpoint.Load(path));
        Assert.Contains("m.safetensors", e.Message);
    }

    [Fact]
    public void Missing_unexpected_or_misshapen_tensors_and_foreign_files_are_named()
    {
        (LanguageModel<float> model, Vocabulary vocabulary) = TinyModel(false);
        string path = Path.Combine(_folder, "m.safetensors");
        ModelCheckpoint.Save(path, model, vocabulary);
        SafeTensorsFile good = SafeTensorsFile.Load(path);

        void Write(IEnumerable<SafeTensor> tensors, IReadOnlyDictionary<string, string> metadata) => new SafeTensorsFile(tensors, metadata).Save(path);

        Write(good.Tensors.Where(t => t.Name != "rnn.weight_hh_l1"), good.Metadata);
        Assert.Contains("rnn.weight_hh_l1", Assert.Throws<InvalidDataException>(() => ModelCheckpoint.Load(path)).Message);

        Write(good.Tensors.Select(t => t.Name == "decoder.bias" ? SafeTensor.Create<float>("decoder.bias", new float[3], 3) : t), good.Metadata);
        Assert.Contains("decoder.bias", Assert.Throws<InvalidDataException>(() => ModelCheckpoint.Load(path)).Message);

        Write(good.Tensors.Append(SafeTensor.Create<float>("rnn.weight_ih_l7", new float[2], 2)), good.Metadata);
        Assert.Contains("rnn.weight_ih_l7", Assert.Throws<InvalidDataException>(() => ModelCheckpoint.Load(path)).Message);

        // A plain state dict: the architecture is inferred from the tensors, but the words must come from somewhere.
        Write(good.Tensors, new Dictionary<string, string> { ["format"] = "pt" });
        string noVocabulary = Assert.Throws<InvalidDataException>(() => ModelCheckpoint.Load(path)).Message;
        Assert.Contains("dopant.vocab", noVocabulary);
        Assert.Contains("--vocab", noVocabulary);

        Write(good.Tensors.Where(t => t.Name != "rnn.weight_hh_l0"), new Dictionary<string, string> { ["format"] = "pt" });
        string noCell = Assert.Throws<InvalidDataException>(() => ModelCheckpoint.Load(path, vocabulary)).Message;
        Assert.Contains("dopant.config", noCell);
        Assert.Contains("rnn.weight_hh_l0", noCell);

        var badVocabulary = good.Metadata.ToDictionary(kv => kv.Key, kv => kv.Value);
        badVocabulary[ModelCheckpoint.VocabularyKey] = "[\"a\", \"b\"]";
        Write(good.Tensors, badVocabulary);
        Assert.Contains("vocabulary", Assert.Throws<InvalidDataException>(() => ModelCheckpoint.Load(path)).Message);

        var badJson = good.Metadata.ToDictionary(kv => kv.Key, kv => kv.Value);
        badJson[ModelCheckpoint.ConfigKey] = "{not json";
        Write(good.Tensors, badJson);
        Assert.Contains("dopant.config", Assert.Throws<InvalidDataException>(() => ModelCheckpoint.Load(path)).Message);
    }

    internal static (LanguageModel<float>, Vocabulary) TinyModel(bool tied)
    {
        var vocabulary = new Vocabulary(["<unk>", "a", "b", "c", "<eos>"]);
        var model = new LanguageModel<float>(new LanguageModelConfig(vocabulary.Count, 6, 2, 0.25, tied));
        model.InitializeUniform(0.3, new Xoshiro256(9));
        return (model, vocabulary);
    }
}
