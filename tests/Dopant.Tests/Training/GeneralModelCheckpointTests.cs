using System.Text.Json;
using Dopant.Data;
using Dopant.Tests.Data;
using Dopant.Inference;
using Dopant.IO;
using Dopant.Matrices;
using Dopant.Models;
using Dopant.Numerics;
using Dopant.Training;

namespace Dopant.Tests.Training;

/// <summary>GRU cells and embedding widths other than the hidden size in files: Dopant's own and plain PyTorch state dicts.</summary>
public class GeneralModelCheckpointTests : IDisposable
{
    private readonly TemporaryFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", name);

    [Theory]
    [InlineData(RecurrentCell.Gru, 6, false)]
    [InlineData(RecurrentCell.Gru, 4, false)]
    [InlineData(RecurrentCell.Gru, 6, true)]
    [InlineData(RecurrentCell.Lstm, 9, false)]
    public void Gru_and_embedding_widths_round_trip_bit_for_bit(RecurrentCell cell, int embedding, bool tied)
    {
        var vocabulary = new Vocabulary(["<unk>", "a", "b", "c", "<eos>"]);
        var model = new LanguageModel<float>(new LanguageModelConfig(vocabulary.Count, 6, 2, 0.25, tied) { Cell = cell, EmbeddingSize = embedding });
        model.InitializeUniform(0.3, new Xoshiro256(9));
        string path = Path.Combine(_folder.Path, "m.safetensors");
        ModelCheckpoint.Save(path, model, vocabulary);

        var config = JsonDocument.Parse(SafeTensorsFile.Load(path).Metadata[ModelCheckpoint.ConfigKey]).RootElement;
        Assert.Equal(cell.Name(), config.GetProperty("cell").GetString());
        Assert.Equal(embedding, config.GetProperty("embedding_size").GetInt32());
        LanguageModel<float> loaded = ModelCheckpoint.Load(path).Model;
        Assert.Equal(model.Config, loaded.Config);
        foreach ((Parameter<float> a, Parameter<float> b) in model.Parameters.Zip(loaded.Parameters))
        {
            Assert.Equal(a.Name, b.Name);
            Assert.Equal(a.Value, b.Value);
        }
    }

    [Theory]
    [InlineData(RecurrentCell.Lstm, false)]
    [InlineData(RecurrentCell.Gru, false)]
    [InlineData(RecurrentCell.Lstm, true)]
    public void A_hidden_size_per_layer_round_trips_streams_and_loads_from_a_plain_state_dict(RecurrentCell cell, bool compress)
    {
        var vocabulary = new Vocabulary(["<unk>", "a", "b", "c", "d", "<eos>"]);
        var config = new LanguageModelConfig(vocabulary.Count, 4, 3) { Cell = cell, EmbeddingSize = 5, LayerSizes = new LayerSizes([7, 3, 4]) };
        var model = new LanguageModel<float>(config);
        model.InitializeUniform(0.4, new Xoshiro256(21));
        if (compress) model.Compress(name => name == "rnn.weight_hh_l0" ? WeightFormSpec.Parse("""{"kind":"low_rank","rank":2}""") : null);
        int[] tokens = [1, 2, 3, 4, 5, 0, 2, 4, 1];
        double expected = model.Forward(tokens.AsSpan(0, 8), tokens.AsSpan(1, 8), 8, 1, model.CreateState(1));

        foreach (bool compact in new[] { false, true })
        {
            string path = Path.Combine(_folder.Path, compact ? "c.safetensors" : "t.safetensors");
            ModelCheckpoint.Save(path, model, vocabulary, compact: compact);
            var json = JsonDocument.Parse(SafeTensorsFile.Load(path).Metadata[ModelCheckpoint.ConfigKey]).RootElement;
            Assert.Equal([7, 3, 4], json.GetProperty("hidden_sizes").EnumerateArray().Select(e => e.GetInt32()));
            LanguageModel<float> loaded = ModelCheckpoint.Load(path).Model;
            Assert.Equal(config, loaded.Config);
            Assert.Equal(expected, loaded.Forward(tokens.AsSpan(0, 8), tokens.AsSpan(1, 8), 8, 1, loaded.CreateState(1)));
        }

        // Token by token, the streaming runtime gives the window's losses.
        var runtime = StreamingLanguageModel.From(model);
        var logits = new float[vocabulary.Count];
        double streamed = 0;
        for (int t = 0; t < 8; t++)
        {
            runtime.Step(tokens[t], logits);
            double max = logits.Max(), sum = logits.Sum(z => Math.Exp(z - max));
            streamed -= logits[tokens[t + 1]] - max - Math.Log(sum);
        }
        Assert.Equal(expected, streamed, 4);

        if (compress) return;
        // A plain state dict (no dopant.config): the sizes are read from each layer's W_hh.
        string plain = Path.Combine(_folder.Path, "plain.safetensors");
        new SafeTensorsFile([.. model.Parameters.Select(p => SafeTensor.Create<float>(p.Name, p.Value, [.. p.Shape.Select(d => (long)d)]))], new Dictionary<string, string> { ["format"] = "pt" }).Save(plain);
        ModelCheckpoint inferred = ModelCheckpoint.Load(plain, vocabulary);
        Assert.True(inferred.ArchitectureInferred);
        Assert.Equal(config with { Dropout = 0 }, inferred.Model.Config);
    }

    [Fact]
    public void A_compressed_gru_saves_and_loads_as_a_training_checkpoint_and_as_a_compact_file()
    {
        var vocabulary = new Vocabulary(["<unk>", "a", "b", "c", "d", "e", "<eos>"]);
        var model = new LanguageModel<float>(new LanguageModelConfig(vocabulary.Count, 8, 2) { Cell = RecurrentCell.Gru, EmbeddingSize = 5 });
        model.InitializeUniform(0.3, new Xoshiro256(4));
        model.CompressLstm(_ => WeightFormSpec.Parse("""{"kind":"doped","structure":{"kind":"low_rank","rank":2}}"""));
        foreach (PrunedMatrix<float> part in model.Layers.SelectMany(l => l.WeightMatrices).SelectMany(m => WeightForms.PrunedParts(m.Matrix)))
            part.PruneToSparsity(0.75);
        int[] tokens = [1, 2, 3, 4, 5, 6, 0, 2, 4];
        double expected = model.Forward(tokens.AsSpan(0, 8), tokens.AsSpan(1, 8), 8, 1, model.CreateState(1));

        foreach (bool compact in new[] { false, true })
        {
            string path = Path.Combine(_folder.Path, compact ? "c.safetensors" : "t.safetensors");
            ModelCheckpoint.Save(path, model, vocabulary, compact: compact);
            LanguageModel<float> loaded = ModelCheckpoint.Load(path).Model;
            Assert.IsType<GruLayer<float>>(loaded.Layers[1]);
            Assert.IsType<DopedMatrix<float>>(loaded.Layers[1].RecurrentWeights);
            Assert.Equal(model.CompressionReport(), loaded.CompressionReport());
            Assert.Equal(expected, loaded.Forward(tokens.AsSpan(0, 8), tokens.AsSpan(1, 8), 8, 1, loaded.CreateState(1)));
        }
    }

    [Fact]
    public void A_plain_pytorch_gru_state_dict_loads_by_inference_and_reproduces_pytorchs_loss()
    {
        string path = Fixture("torch_gru_state_dict.safetensors");
        Assert.False(SafeTensorsFile.Load(path).Metadata.ContainsKey(ModelCheckpoint.ConfigKey));
        Vocabulary vocabulary = Vocabulary.ReadWordList(Fixture("torch_gru_state_dict.vocab.txt"));
        ModelCheckpoint checkpoint = ModelCheckpoint.Load(path, vocabulary);
        var fixture = new GoldenFixture("lm_golden_gru.json");
        LanguageModelConfig config = checkpoint.Model.Config;
        Assert.Equal((RecurrentCell.Gru, 5, 7, 2, false), (config.Cell, config.EmbeddingSize, config.HiddenSize, config.Layers, config.TiedWeights));
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
    [InlineData("\"cell\":\"rnn_tanh\"", "field 'cell' is 'rnn_tanh'")]
    [InlineData("\"bidirectional\":true", "field 'bidirectional' is true")]
    [InlineData("\"head\":\"token_labels\"", "field 'head' is 'token_labels'")]
    [InlineData("\"embedding_size\":0", "field 'embedding_size' is 0")]
    [InlineData("\"embedding_size\":4", "'encoder.weight'")]
    [InlineData("\"cell\":\"gru\"", "'rnn.bias_ih_l0'")]
    [InlineData("\"hidden_sizes\":[4,5]", "field 'hidden_sizes': The layer sizes 4,5 name 2 layers; the model has 1")]
    [InlineData("\"hidden_sizes\":[4]", "field 'hidden_sizes': The layer sizes 4 end with 4, but the top layer's hidden size is 6")]
    public void A_configuration_naming_an_unsupported_or_mismatched_architecture_is_refused_naming_the_field(string field, string expected)
    {
        var vocabulary = new Vocabulary(["<unk>", "a", "b", "<eos>"]);
        var model = new LanguageModel<float>(new LanguageModelConfig(vocabulary.Count, 6, 1));
        string path = Path.Combine(_folder.Path, "m.safetensors");
        ModelCheckpoint.Save(path, model, vocabulary);
        SafeTensorsFile file = SafeTensorsFile.Load(path);
        var metadata = file.Metadata.ToDictionary(kv => kv.Key, kv => kv.Value);
        string config = metadata[ModelCheckpoint.ConfigKey];
        string key = field[..(field.IndexOf(':') + 1)];
        metadata[ModelCheckpoint.ConfigKey] = config.Contains(key, StringComparison.Ordinal)
            ? System.Text.RegularExpressions.Regex.Replace(config, System.Text.RegularExpressions.Regex.Escape(key) + "[^,}]*", field)
            : config.TrimEnd('}') + "," + field + "}";
        new SafeTensorsFile(file.Tensors, metadata).Save(path);
        var e = Assert.Throws<InvalidDataException>(() => ModelCheckpoint.Load(path));
        Assert.Contains(expected, e.Message);
        Assert.Contains(path, e.Message);
    }

    [Theory]
    [InlineData("", "line 1: empty")]
    [InlineData("a\nb c\n", "line 2: white space inside")]
    [InlineData("a\nb\na\n", "line 3: 'a' appears already on line 1")]
    public void A_bad_vocabulary_file_is_refused_naming_the_line(string text, string expected)
    {
        string path = _folder.Write("vocab.txt", text == "" ? "\n" : text);
        Assert.Contains(expected, Assert.Throws<InvalidDataException>(() => Vocabulary.ReadWordList(path)).Message);
    }

    [Fact]
    public void A_state_dict_whose_recurrent_rows_fit_no_cell_or_direction_is_refused_naming_the_tensor()
    {
        var vocabulary = new Vocabulary(["<unk>", "a", "b", "<eos>"]);
        var model = new LanguageModel<float>(new LanguageModelConfig(vocabulary.Count, 6, 1));
        string path = Path.Combine(_folder.Path, "m.safetensors");
        ModelCheckpoint.Save(path, model, vocabulary);
        SafeTensorsFile file = SafeTensorsFile.Load(path);
        var plain = new Dictionary<string, string> { ["format"] = "pt" };

        new SafeTensorsFile(file.Tensors.Select(t => t.Name == "rnn.weight_hh_l0" ? SafeTensor.Create<float>(t.Name, new float[12], 2, 6) : t), plain).Save(path);
        Assert.Contains("'rnn.weight_hh_l0' has shape [2, 6]", Assert.Throws<InvalidDataException>(() => ModelCheckpoint.Load(path, vocabulary)).Message);

        new SafeTensorsFile(file.Tensors.Append(SafeTensor.Create<float>("rnn.weight_hh_l0_reverse", new float[144], 24, 6)), plain).Save(path);
        Assert.Contains("'rnn.weight_hh_l0_reverse' belongs to a bidirectional layer", Assert.Throws<InvalidDataException>(() => ModelCheckpoint.Load(path, vocabulary)).Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_compressed_embedding_and_decoder_save_and_load_in_both_file_kinds(bool tied)
    {
        var vocabulary = new Vocabulary(["<unk>", "a", "b", "c", "d", "e", "f", "<eos>"]);
        var model = new LanguageModel<float>(new LanguageModelConfig(vocabulary.Count, 6, 2, 0, tied));
        model.InitializeUniform(0.3, new Xoshiro256(4));
        model.Compress(name => name == LanguageModel<float>.EncoderWeightName
            ? WeightFormSpec.Parse("""{"kind":"doped","structure":{"kind":"low_rank","rank":2}}""")
            : name == LanguageModel<float>.DecoderWeightName ? WeightFormSpec.Parse("""{"kind":"kronecker","shape":"4x2,2x3","rank":1}""")
            : null);
        foreach (PrunedMatrix<float> part in model.WeightMatrices.SelectMany(m => WeightForms.PrunedParts(m.Matrix))) part.PruneToSparsity(0.7);
        int[] tokens = [1, 2, 3, 4, 5, 6, 7, 0, 2];
        double expected = model.Forward(tokens.AsSpan(0, 8), tokens.AsSpan(1, 8), 8, 1, model.CreateState(1));

        foreach ((bool compact, WeightPrecision precision) in new[] { (false, WeightPrecision.Float32), (true, WeightPrecision.Float32), (true, WeightPrecision.Int8) })
        {
            string path = Path.Combine(_folder.Path, $"m-{compact}-{precision}.safetensors");
            ModelCheckpoint.Save(path, model, vocabulary, compact: compact, precision: precision);
            SafeTensorsFile file = SafeTensorsFile.Load(path);
            Assert.DoesNotContain(file.Tensors, t => t.Name == "encoder.weight");
            Assert.Contains("encoder.weight", file.Metadata[ModelCheckpoint.FormsKey]);
            LanguageModel<float> loaded = ModelCheckpoint.Load(path).Model;
            Assert.IsType<DopedMatrix<float>>(loaded.Encoder.Table);
            if (tied) Assert.Same(loaded.Encoder.Table, loaded.Decoder.Weight);
            else Assert.IsType<KroneckerMatrix<float>>(loaded.Decoder.Weight);
            Assert.Equal(model.CompressionReport(), loaded.CompressionReport());
            double loss = loaded.Forward(tokens.AsSpan(0, 8), tokens.AsSpan(1, 8), 8, 1, loaded.CreateState(1));
            if (precision == WeightPrecision.Float32) Assert.Equal(expected, loss);
            else Assert.Equal(expected, loss, 1);
        }
    }
}
