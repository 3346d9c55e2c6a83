using System.Text.Json;
using Dopant.Data;
using Dopant.Inference;
using Dopant.IO;
using Dopant.Matrices;
using Dopant.Models;
using Dopant.Training;

namespace Dopant.Tests.Training;

public class CompressedCheckpointTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "dopant-cckpt-" + Guid.NewGuid().ToString("N"));

    public CompressedCheckpointTests() => Directory.CreateDirectory(_folder);

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    // The tiny model's LSTM matrices are 24 × 6 (4H × H with H = 6).
    private const string Kronecker1 = """{"kind":"kronecker","shape":"4x2,6x3","rank":1}""";
    private const string Kronecker2 = """{"kind":"kronecker","shape":"4x2,6x3","rank":2}""";
    private const string DopedKronecker = """{"kind":"doped","structure":{"kind":"kronecker","shape":"4x2,6x3","rank":1}}""";
    private const string DopedLowRank = """{"kind":"doped","structure":{"kind":"low_rank","rank":2}}""";

    public static TheoryData<string, double> Forms() => new()
    {
        { """{"kind":"dense"}""", 0 },
        { Kronecker1, 0 },
        { Kronecker2, 0 },
        { """{"kind":"kronecker_chain","shape":"2x2*2x1*6x3","rank":1}""", 0 },
        { """{"kind":"kronecker_chain","shape":"2x1*3x2*2x1*2x3","rank":2}""", 0 },
        { """{"kind":"doped","structure":{"kind":"kronecker_chain","shape":"2x2*2x1*6x3","rank":2}}""", 0.9 },
        { """{"kind":"low_rank","rank":3}""", 0 },
        { """{"kind":"hybrid","rank":2,"dense_rows":4}""", 0 },
        { """{"kind":"pruned"}""", 0.7 },
        { DopedKronecker, 0.9 },
        { DopedLowRank, 0.9 },
        { """{"kind":"pruned","block":"8x1"}""", 0.7 },
        { """{"kind":"doped","structure":{"kind":"low_rank","rank":2},"block":"5x4"}""", 0.6 },
        { """{"kind":"doped","structure":{"kind":"low_rank","rank":2},"block":"4x2+30%"}""", 0.7 },
    };

    // The combined matrices [W_ih | W_hh] of the tiny model are 24 × 12.
    public static TheoryData<string, double> CombinedForms() => new()
    {
        { """{"kind":"dense"}""", 0 },
        { """{"kind":"kronecker","shape":"4x4,6x3","rank":2}""", 0 },
        { """{"kind":"hybrid","rank":2,"dense_rows":4}""", 0 },
        { """{"kind":"doped","structure":{"kind":"kronecker","shape":"4x4,6x3","rank":1}}""", 0.9 },
        { DopedLowRank, 0.8 },
    };

    [Theory]
    [MemberData(nameof(Forms))]
    public void Every_form_survives_save_and_load_bit_for_bit(string json, double sparsity) => RoundTrip(json, sparsity, combined: false);

    [Theory]
    [MemberData(nameof(CombinedForms))]
    public void Every_form_of_a_combined_matrix_survives_save_and_load_bit_for_bit(string json, double sparsity) =>
        RoundTrip(json, sparsity, combined: true);

    private void RoundTrip(string json, double sparsity, bool combined)
    {
        foreach (bool tied in new[] { false, true })
        {
            (LanguageModel<float> model, Vocabulary vocabulary) = Compressed(json, sparsity, tied, combined);
            string path = Path.Combine(_folder, "c.safetensors");
            ModelCheckpoint.Save(path, model, vocabulary);
            LanguageModel<float> loaded = ModelCheckpoint.Load(path).Model;

            foreach ((IRecurrentLayer<float> a, IRecurrentLayer<float> b) in model.Layers.Zip(loaded.Layers))
            {
                Assert.Equal(a.WeightMatrices.Select(m => m.Name), b.WeightMatrices.Select(m => m.Name));
                Assert.Equal(a.WeightMatrices.Select(m => WeightForms.Describe(m.Matrix)), b.WeightMatrices.Select(m => WeightForms.Describe(m.Matrix)));
                Assert.Equal(Masks(a), Masks(b));
            }
            Assert.Equal(model.Parameters.Select(p => p.Name), loaded.Parameters.Select(p => p.Name));
            foreach ((Parameter<float> p, Parameter<float> q) in model.Parameters.Zip(loaded.Parameters))
            {
                Assert.Equal(p.Shape, q.Shape);
                Assert.Equal(Bits(p.Value), Bits(q.Value));
            }
            Assert.Equal(model.ParameterCount, loaded.ParameterCount);
            Assert.Equal(model.CompressionReport(), loaded.CompressionReport());
            Assert.Equal(Bits(Logits(model)), Bits(Logits(loaded)));
        }
    }

    [Fact]
    public void Only_non_dense_matrices_are_listed_in_the_forms_metadata()
    {
        (LanguageModel<float> dense, Vocabulary vocabulary) = ModelCheckpointTests.TinyModel(false);
        string path = Path.Combine(_folder, "d.safetensors");
        ModelCheckpoint.Save(path, dense, vocabulary);
        Assert.False(SafeTensorsFile.Load(path).Metadata.ContainsKey(ModelCheckpoint.FormsKey));
        Assert.False(SafeTensorsFile.Load(path).Metadata.ContainsKey(ModelCheckpoint.CompressionKey));

        Assert.Equal(1, dense.CompressLstm(name => name == "rnn.weight_hh_l1" ? WeightFormSpec.Parse(DopedKronecker) : null));
        ((DopedMatrix<float>)dense.Layers[1].RecurrentWeights).Sparse.PruneToSparsity(0.9);
        ModelCheckpoint.Save(path, dense, vocabulary);
        SafeTensorsFile file = SafeTensorsFile.Load(path);
        var forms = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(file.Metadata[ModelCheckpoint.FormsKey])!;
        Assert.Equal(["rnn.weight_hh_l1"], forms.Keys);
        Assert.Equal(WeightFormSpec.Parse(DopedKronecker), WeightFormSpec.Parse(forms["rnn.weight_hh_l1"].GetRawText()));
        string[] lstmTensors = file.Tensors.Select(t => t.Name).Where(n => n.StartsWith("rnn.weight_hh_l1", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(["rnn.weight_hh_l1.doping.weight", "rnn.weight_hh_l1.doping.weight_mask", "rnn.weight_hh_l1.kron_a", "rnn.weight_hh_l1.kron_b"], lstmTensors);
        SafeTensor mask = file.Tensors.Single(t => t.Name == "rnn.weight_hh_l1.doping.weight_mask");
        Assert.Equal(SafeTensorsDType.UInt8, mask.DType);
        Assert.Equal([24L, 6L], mask.Shape.ToArray());
        Assert.Equal(Math.Round(0.1 * 144), mask.AsSpan<byte>().ToArray().Count(b => b == 1));

        string accounting = file.Metadata[ModelCheckpoint.CompressionKey];
        Assert.Equal(dense.CompressionReport(), JsonSerializer.Deserialize<CompressionReport>(accounting, ModelCheckpoint.Json));
        double factor = JsonDocument.Parse(accounting).RootElement.GetProperty("lstm_parameter_factor").GetDouble();
        Assert.Equal(dense.CompressionReport().LstmParameterFactor, factor);
        Assert.True(factor > 1);
    }

    [Theory]
    [MemberData(nameof(Forms))]
    public void A_compact_file_holds_the_bytes_the_accounting_counts_and_loads_to_the_same_model(string json, double sparsity)
    {
        (LanguageModel<float> model, Vocabulary vocabulary) = Compressed(json, sparsity, tied: false);
        string path = Path.Combine(_folder, "compact.safetensors");
        ModelCheckpoint.Save(path, model, vocabulary, compact: true);

        SafeTensorsFile file = SafeTensorsFile.Load(path);
        Assert.Equal(model.CompressionReport().ModelBytes, file.Tensors.Sum(t => (long)t.Data.Length));
        Assert.DoesNotContain(file.Tensors, t => t.Name.EndsWith("_mask", StringComparison.Ordinal));
        LanguageModel<float> loaded = ModelCheckpoint.Load(path).Model;
        Assert.Equal(model.CompressionReport(), loaded.CompressionReport());
        Assert.Equal(Masks(model.Layers[1]), Masks(loaded.Layers[1]));
        Assert.Equal(Bits(Logits(model)), Bits(Logits(loaded)));
    }

    [Fact]
    public void A_compact_file_refuses_training_state_and_corrupt_csr_arrays_are_named()
    {
        (LanguageModel<float> model, Vocabulary vocabulary) = Compressed("""{"kind":"pruned"}""", 0.7, tied: false);
        string path = Path.Combine(_folder, "compact.safetensors");
        Assert.Throws<ArgumentException>(() => ModelCheckpoint.Save(path, model, vocabulary, new TrainingOptions(), compact: true));
        ModelCheckpoint.Save(path, model, vocabulary, compact: true);
        SafeTensorsFile file = SafeTensorsFile.Load(path);
        string columns = "rnn.weight_hh_l0.weight.csr_columns";
        int[] bad = file.Tensors.Single(t => t.Name == columns).AsSpan<int>().ToArray();
        bad[3] = 99;
        new SafeTensorsFile(file.Tensors.Select(t => t.Name == columns ? SafeTensor.Create<int>(columns, bad, bad.Length) : t).ToList(), file.Metadata).Save(path);
        var e = Assert.Throws<InvalidDataException>(() => ModelCheckpoint.Load(path));
        Assert.Contains(columns, e.Message);
        Assert.Contains("holds 99", e.Message);
    }

    [Fact]
    public void A_loose_entry_stored_inside_a_kept_block_is_named()
    {
        (LanguageModel<float> model, Vocabulary vocabulary) =
            Compressed("""{"kind":"doped","structure":{"kind":"low_rank","rank":2},"block":"4x2+30%"}""", 0.7, tied: false);
        string path = Path.Combine(_folder, "compact.safetensors");
        ModelCheckpoint.Save(path, model, vocabulary, compact: true);
        SafeTensorsFile file = SafeTensorsFile.Load(path);
        string prefix = model.Layers[0].WeightMatrices.Select(m => m.Matrix).OfType<DopedMatrix<float>>().First().Sparse.Weight.Name;
        int[] blockColumns = file.Tensors.Single(t => t.Name == prefix + ".bsr_columns").AsSpan<int>().ToArray();
        int[] blockStarts = file.Tensors.Single(t => t.Name == prefix + ".bsr_row_pointers").AsSpan<int>().ToArray();
        int[] columns = file.Tensors.Single(t => t.Name == prefix + ".csr_columns").AsSpan<int>().ToArray();
        int[] starts = file.Tensors.Single(t => t.Name == prefix + ".csr_row_pointers").AsSpan<int>().ToArray();
        // Move the first loose entry of a block row that holds a kept block into that block's first column.
        int g = Enumerable.Range(0, blockStarts.Length - 1).First(g => blockStarts[g + 1] > blockStarts[g]
            && Enumerable.Range(4 * g, 4).Any(i => i < starts.Length - 1 && starts[i + 1] > starts[i]));
        int row = Enumerable.Range(4 * g, 4).First(i => starts[i + 1] > starts[i]);
        int column = blockColumns[blockStarts[g]] * 2;
        int[] moved = [.. columns];
        moved[starts[row]] = column;
        Array.Sort(moved, starts[row], starts[row + 1] - starts[row]);
        new SafeTensorsFile(file.Tensors.Select(t => t.Name == prefix + ".csr_columns" ? SafeTensor.Create<int>(t.Name, moved, moved.Length) : t).ToList(), file.Metadata).Save(path);
        var e = Assert.Throws<InvalidDataException>(() => ModelCheckpoint.Load(path));
        Assert.Contains($"row {row}, column {column}, which a kept block already holds", e.Message);
    }

    [Theory]
    [InlineData(WeightPrecision.Int8, "int8", 1, false)]
    [InlineData(WeightPrecision.Float16, "fp16", 2, false)]
    [InlineData(WeightPrecision.Int8, "int8", 1, true)]
    public void A_quantized_compact_file_stores_a_byte_or_two_a_weight_and_loads_to_what_the_runtime_computes(WeightPrecision precision, string name, int bytes, bool tied)
    {
        (LanguageModel<float> model, Vocabulary vocabulary) = Compressed(DopedKronecker, 0.9, tied);
        model.CompressLstm(n => n == "rnn.weight_hh_l1" ? WeightFormSpec.Dense : null);
        string path = Path.Combine(_folder, "quantized.safetensors");
        Assert.Throws<ArgumentException>(() => ModelCheckpoint.Save(path, model, vocabulary, precision: precision));
        ModelCheckpoint.Save(path, model, vocabulary, compact: true, precision: precision);

        SafeTensorsFile file = SafeTensorsFile.Load(path);
        Assert.Equal(name, file.Metadata[ModelCheckpoint.PrecisionKey]);
        // The embedding (V × H), the dense W_hh of layer 1 (4H × H) and an untied decoder (V × H): values and row scales.
        int v = model.Config.VocabularySize, h = model.Config.HiddenSize;
        long quantizedValues = (long)v * h + 4L * h * h + (tied ? 0 : (long)v * h), scales = v + 4L * h + (tied ? 0 : v);
        long floatsSaved = quantizedValues * 4 - (quantizedValues * bytes + scales * 4);
        // S's single entries: a value and a 32-bit column each in fp32; at this precision the value, a 16-bit column and a scale a row.
        List<PrunedMatrix<float>> sparse = [.. model.WeightMatrices.SelectMany(m => WeightForms.PrunedParts(m.Matrix))];
        long sparseSaved = sparse.Sum(part => part.ParameterCount * 8 - (part.ParameterCount * (bytes + 2) + part.Rows * 4L));
        Assert.NotEmpty(sparse);
        Assert.Equal(model.CompressionReport().ModelBytes - floatsSaved - sparseSaved, file.Tensors.Sum(t => (long)t.Data.Length));
        Assert.Contains(file.Tensors, t => t.Name == "rnn.weight_hh_l1." + name);
        Assert.All(sparse, part => Assert.Equal(SafeTensorsDType.UInt16, file.Tensors.Single(t => t.Name == part.Weight.Name + ".csr_columns").DType));
        Assert.All(sparse, part => Assert.Contains(file.Tensors, t => t.Name == part.Weight.Name + ".csr_values." + name));

        LanguageModel<float> loaded = ModelCheckpoint.Load(path).Model;
        // Loading gives the dequantized values; the runtime quantizes them again to the same values, so the two agree.
        float[] original = new float[v], reloaded = new float[v];
        StreamingLanguageModel a = StreamingLanguageModel.From(model, precision),
            b = StreamingLanguageModel.From(loaded, precision);
        foreach (int token in new[] { 1, 4, 2, 0, 3 })
        {
            a.Step(token, original);
            b.Step(token, reloaded);
            for (int k = 0; k < v; k++) Assert.Equal(original[k], reloaded[k], Math.Abs(original[k]) * 1e-5 + 1e-6);
        }
    }

    [Fact]
    public void Corrupt_block_csr_arrays_are_named()
    {
        (LanguageModel<float> model, Vocabulary vocabulary) = Compressed("""{"kind":"pruned","block":"4x2"}""", 0.5, tied: false);
        string path = Path.Combine(_folder, "blocks.safetensors");
        ModelCheckpoint.Save(path, model, vocabulary, compact: true);
        SafeTensorsFile file = SafeTensorsFile.Load(path);
        string columns = "rnn.weight_hh_l0.weight.bsr_columns", pointers = "rnn.weight_hh_l0.weight.bsr_row_pointers";

        int[] badColumns = file.Tensors.Single(t => t.Name == columns).AsSpan<int>().ToArray();
        badColumns[0] = 7;  // 6 columns in blocks of 2: block columns 0-2
        new SafeTensorsFile(file.Tensors.Select(t => t.Name == columns ? SafeTensor.Create<int>(columns, badColumns, badColumns.Length) : t).ToList(), file.Metadata).Save(path);
        var e = Assert.Throws<InvalidDataException>(() => ModelCheckpoint.Load(path));
        Assert.Contains(columns, e.Message);
        Assert.Contains("holds 7", e.Message);

        int[] badPointers = file.Tensors.Single(t => t.Name == pointers).AsSpan<int>().ToArray();
        badPointers[2] = badPointers[1] - 1;
        new SafeTensorsFile(file.Tensors.Select(t => t.Name == pointers ? SafeTensor.Create<int>(pointers, badPointers, badPointers.Length) : t).ToList(), file.Metadata).Save(path);
        e = Assert.Throws<InvalidDataException>(() => ModelCheckpoint.Load(path));
        Assert.Contains(pointers, e.Message);

        // A training file whose mask splits a block.
        ModelCheckpoint.Save(path, model, vocabulary);
        file = SafeTensorsFile.Load(path);
        string mask = "rnn.weight_hh_l0.weight_mask";
        byte[] bits = file.Tensors.Single(t => t.Name == mask).AsSpan<byte>().ToArray();
        bits[0] ^= 1;
        new SafeTensorsFile(file.Tensors.Select(t => t.Name == mask ? SafeTensor.Create<byte>(mask, bits, 24, 6) : t).ToList(), file.Metadata).Save(path);
        e = Assert.Throws<InvalidDataException>(() => ModelCheckpoint.Load(path));
        Assert.Contains("block", e.Message);
    }

    [Fact]
    public void Corrupt_quantized_files_are_named()
    {
        (LanguageModel<float> model, Vocabulary vocabulary) = Compressed(DopedKronecker, 0.9, tied: false);
        string path = Path.Combine(_folder, "quantized.safetensors");
        ModelCheckpoint.Save(path, model, vocabulary, compact: true, precision: WeightPrecision.Int8);
        SafeTensorsFile file = SafeTensorsFile.Load(path);

        float[] scales = file.Tensors.Single(t => t.Name == "decoder.weight.scales").ToSingleArray();
        scales[2] = float.NaN;
        new SafeTensorsFile(file.Tensors.Select(t => t.Name == "decoder.weight.scales" ? SafeTensor.Create<float>(t.Name, scales, scales.Length) : t).ToList(), file.Metadata).Save(path);
        var e = Assert.Throws<InvalidDataException>(() => ModelCheckpoint.Load(path));
        Assert.Contains("decoder.weight.scales", e.Message);

        var metadata = file.Metadata.ToDictionary();
        metadata[ModelCheckpoint.PrecisionKey] = "int4";
        new SafeTensorsFile(file.Tensors.ToList(), metadata).Save(path);
        e = Assert.Throws<InvalidDataException>(() => ModelCheckpoint.Load(path));
        Assert.Contains("'int4'", e.Message);

        new SafeTensorsFile(file.Tensors.Where(t => t.Name != "encoder.weight.int8").ToList(), file.Metadata).Save(path);
        e = Assert.Throws<InvalidDataException>(() => ModelCheckpoint.Load(path));
        Assert.Contains("encoder.weight.int8", e.Message);

        string sparse = model.WeightMatrices.SelectMany(m => WeightForms.PrunedParts(m.Matrix)).First().Weight.Name;
        float[] sparseScales = file.Tensors.Single(t => t.Name == sparse + ".csr_scales").ToSingleArray();
        sparseScales[0] = -1;
        new SafeTensorsFile(file.Tensors.Select(t => t.Name == sparse + ".csr_scales" ? SafeTensor.Create<float>(t.Name, sparseScales, sparseScales.Length) : t).ToList(), file.Metadata).Save(path);
        e = Assert.Throws<InvalidDataException>(() => ModelCheckpoint.Load(path));
        Assert.Contains(sparse + ".csr_scales' holds -1 at row 0", e.Message);

        new SafeTensorsFile(file.Tensors.Where(t => t.Name != sparse + ".csr_values.int8").ToList(), file.Metadata).Save(path);
        e = Assert.Throws<InvalidDataException>(() => ModelCheckpoint.Load(path));
        Assert.Contains(sparse + ".csr_values.int8", e.Message);
    }

    [Fact]
    public void A_file_that_gives_a_layer_both_a_combined_matrix_and_w_ih_is_refused()
    {
        (LanguageModel<float> model, Vocabulary vocabulary) = ModelCheckpointTests.TinyModel(false);
        model.CombineLstm(name => name == "rnn.weight_l0" ? WeightFormSpec.Dense : null);
        model.CompressLstm(name => name == "rnn.weight_ih_l1" ? WeightFormSpec.LowRank(2) : null);
        string path = Path.Combine(_folder, "both.safetensors");
        ModelCheckpoint.Save(path, model, vocabulary);
        SafeTensorsFile file = SafeTensorsFile.Load(path);
        var metadata = file.Metadata.ToDictionary();
        metadata[ModelCheckpoint.FormsKey] = metadata[ModelCheckpoint.FormsKey].Replace("rnn.weight_ih_l1", "rnn.weight_ih_l0");
        new SafeTensorsFile(file.Tensors.Select(t => t.Name.StartsWith("rnn.weight_ih_l1.", StringComparison.Ordinal)
            ? SafeTensor.Create<float>(t.Name.Replace("_l1.", "_l0."), t.ToSingleArray(), [.. t.Shape]) : t).ToList(), metadata).Save(path);
        var e = Assert.Throws<InvalidDataException>(() => ModelCheckpoint.Load(path));
        Assert.Contains("both layer 0's combined matrix and W_ih or W_hh", e.Message);
    }

    [Fact]
    public void Pruned_values_that_an_optimizer_moved_are_restored_exactly()
    {
        (LanguageModel<float> model, Vocabulary vocabulary) = Compressed("""{"kind":"pruned"}""", 0.7, tied: false);
        var pruned = (PrunedMatrix<float>)model.Layers[0].InputWeights;
        int k = pruned.Mask.IndexOf(0f);
        pruned.Weight.Value[k] = 0.125f;     // a momentum step after pruning, before ApplyMask
        pruned.Weight.Value[k + 1] = -0f;
        string path = Path.Combine(_folder, "p.safetensors");
        ModelCheckpoint.Save(path, model, vocabulary);
        var restored = (PrunedMatrix<float>)ModelCheckpoint.Load(path).Model.Layers[0].InputWeights;
        Assert.Equal(Bits(pruned.Weight.Value), Bits(restored.Weight.Value));
        Assert.Equal(pruned.PrunedCount, restored.PrunedCount);
        Assert.Equal(pruned.ToDense(), restored.ToDense());
    }

    [Fact]
    public void Corrupt_forms_metadata_and_masks_are_named()
    {
        (LanguageModel<float> model, Vocabulary vocabulary) = ModelCheckpointTests.TinyModel(false);
        model.CompressLstm(name => name switch
        {
            "rnn.weight_ih_l0" => WeightFormSpec.Parse(Kronecker1),
            "rnn.weight_hh_l1" => WeightFormSpec.Parse(DopedLowRank),
            _ => null,
        });
        ((DopedMatrix<float>)model.Layers[1].RecurrentWeights).Sparse.PruneToSparsity(0.9);
        string path = Path.Combine(_folder, "m.safetensors");
        ModelCheckpoint.Save(path, model, vocabulary);
        SafeTensorsFile good = SafeTensorsFile.Load(path);
        ModelCheckpoint.Load(path);

        string Fails(IEnumerable<SafeTensor> tensors, IReadOnlyDictionary<string, string> metadata)
        {
            new SafeTensorsFile(tensors, metadata).Save(path);
            string message = Assert.Throws<InvalidDataException>(() => ModelCheckpoint.Load(path)).Message;
            Assert.Contains("m.safetensors", message);
            Assert.DoesNotContain('\n', message);
            return message;
        }
        IReadOnlyDictionary<string, string> WithForms(string forms)
        {
            var metadata = good.Metadata.ToDictionary(kv => kv.Key, kv => kv.Value);
            metadata[ModelCheckpoint.FormsKey] = forms;
            return metadata;
        }
        string dopedLowRank = $"\"rnn.weight_hh_l1\":{DopedLowRank}";
        SafeTensor Mask(byte value, int at)
        {
            SafeTensor mask = good.Tensors.Single(t => t.Name == "rnn.weight_hh_l1.doping.weight_mask");
            byte[] bytes = mask.AsSpan<byte>().ToArray();
            bytes[at] = value;
            return SafeTensor.Create<byte>(mask.Name, bytes, [.. mask.Shape]);
        }

        string unknown = Fails(good.Tensors, WithForms($$"""{"rnn.weight_ih_l0":{"kind":"tensor_train","rank":1},{{dopedLowRank}}}"""));
        Assert.Contains("dopant.forms", unknown);
        Assert.Contains("rnn.weight_ih_l0", unknown);
        Assert.Contains("unknown kind 'tensor_train'", unknown);

        string badShape = Fails(good.Tensors, WithForms($$"""{"rnn.weight_ih_l0":{"kind":"kronecker","shape":"4by2,6x3","rank":1},{{dopedLowRank}}}"""));
        Assert.Contains("4by2", badShape);
        Assert.Contains("rnn.weight_ih_l0", badShape);

        Assert.Contains("12×6", Fails(good.Tensors, WithForms($$"""{"rnn.weight_ih_l0":{"kind":"kronecker","shape":"2x2,6x3","rank":1},{{dopedLowRank}}}""")));
        Assert.Contains("dopant.forms", Fails(good.Tensors, WithForms("{not json")));
        Assert.Contains("sparsity", Fails(good.Tensors, WithForms($$"""{"rnn.weight_ih_l0":{"kind":"pruned","sparsity":0.5},{{dopedLowRank}}}""")));
        Assert.Contains("rnn.weight_hh_l7", Fails(good.Tensors, WithForms($$"""{"rnn.weight_hh_l7":{{Kronecker1}},"rnn.weight_ih_l0":{{Kronecker1}},{{dopedLowRank}}}""")));

        Assert.Contains("rnn.weight_hh_l1.doping.weight_mask",
            Fails(good.Tensors.Where(t => t.Name != "rnn.weight_hh_l1.doping.weight_mask"), good.Metadata));
        string two = Fails(good.Tensors.Select(t => t.Name.EndsWith("_mask", StringComparison.Ordinal) ? Mask(2, 17) : t), good.Metadata);
        Assert.Contains("rnn.weight_hh_l1.doping.weight_mask", two);
        Assert.Contains("holds 2 at index 17", two);

        // Metadata that lost the forms: the compressed tensors are then unexpected, the dense ones missing.
        var noForms = good.Metadata.Where(kv => kv.Key != ModelCheckpoint.FormsKey).ToDictionary(kv => kv.Key, kv => kv.Value);
        Assert.Contains("rnn.weight_ih_l0", Fails(good.Tensors, noForms));
        // A form's tensor of the wrong shape, a missing one, and an extra one.
        Assert.Contains("rnn.weight_ih_l0.kron_b", Fails(good.Tensors.Select(t => t.Name == "rnn.weight_ih_l0.kron_b" ? SafeTensor.Create<float>(t.Name, new float[18], 1, 3, 6) : t), good.Metadata));
        Assert.Contains("rnn.weight_hh_l1.lmf_v", Fails(good.Tensors.Where(t => t.Name != "rnn.weight_hh_l1.lmf_v"), good.Metadata));
        Assert.Contains("rnn.weight_ih_l0.lmf_u", Fails(good.Tensors.Append(SafeTensor.Create<float>("rnn.weight_ih_l0.lmf_u", new float[2], 2)), good.Metadata));
    }

    [Fact]
    public void Saving_a_form_whose_tensor_names_a_load_would_not_rebuild_fails()
    {
        (LanguageModel<float> model, Vocabulary vocabulary) = ModelCheckpointTests.TinyModel(false);
        IRecurrentLayer<float> layer = model.Layers[0];
        layer.ReplaceWeights(new KroneckerMatrix<float>("other", new KroneckerShape(4, 2, 6, 3)), layer.RecurrentWeights);
        var e = Assert.Throws<ArgumentException>(() => ModelCheckpoint.Save(Path.Combine(_folder, "x.safetensors"), model, vocabulary));
        Assert.Contains("rnn.weight_ih_l0", e.Message);
        Assert.Contains("other.kron_a", e.Message);
        Assert.False(File.Exists(Path.Combine(_folder, "x.safetensors")));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Compression_report_counts_by_hand(bool tied)
    {
        // V = 5, H = 6, 2 layers, float. A dense layer: 4H·(H + H) + 2·4H = 288 + 48 = 336 weights, so 672 for both.
        (LanguageModel<float> model, _) = ModelCheckpointTests.TinyModel(tied);
        // Embedding 5·6 = 30, decoder 30 (none when tied), decoder bias 5.
        long rest = tied ? 35 : 65;
        Assert.Equal(new CompressionReport(672, 672, 2688, 2688, 672 + rest, 672 + rest, 4 * (672 + rest), 4 * (672 + rest)), model.CompressionReport());

        // W_hh of layer 1 → 4×2 ⊗ 6×3: 8 + 18 = 26 weights for 144. W_ih of layer 0 → pruned to half: 72 kept of 144,
        // stored in CSR as 72·(4 + 4) + (24 + 1)·4 = 676 bytes.
        model.CompressLstm(name => name switch
        {
            "rnn.weight_hh_l1" => WeightFormSpec.Parse(Kronecker1),
            "rnn.weight_ih_l0" => WeightFormSpec.Pruned,
            _ => null,
        });
        ((PrunedMatrix<float>)model.Layers[0].InputWeights).PruneToSparsity(0.5);
        long lstm = 672 - 144 + 26 - 72;          // 482
        long lstmBytes = (lstm - 72) * 4 + 676;   // 2316
        CompressionReport report = model.CompressionReport();
        Assert.Equal(new CompressionReport(672, lstm, 2688, lstmBytes, 672 + rest, lstm + rest, 4 * (672 + rest), lstmBytes + 4 * rest), report);
        Assert.Equal(672.0 / 482, report.LstmParameterFactor);
        Assert.Equal(2688.0 / 2316, report.LstmByteFactor);
        Assert.Equal((672.0 + rest) / (482 + rest), report.ModelParameterFactor);
        Assert.Equal(4.0 * (672 + rest) / (2316 + 4 * rest), report.ModelByteFactor);
        // Layer 0: 72 + 144 + 48 = 264; layer 1: 144 + 26 + 48 = 218.
        Assert.Equal((264L, 218L), (model.Layers[0].ParameterCount, model.Layers[1].ParameterCount));
        // The tensors the optimizer holds: the pruned matrix keeps all 144 values, the Kronecker factors 26.
        Assert.Equal(672 - 144 + 26 + rest, model.ParameterCount);
    }

    private static (LanguageModel<float>, Vocabulary) Compressed(string json, double sparsity, bool tied, bool combined = false)
    {
        (LanguageModel<float> model, Vocabulary vocabulary) = ModelCheckpointTests.TinyModel(tied);
        WeightFormSpec spec = WeightFormSpec.Parse(json);
        if (combined) Assert.Equal(2, model.CombineLstm(_ => spec));
        else Assert.Equal(4, model.CompressLstm(_ => spec));
        foreach (LstmLayer<float> layer in model.Layers)
            foreach (PrunedMatrix<float> pruned in layer.WeightMatrices.SelectMany(m => WeightForms.PrunedParts(m.Matrix)))
                pruned.PruneToSparsity(sparsity);
        return (model, vocabulary);
    }

    private static float[][] Masks(IRecurrentLayer<float> layer) =>
        layer.WeightMatrices.SelectMany(m => WeightForms.PrunedParts(m.Matrix)).Select(p => p.Mask.ToArray()).ToArray();

    private static int[] Bits(float[] values) => values.Select(BitConverter.SingleToInt32Bits).ToArray();

    private static float[] Logits(LanguageModel<float> model)
    {
        int[] inputs = [1, 2, 3, 4, 0, 2], targets = [2, 3, 4, 0, 2, 1];
        model.Forward(inputs, targets, steps: 3, batch: 2, model.CreateState(2));
        return model.Output.ToArray();
    }
}
