using System.Diagnostics;
using Dopant.Compression;
using Dopant.Data;
using Dopant.IO;
using Dopant.Inference;
using Dopant.Matrices;
using Dopant.Models;
using Dopant.Tasks;
using Dopant.Tests.Data;
using Dopant.Tests.IO;
using Dopant.Training;

namespace Dopant.Tests.Training;

/// <summary>
/// Mutates the metadata (<c>dopant.config</c>, <c>dopant.vocab</c>, <c>dopant.forms</c>, <c>dopant.training</c>,
/// <c>dopant.state</c>, ...) and the tensors of valid checkpoints thousands of times: every load either gives a model
/// that evaluates, or fails with a one-line <see cref="InvalidDataException"/> naming the file, quickly and without
/// allocating a size the file chose.
/// </summary>
public sealed class ModelCheckpointFuzzTests : IDisposable
{
    private const int Iterations = 1500;
    private const long AllocationLimit = 64L << 20;
    private readonly TemporaryFolder _folder = new();

    private static readonly string[] DomainStrings =
    [
        "dense", "kronecker", "kronecker_chain", "low_rank", "hybrid", "pruned", "doped", "4x2,6x3", "2x2*2x1*6x3", "0x0,0x0",
        "65536x65536,65536x65536", "24x1,1x6", "rnn.weight_ih_l0", "rnn.weight_hh_l1", "rnn.weight_l0", "rnn.weight_l1",
        "rnn.weight_ih_l9", "encoder.weight", "decoder.weight", "<eos>", "<unk>", "a", "csr", "coo", "int8", "int4", "fp16", "sgd",
        "adam", "dkp", "prune", "lmf", "16x1", "4x1", "0x1", "3y1", "kind", "shape", "rank", "structure", "block", "dense_rows",
        "vocab_size", "hidden_size", "num_layers", "tied", "dropout", "compression", "method", "factor", "random_state",
    ];

    private static readonly string[] MetadataKeys =
    [
        ModelCheckpoint.ConfigKey, ModelCheckpoint.VocabularyKey, ModelCheckpoint.FormsKey, ModelCheckpoint.OptionsKey,
        ModelCheckpoint.StateKey, ModelCheckpoint.StorageKey, ModelCheckpoint.PrecisionKey, ModelCheckpoint.CompressionKey,
    ];

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void Mutated_checkpoints_load_soundly_or_throw_one_line_InvalidDataException()
    {
        (string Name, SafeTensorsFile File)[] seeds = Seeds();
        var mutator = new JsonMutator(DomainStrings);
        var random = new Random(20250301);
        string path = Path.Combine(_folder.Path, "mutant.safetensors");
        int loaded = 0, rejected = 0;
        var clock = Stopwatch.StartNew();
        for (int iteration = 0; iteration < Iterations; iteration++)
        {
            (string seedName, SafeTensorsFile seed) = seeds[iteration % seeds.Length];
            (List<SafeTensor> tensors, Dictionary<string, string> metadata, string change) = Mutate(seed, mutator, random);
            string description = $"iteration {iteration}, seed {seedName}: {change}";
            try
            {
                // Not Save: its atomic replace flushes to disk, which would take most of the test's time.
                File.WriteAllBytes(path, SafeTensorsBytes.Write(new SafeTensorsFile(tensors, metadata)));
            }
            catch (ArgumentException)
            {
                continue;  // the mutation made something the writer refuses (two tensors of one name, a lone surrogate)
            }

            long before = GC.GetAllocatedBytesForCurrentThread();
            var started = Stopwatch.StartNew();
            ModelCheckpoint? checkpoint = null;
            try
            {
                checkpoint = ModelCheckpoint.Load(path);
            }
            catch (InvalidDataException e)
            {
                Assert.False(string.IsNullOrWhiteSpace(e.Message), description);
                Assert.True(!e.Message.Contains('\n') && e.Message.Length < 1000, $"{description}: message not one short line: {Shorten(e.Message)}");
                Assert.True(e.Message.Contains(path), $"{description}: message does not name the file: {e.Message}");
                rejected++;
            }
            catch (Exception e)
            {
                Assert.Fail($"{description} threw {e.GetType().Name}: {Shorten(e.Message)}\n{e.StackTrace}");
            }
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.True(allocated < AllocationLimit, $"{description}: loading allocated {allocated:N0} bytes");
            Assert.True(started.Elapsed < TimeSpan.FromSeconds(5), $"{description}: loading took {started.Elapsed}");
            if (checkpoint is null) continue;

            loaded++;
            try
            {
                CheckUsable(checkpoint);
            }
            catch (Exception e)
            {
                Assert.Fail($"{description} loaded, but the model does not run: {e.GetType().Name}: {e.Message}");
            }
        }
        Assert.True(rejected > Iterations / 4, $"{rejected} rejected");
        Assert.True(loaded > Iterations / 50, $"{loaded} loaded");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"took {clock.Elapsed}");
    }

    [Theory]
    [InlineData("""{"vocab_size":5,"hidden_size":1000000,"num_layers":2,"tied":false,"dropout":0}""", "encoder.weight")]
    [InlineData("""{"vocab_size":5,"hidden_size":6,"num_layers":2000000000,"tied":false,"dropout":0}""", "rnn.bias_ih_l2")]
    [InlineData("""{"vocab_size":5,"hidden_size":2147483647,"num_layers":1,"tied":false,"dropout":0}""", "encoder.weight")]
    [InlineData("""{"vocab_size":5,"hidden_size":6,"num_layers":3,"tied":false,"dropout":0}""", "rnn.bias_ih_l2")]
    [InlineData("""{"vocab_size":5,"hidden_size":6,"num_layers":0,"tied":false,"dropout":0}""", "at least one recurrent layer")]
    [InlineData("""{"vocab_size":5,"hidden_size":6,"num_layers":2,"tied":false,"dropout":"NaN"}""", "Dropout must be in [0, 1)")]
    [InlineData("""{"vocab_size":5,"hidden_size":6,"num_layers":2,"tied":false,"dropout":0,"extra":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}""", "dopant.config")]
    public void A_configuration_that_the_tensors_do_not_back_is_refused_before_the_model_is_allocated(string config, string expected)
    {
        SafeTensorsFile seed = Seeds()[0].File;
        string path = Path.Combine(_folder.Path, "config.safetensors");
        new SafeTensorsFile(seed.Tensors, new Dictionary<string, string>(seed.Metadata) { [ModelCheckpoint.ConfigKey] = config }).Save(path);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var error = Assert.Throws<InvalidDataException>(() => ModelCheckpoint.Load(path));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 16L << 20, "the refusal allocates little");
        Assert.Contains(path, error.Message);
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void A_small_file_whose_forms_claim_huge_matrices_is_refused_before_they_are_allocated()
    {
        // Kronecker factors of a few kilobytes can describe LSTM matrices of gigabytes; the biases and the embedding
        // are stored in full, so the hidden size itself is backed, but the dense matrices a model is built with are not.
        const int hidden = 20_000, vocabulary = 2;
        string[] words = ["a", "<eos>"];
        var tensors = new List<SafeTensor>
        {
            SafeTensor.Create<float>("encoder.weight", new float[vocabulary * hidden], vocabulary, hidden),
            SafeTensor.Create<float>("decoder.weight", new float[vocabulary * hidden], vocabulary, hidden),
            SafeTensor.Create<float>("decoder.bias", new float[vocabulary], vocabulary),
            SafeTensor.Create<float>("rnn.bias_ih_l0", new float[4 * hidden], 4 * hidden),
            SafeTensor.Create<float>("rnn.bias_hh_l0", new float[4 * hidden], 4 * hidden),
        };
        // 80000 x 20000 = (400 x 100) ⊗ (200 x 200), rank 1.
        string forms = """{"rnn.weight_ih_l0":{"kind":"kronecker","shape":"400x100,200x200","rank":1},"rnn.weight_hh_l0":{"kind":"kronecker","shape":"400x100,200x200","rank":1}}""";
        foreach (string name in new[] { "rnn.weight_ih_l0", "rnn.weight_hh_l0" })
        {
            tensors.Add(SafeTensor.Create<float>(name + ".kron_a", new float[400 * 100], 1, 400, 100));
            tensors.Add(SafeTensor.Create<float>(name + ".kron_b", new float[200 * 200], 1, 200, 200));
        }
        var metadata = new Dictionary<string, string>
        {
            [ModelCheckpoint.ConfigKey] = $$"""{"vocab_size":{{vocabulary}},"hidden_size":{{hidden}},"num_layers":1,"tied":false,"dropout":0}""",
            [ModelCheckpoint.VocabularyKey] = """["a","<eos>"]""",
            [ModelCheckpoint.FormsKey] = forms,
        };
        string path = Path.Combine(_folder.Path, "claims.safetensors");
        new SafeTensorsFile(tensors, metadata).Save(path);
        Assert.True(new FileInfo(path).Length < 2_000_000);

        long before = GC.GetAllocatedBytesForCurrentThread();
        var error = Assert.Throws<InvalidDataException>(() => ModelCheckpoint.Load(path));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 64L << 20, "the refusal allocates little");
        Assert.Contains(path, error.Message);
        Assert.Contains("memory", error.Message);
    }

    [Theory]
    [InlineData("""["<unk>","a","b","c",null]""", "bad vocabulary")]
    [InlineData("""["<unk>","a","b","a","<eos>"]""", "appears twice")]
    [InlineData("""["<unk>","a","b","c",5]""", "dopant.vocab")]
    [InlineData("""["<unk>","a","b","c"]""", "the vocabulary has 4 words but the configuration says 5")]
    [InlineData("""[]""", "the vocabulary has 0 words")]
    [InlineData("""{"a":1}""", "dopant.vocab")]
    [InlineData("""null""", "metadata 'dopant.vocab' is null")]
    [InlineData("""["<unk>","a","b","c","<eos>"]]""", "dopant.vocab")]
    [InlineData("""["<unk>","a","b","c","\ud800"]""", "dopant.vocab")]
    public void A_mutated_vocabulary_is_refused_with_the_problem_named(string vocabulary, string expected)
    {
        SafeTensorsFile seed = Seeds()[0].File;
        string path = Path.Combine(_folder.Path, "vocab.safetensors");
        new SafeTensorsFile(seed.Tensors, new Dictionary<string, string>(seed.Metadata) { [ModelCheckpoint.VocabularyKey] = vocabulary }).Save(path);
        var error = Assert.Throws<InvalidDataException>(() => ModelCheckpoint.Load(path));
        Assert.Contains(path, error.Message);
        Assert.Contains(expected, error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Theory]
    [InlineData(ModelCheckpoint.OptionsKey, "bptt", "0", "--bptt must be at least 1 (got 0)")]
    [InlineData(ModelCheckpoint.OptionsKey, "batch_size", "-3", "--batch-size must be at least 1 (got -3)")]
    [InlineData(ModelCheckpoint.OptionsKey, "learning_rate", "\"NaN\"", "--lr must be positive")]
    [InlineData(ModelCheckpoint.OptionsKey, "optimizer", "null", "--optimizer must be sgd or adam")]
    [InlineData(ModelCheckpoint.OptionsKey, "compression", """{"method":"dkp","factor":2,"block":"3y1"}""", "A block shape is RxC")]
    [InlineData(ModelCheckpoint.OptionsKey, "epochs", "1e99", "dopant.training' is not valid")]
    [InlineData(ModelCheckpoint.StateKey, "random_state", "null", "the random state is not four words")]
    [InlineData(ModelCheckpoint.StateKey, "random_state", "[0,0,0,0]", "the random state is not four words")]
    [InlineData(ModelCheckpoint.StateKey, "history", "[null]", "the history is not a list of epochs")]
    [InlineData(ModelCheckpoint.StateKey, "history", "null", "the history is not a list of epochs")]
    [InlineData(ModelCheckpoint.StateKey, "epochs_completed", "-1", "a count is negative")]
    [InlineData(ModelCheckpoint.StateKey, "learning_rate_scale", "\"Infinity\"", "is not positive")]
    public void Training_options_and_state_that_a_resumed_run_would_trip_over_are_refused(string key, string field, string value, string expected)
    {
        SafeTensorsFile seed = Seeds()[0].File;
        var json = System.Text.Json.Nodes.JsonNode.Parse(seed.Metadata[key])!.AsObject();
        json[field] = System.Text.Json.Nodes.JsonNode.Parse(value);
        string path = Path.Combine(_folder.Path, "run.safetensors");
        new SafeTensorsFile(seed.Tensors, new Dictionary<string, string>(seed.Metadata) { [key] = json.ToJsonString() }).Save(path);
        var error = Assert.Throws<InvalidDataException>(() => ModelCheckpoint.Load(path));
        Assert.Contains($"'{path}': metadata '{key}'", error.Message);
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void Vocabulary_words_that_no_corpus_can_produce_load_and_stay_unmatched()
    {
        // Words with spaces, control characters or nothing in them are legal strings: the model loads, and a corpus
        // simply never maps a token onto them.
        SafeTensorsFile seed = Seeds()[0].File;
        string path = Path.Combine(_folder.Path, "odd.safetensors");
        new SafeTensorsFile(seed.Tensors, new Dictionary<string, string>(seed.Metadata)
        {
            [ModelCheckpoint.VocabularyKey] = """["", "a b", "\u0000", "\n", "<eos>"]""",
        }).Save(path);
        ModelCheckpoint checkpoint = ModelCheckpoint.Load(path);
        Assert.Equal(["", "a b", "\0", "\n", "<eos>"], checkpoint.Vocabulary.Words);
        CheckUsable(checkpoint);
    }

    private static string Shorten(string message) => message.Length <= 300 ? message : message[..300] + "...";

    private static void CheckUsable(ModelCheckpoint checkpoint)
    {
        LanguageModel<float> model = checkpoint.Model;
        Assert.Equal(checkpoint.Vocabulary.Count, model.Config.VocabularySize);
        int v = model.Config.VocabularySize;
        int[] tokens = [.. Enumerable.Range(0, 9).Select(i => i * 7 % v)];
        _ = PerplexityEvaluator.Evaluate(model, tokens, 2, 3);
        _ = StreamingScorer.Score(StreamingLanguageModel.From(model), tokens);
        _ = model.CompressionReport();
    }

    // Built once: seven small models, saved and read back.
    private static readonly Lazy<(string Name, SafeTensorsFile File)[]> SeedFiles = new(BuildSeeds);

    private static (string Name, SafeTensorsFile File)[] Seeds() => SeedFiles.Value;

    private static (string Name, SafeTensorsFile File)[] BuildSeeds()
    {
        string folder = Path.Combine(Path.GetTempPath(), $"dopant-fuzz-seeds-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        try
        {
            var seeds = new List<(string, SafeTensorsFile)>();
            void Add(string name, Action<string> save)
            {
                string path = Path.Combine(folder, name + ".safetensors");
                save(path);
                seeds.Add((name, SafeTensorsBytes.Read(File.ReadAllBytes(path))));
            }

            var state = new TrainingState
            {
                EpochsCompleted = 1, RandomState = new Dopant.Numerics.Xoshiro256(5).GetState(), OptimizerSteps = 12, TrainSeconds = 0.5,
                TrainTokens = 300, History = [new EpochResult(1, 1, 300.5, 250.25, 1234, 0.7)],
            };
            (LanguageModel<float> dense, Vocabulary vocabulary) = ModelCheckpointTests.TinyModel(tied: false);
            var options = new TrainingOptions { HiddenSize = 6, Layers = 2, Epochs = 3, Dropout = 0.25, Seed = 77 };
            Add("dense", path => ModelCheckpoint.Save(path, dense, vocabulary, options, state));

            (LanguageModel<float> tied, _) = ModelCheckpointTests.TinyModel(tied: true);
            Add("tied", path => ModelCheckpoint.Save(path, tied, vocabulary));

            (LanguageModel<float> doped, _) = ModelCheckpointTests.TinyModel(tied: false);
            var dkp = new LstmCompression(CompressionMethod.Dkp, 2);
            dkp.ApplyFinal(doped);
            Add("dkp", path => ModelCheckpoint.Save(path, doped, vocabulary, options with { Compression = dkp, FinalSparsity = dkp.FinalSparsity }, state));

            (LanguageModel<float> pruned, _) = ModelCheckpointTests.TinyModel(tied: false);
            new LstmCompression(CompressionMethod.Prune, 2) { Block = BlockShape.Parse("4x1") }.ApplyFinal(pruned);
            Add("prune-blocks-compact", path => ModelCheckpoint.Save(path, pruned, vocabulary, compact: true));

            (LanguageModel<float> loose, _) = ModelCheckpointTests.TinyModel(tied: false);
            new LstmCompression(CompressionMethod.Dkp, 2) { Block = BlockShape.Parse("2x2+25%") }.ApplyFinal(loose);
            Add("dkp-loose-compact", path => ModelCheckpoint.Save(path, loose, vocabulary, compact: true));

            (LanguageModel<float> lowRank, _) = ModelCheckpointTests.TinyModel(tied: false);
            new LstmCompression(CompressionMethod.Dlmf, 2) { Concatenated = true }.ApplyFinal(lowRank);
            Add("dlmf-combined-int8", path => ModelCheckpoint.Save(path, lowRank, vocabulary, compact: true, precision: WeightPrecision.Int8));
            Add("dlmf-combined-fp16", path => ModelCheckpoint.Save(path, lowRank, vocabulary, compact: true, precision: WeightPrecision.Float16));

            (LanguageModel<float> chain, _) = ModelCheckpointTests.TinyModel(tied: true);
            new LstmCompression(CompressionMethod.Hmd, 2).Apply(chain);
            Add("hmd-tied", path => ModelCheckpoint.Save(path, chain, vocabulary));
            return [.. seeds];
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static (List<SafeTensor>, Dictionary<string, string>, string) Mutate(SafeTensorsFile seed, JsonMutator mutator, Random random)
    {
        var tensors = seed.Tensors.ToList();
        var metadata = new Dictionary<string, string>(seed.Metadata);
        int choice = random.Next(20);
        if (choice < 12)
        {
            string[] present = [.. MetadataKeys.Where(metadata.ContainsKey)];
            string key = random.Next(3) == 0 ? ModelCheckpoint.VocabularyKey : present[random.Next(present.Length)];
            (string value, string change) = mutator.Mutate(metadata[key], random);
            metadata[key] = value;
            return (tensors, metadata, $"metadata {key}: {change}");
        }
        if (choice < 14)
        {
            string key = MetadataKeys[random.Next(MetadataKeys.Length)];
            if (metadata.Remove(key)) return (tensors, metadata, $"metadata {key} removed");
            string value = key switch
            {
                ModelCheckpoint.StorageKey => random.Next(2) == 0 ? "csr" : "coo",
                ModelCheckpoint.PrecisionKey => new[] { "int8", "fp16", "int4" }[random.Next(3)],
                ModelCheckpoint.FormsKey => """{"rnn.weight_hh_l0":{"kind":"low_rank","rank":2}}""",
                _ => "{}",
            };
            metadata[key] = value;
            return (tensors, metadata, $"metadata {key} added as {value}");
        }

        int at = random.Next(tensors.Count);
        SafeTensor tensor = tensors[at];
        long[] shape = [.. tensor.Shape];
        byte[] data = tensor.Data.ToArray();
        switch (random.Next(7))
        {
            case 0:
                tensors.RemoveAt(at);
                return (tensors, metadata, $"tensor {tensor.Name} removed");
            case 1:
            {
                string name = random.Next(2) == 0 ? tensor.Name + "x" : tensor.Name.Replace("_l0", "_l1").Replace("_l1", "_l7");
                tensors[at] = SafeTensor.FromBytes(name, tensor.DType, data, shape);
                return (tensors, metadata, $"tensor {tensor.Name} renamed {name}");
            }
            case 2:
            {
                long[] other = random.Next(3) switch
                {
                    0 => [tensor.ElementCount],
                    1 => [.. shape.Reverse()],
                    _ => [1, .. shape],
                };
                tensors[at] = SafeTensor.FromBytes(tensor.Name, tensor.DType, data, other);
                return (tensors, metadata, $"tensor {tensor.Name} reshaped to [{string.Join(", ", other)}]");
            }
            case 3:
            {
                if (shape.Length == 0) goto default;
                long row = shape.Length == 1 ? 1 : shape[1..].Aggregate(1L, (a, b) => a * b);
                int delta = random.Next(2) == 0 || shape[0] == 0 ? 1 : -1;
                shape[0] += delta;
                byte[] resized = new byte[Math.Max(0, data.Length + delta * row * (data.Length / Math.Max(1, tensor.ElementCount)))];
                data.AsSpan(0, Math.Min(data.Length, resized.Length)).CopyTo(resized);
                tensors[at] = SafeTensor.FromBytes(tensor.Name, tensor.DType, resized, shape);
                return (tensors, metadata, $"tensor {tensor.Name} first dimension {(delta > 0 ? "grown" : "shrunk")} to {shape[0]}");
            }
            case 4:
            {
                SafeTensorsDType[] sameSize = tensor.DType switch
                {
                    SafeTensorsDType.Float32 => [SafeTensorsDType.Int32, SafeTensorsDType.UInt32],
                    SafeTensorsDType.Int32 => [SafeTensorsDType.Float32],
                    SafeTensorsDType.UInt8 => [SafeTensorsDType.Int8, SafeTensorsDType.Bool],
                    SafeTensorsDType.Int8 => [SafeTensorsDType.UInt8],
                    SafeTensorsDType.Float16 => [SafeTensorsDType.BFloat16, SafeTensorsDType.Int16],
                    _ => [tensor.DType],
                };
                SafeTensorsDType dtype = sameSize[random.Next(sameSize.Length)];
                if (dtype == SafeTensorsDType.Bool) for (int i = 0; i < data.Length; i++) data[i] = (byte)(data[i] & 1);
                tensors[at] = SafeTensor.FromBytes(tensor.Name, dtype, data, shape);
                return (tensors, metadata, $"tensor {tensor.Name} retyped as {dtype}");
            }
            case 5:
            {
                if (data.Length == 0) goto default;
                int elementSize = (int)(data.Length / tensor.ElementCount);
                int element = random.Next((int)tensor.ElementCount);
                long[] hostile = [-1, 0, 2, 255, int.MaxValue, int.MinValue, tensor.ElementCount, BitConverter.SingleToInt32Bits(float.NaN),
                    BitConverter.SingleToInt32Bits(float.PositiveInfinity), BitConverter.SingleToInt32Bits(-1e30f)];
                long value = hostile[random.Next(hostile.Length)];
                for (int b = 0; b < elementSize; b++) data[element * elementSize + b] = (byte)(value >> (8 * b));
                tensors[at] = SafeTensor.FromBytes(tensor.Name, tensor.DType, data, shape);
                return (tensors, metadata, $"tensor {tensor.Name} element {element} set to bits {value}");
            }
            default:
            {
                string[] names = ["optimizer.step", "rnn.weight_ih_l0.kron_a", "decoder.weight", "rnn.weight_hh_l0_mask", "rnn.weight_l1", "encoder.weight.int8"];
                string name = names[random.Next(names.Length)];
                tensors.Add(SafeTensor.Create<float>(name, new float[6], 6));
                return (tensors, metadata, $"stray tensor {name} added");
            }
        }
    }
}
