using Dopant.Matrices;
using Dopant.Models;
using Dopant.Numerics;
using Dopant.Onnx;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Dopant.Tests.Onnx;

/// <summary>
/// Exported steps run by ONNX Runtime token by token, the state fed back, against Dopant's training forward: every
/// form (dense, low rank, hybrid, Kronecker, pruned, doped), compressed embeddings and decoders, GRU, E ≠ H, tying,
/// and int8/fp16 against Dopant's streaming runtime at the same precision.
/// </summary>
public sealed class OnnxExportTests : IDisposable
{
    private const int Vocabulary = 41, Hidden = 12, Tokens = 9;
    private readonly string _folder = Directory.CreateTempSubdirectory("dopant-onnx-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    public static TheoryData<RecurrentCell, int, bool, string, string, string> Models() => new()
    {
        { RecurrentCell.Lstm, Hidden, false, """{"kind":"dense"}""", "", "" },
        { RecurrentCell.Lstm, Hidden, true, """{"kind":"kronecker","shape":"8x4,6x3","rank":2}""", "", "" },
        { RecurrentCell.Lstm, 7, false, """{"kind":"low_rank","rank":3}""", """{"kind":"low_rank","rank":2}""", """{"kind":"kronecker","shape":"41x4,1x3","rank":1}""" },
        { RecurrentCell.Lstm, Hidden, false, """{"kind":"doped","structure":{"kind":"kronecker","shape":"8x4,6x3","rank":1}}""", "", """{"kind":"pruned"}""" },
        { RecurrentCell.Lstm, Hidden, false, """{"kind":"hybrid","dense_rows":5,"rank":2}""", """{"kind":"doped","structure":{"kind":"low_rank","rank":2}}""", "" },
        { RecurrentCell.Gru, 20, false, """{"kind":"pruned","block":"4x1"}""", "", """{"kind":"doped","structure":{"kind":"low_rank","rank":2}}""" },
        { RecurrentCell.Gru, Hidden, true, """{"kind":"dense"}""", "", "" },
        // The configuration of RESULTS' doped low-rank head: doped Kronecker layers, one doped low-rank matrix as embedding and head.
        { RecurrentCell.Lstm, Hidden, true, """{"kind":"doped","structure":{"kind":"kronecker","shape":"8x4,6x3","rank":1}}""", """{"kind":"doped","structure":{"kind":"low_rank","rank":3}}""", "" },
    };

    [Theory]
    [MemberData(nameof(Models))]
    public void Onnx_runtime_scores_the_exported_step_as_dopant_does(RecurrentCell cell, int embedding, bool tied, string recurrent, string encoder, string decoder)
    {
        LanguageModel<float> model = Model(cell, embedding, tied, recurrent, encoder, decoder);
        int[] tokens = [.. Enumerable.Range(0, Tokens + 1).Select(t => (t * 17 + 3) % Vocabulary)];
        model.Forward(tokens.AsSpan(0, Tokens), tokens.AsSpan(1, Tokens), Tokens, 1, model.CreateState(1));
        float[] expected = model.Output.ToArray();  // next-token probabilities

        string path = Path.Combine(_folder, "step.onnx");
        OnnxExport.Write(model, path);
        float[][] logits = Run(path, model, tokens[..Tokens]);
        double worst = 0;
        for (int t = 0; t < Tokens; t++)
        {
            double max = logits[t].Max(), sum = logits[t].Sum(v => Math.Exp(v - max));
            for (int v = 0; v < Vocabulary; v++)
            {
                double p = Math.Exp(logits[t][v] - max) / sum, q = expected[t * Vocabulary + v];
                worst = Math.Max(worst, Math.Abs(p - q) / q);
            }
        }
        Assert.True(worst < 1e-4, $"largest relative difference of a probability: {worst:E2}");
    }

    [Theory]
    [InlineData(WeightPrecision.Int8)]
    [InlineData(WeightPrecision.Float16)]
    public void Quantized_exports_score_as_the_runtime_at_the_same_precision(WeightPrecision precision)
    {
        LanguageModel<float> model = Model(RecurrentCell.Lstm, 7, false, """{"kind":"dense"}""", "", "");
        int[] tokens = [.. Enumerable.Range(0, Tokens).Select(t => (t * 5 + 1) % Vocabulary)];
        var runtime = Dopant.Inference.StreamingLanguageModel.From(model, precision);
        string path = Path.Combine(_folder, "step.onnx");
        OnnxExport.Write(model, path, precision);
        float[][] logits = Run(path, model, tokens);
        var expected = new float[Vocabulary];
        for (int t = 0; t < Tokens; t++)
        {
            runtime.Step(tokens[t], expected);
            AssertClose(expected, logits[t], 1e-4, $"token {t}");
        }
        // Each dense m × n matrix saves (4 − b)·m·n bytes and costs a scale per row, less a few hundred bytes of nodes each.
        long fp32 = OnnxExport.Write(model, Path.Combine(_folder, "fp32.onnx"));
        int bytes = precision == WeightPrecision.Int8 ? 1 : 2;
        long saved = model.WeightMatrices.Sum(m => (4L - bytes) * m.Matrix.Rows * m.Matrix.Columns - 4L * m.Matrix.Rows);
        Assert.InRange(fp32 - new FileInfo(path).Length, saved - 400L * model.WeightMatrices.Count, saved);
    }

    // Logits of each token from ONNX Runtime, the state fed back from one call to the next.
    private static float[][] Run(string path, LanguageModel<float> model, int[] tokens)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 1 };
        using var session = new InferenceSession(path, options);
        int layers = model.Config.Layers, hidden = model.Config.HiddenSize;
        bool lstm = model.Config.Cell == RecurrentCell.Lstm;
        var h = new DenseTensor<float>([layers, hidden]);
        var c = new DenseTensor<float>([layers, hidden]);
        var result = new float[tokens.Length][];
        for (int t = 0; t < tokens.Length; t++)
        {
            var inputs = new List<NamedOnnxValue>
            {
                NamedOnnxValue.CreateFromTensor("token", new DenseTensor<long>(new long[] { tokens[t] }, [1])),
                NamedOnnxValue.CreateFromTensor("h", h),
            };
            if (lstm) inputs.Add(NamedOnnxValue.CreateFromTensor("c", c));
            using IDisposableReadOnlyCollection<DisposableNamedOnnxValue> outputs = session.Run(inputs);
            result[t] = outputs.Single(o => o.Name == "logits").AsTensor<float>().ToArray();
            h = (DenseTensor<float>)outputs.Single(o => o.Name == "h_out").AsTensor<float>().Clone();
            if (lstm) c = (DenseTensor<float>)outputs.Single(o => o.Name == "c_out").AsTensor<float>().Clone();
        }
        return result;
    }

    private static void AssertClose(ReadOnlySpan<float> expected, float[] actual, double relative, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = 0;
        foreach (float v in expected) scale = Math.Max(scale, Math.Abs(v));
        for (int v = 0; v < expected.Length; v++)
            Assert.True(Math.Abs(expected[v] - actual[v]) <= relative * scale, $"{what}, logit {v}: ONNX Runtime {actual[v]}, Dopant {expected[v]}");
    }

    private static LanguageModel<float> Model(RecurrentCell cell, int embedding, bool tied, string recurrent, string encoder, string decoder)
    {
        var model = new LanguageModel<float>(new LanguageModelConfig(Vocabulary, Hidden, 2, TiedWeights: tied) { Cell = cell, EmbeddingSize = embedding });
        model.InitializeUniform(0.3, new Xoshiro256(7));
        WeightFormSpec spec = WeightFormSpec.Parse(recurrent);
        model.Compress(name => name == LanguageModel<float>.EncoderWeightName ? (encoder == "" ? null : WeightFormSpec.Parse(encoder))
            : name == LanguageModel<float>.DecoderWeightName ? (decoder == "" ? null : WeightFormSpec.Parse(decoder))
            : spec);
        var random = new Random(3);
        foreach (Parameter<float> p in model.Parameters)
            for (int k = 0; k < p.Length; k++) p.Value[k] = (float)(random.NextDouble() * 0.6 - 0.3);
        foreach (PrunedMatrix<float> pruned in model.WeightMatrices.SelectMany(m => WeightForms.PrunedParts(m.Matrix))) pruned.PruneToSparsity(0.8);
        return model;
    }
}
