using System.Numerics;
using System.Text.Json;
using Dopant.Data;
using Dopant.Matrices;
using Dopant.Models;
using Dopant.Training;

namespace Dopant.Tests.Training;

/// <summary>
/// Dopant against PyTorch 1.13 on the committed fixtures (regenerate with /usr/bin/python3 bench/pytorch/make_golden.py).
/// Tolerances: the double model must agree to 1e-9 relative; the float model to 2e-4 relative on losses and
/// gradients (float32 rounding through two layers and five steps), 1e-3 on weights after five steps.
/// </summary>
public class PyTorchGoldenTests
{
    public static TheoryData<string> Fixtures => new() { "lm_golden.json", "lm_golden_tied.json", "lm_golden_gru.json", "lm_golden_emsize.json", "lm_golden_layers.json", "lm_golden_layers_gru.json" };

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Batching_matches_pytorch_batchify(string fixtureName)
    {
        var fixture = new GoldenFixture(fixtureName);
        var stream = new BatchedTokenStream(fixture.Stream, fixture.Int("batch_size"));
        int[][] data = fixture.Data;
        Assert.Equal(data.Length, stream.Length);
        for (int t = 0; t < data.Length; t++) Assert.Equal(data[t], stream.Row(t).ToArray());
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Window_zero_loss_logits_gradients_and_state_match_in_double(string fixtureName) =>
        CheckWindowZero<double>(new GoldenFixture(fixtureName), 1e-9);

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Window_zero_loss_logits_gradients_and_state_match_in_float(string fixtureName) =>
        CheckWindowZero<float>(new GoldenFixture(fixtureName), 2e-4);

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Five_sgd_steps_with_clipping_and_carried_state_match_in_double(string fixtureName) =>
        CheckTraining<double>(new GoldenFixture(fixtureName), 1e-9, 1e-9);

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Five_sgd_steps_with_clipping_and_carried_state_match_in_float(string fixtureName) =>
        CheckTraining<float>(new GoldenFixture(fixtureName), 2e-4, 1e-3);

    private static void CheckWindowZero<T>(GoldenFixture fixture, double tolerance) where T : unmanaged, IFloatingPointIeee754<T>
    {
        (LanguageModel<T> model, BatchedTokenStream stream) = Load<T>(fixture);
        int batch = stream.BatchSize, steps = fixture.Window0.GetProperty("seq_len").GetInt32();
        var inputs = new int[steps * batch];
        var targets = new int[steps * batch];
        stream.CopyWindow(new BpttWindow(0, steps), inputs, targets);
        var state = model.CreateState(batch);
        double loss = model.Forward(inputs, targets, steps, batch, state) / (steps * batch);
        AssertClose("loss", fixture.Window0.GetProperty("loss").GetDouble(), loss, tolerance);

        double[] logits = GoldenFixture.Values(fixture.Window0.GetProperty("logits"));
        int v = model.Config.VocabularySize;
        for (int r = 0; r < steps * batch; r++)
        {
            double[] expected = Softmax(logits.AsSpan(r * v, v));
            for (int j = 0; j < v; j++) AssertClose($"p[{r},{j}]", expected[j], double.CreateChecked(model.Output[r * v + j]), tolerance);
        }

        model.ZeroGradients();
        model.Backward(T.CreateChecked(1.0 / (steps * batch)));
        JsonElement grads = fixture.Window0.GetProperty("grads");
        foreach (Parameter<T> p in model.Parameters)
            AssertAllClose(p.Name + ".grad", GoldenFixture.Values(grads.GetProperty(p.Name)), p.Gradient, tolerance);
        AssertState(fixture.Window0.GetProperty("final_state"), state, tolerance);
    }

    private static void CheckTraining<T>(GoldenFixture fixture, double tolerance, double weightTolerance) where T : unmanaged, IFloatingPointIeee754<T>
    {
        (LanguageModel<T> model, BatchedTokenStream stream) = Load<T>(fixture);
        int batch = stream.BatchSize;
        var step = new TbpttStep<T>(model, new SgdOptimizer<T>(), fixture.Double("clip"), timeSummedLoss: true);
        var state = model.CreateState(batch);
        var inputs = new int[fixture.Int("bptt") * batch];
        var targets = new int[inputs.Length];
        foreach (JsonElement expected in fixture.Training.GetProperty("steps").EnumerateArray())
        {
            var window = new BpttWindow(expected.GetProperty("start").GetInt32(), expected.GetProperty("seq_len").GetInt32());
            int n = stream.CopyWindow(window, inputs, targets);
            StepResult result = step.Run(inputs.AsSpan(0, n), targets.AsSpan(0, n), window.Length, batch, state, expected.GetProperty("lr").GetDouble());
            int w = expected.GetProperty("window").GetInt32();
            AssertClose($"loss of step {w}", expected.GetProperty("loss").GetDouble(), result.Loss / n, tolerance);
            AssertClose($"gradient norm of step {w}", expected.GetProperty("grad_norm").GetDouble(), result.GradientNorm, tolerance);
        }
        JsonElement final = fixture.Training.GetProperty("final_params");
        foreach (Parameter<T> p in model.Parameters)
            AssertAllClose(p.Name, GoldenFixture.Values(final.GetProperty(p.Name)), p.Value, weightTolerance);
        AssertState(fixture.Training.GetProperty("final_state"), state, weightTolerance);
    }

    private static (LanguageModel<T>, BatchedTokenStream) Load<T>(GoldenFixture fixture) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var config = new LanguageModelConfig(fixture.Int("vocab_size"), fixture.Int("hidden_size"), fixture.Int("num_layers"), fixture.Double("dropout"), fixture.Tied)
        {
            Cell = fixture.Config.TryGetProperty("cell", out JsonElement cell) ? RecurrentCells.Parse(cell.GetString()!) : RecurrentCell.Lstm,
            EmbeddingSize = fixture.Config.TryGetProperty("embedding_size", out JsonElement width) ? width.GetInt32() : fixture.Int("hidden_size"),
            LayerSizes = fixture.Config.TryGetProperty("hidden_sizes", out JsonElement sizes) ? new LayerSizes(sizes.EnumerateArray().Select(e => e.GetInt32())) : default,
        };
        var model = new LanguageModel<T>(config);
        foreach (Parameter<T> p in model.Parameters)
        {
            JsonElement tensor = fixture.InitialParameters.GetProperty(p.Name);
            Assert.Equal(p.Shape, GoldenFixture.Shape(tensor));
            double[] values = GoldenFixture.Values(tensor);
            for (int k = 0; k < values.Length; k++) p.Value[k] = T.CreateChecked(values[k]);
        }
        if (fixture.Tied) Assert.Same(model.Encoder.Weight, ((DenseMatrix<T>)model.Decoder.Weight).Weight);
        return (model, new BatchedTokenStream(fixture.Stream, fixture.Int("batch_size")));
    }

    private static void AssertState<T>(JsonElement expected, RecurrentState<T> state, double tolerance) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int l = 0; l < state.Hidden.Length; l++)
        {
            AssertAllClose($"h_l{l}", GoldenFixture.Values(expected.GetProperty($"h_l{l}")), state.Hidden[l], tolerance);
            if (expected.TryGetProperty($"c_l{l}", out JsonElement cell)) AssertAllClose($"c_l{l}", GoldenFixture.Values(cell), state.Cell[l], tolerance);
            else Assert.Empty(state.Cell[l]);
        }
    }

    private static double[] Softmax(ReadOnlySpan<double> z)
    {
        double max = double.NegativeInfinity;
        foreach (double x in z) max = Math.Max(max, x);
        double[] e = new double[z.Length];
        double sum = 0;
        for (int i = 0; i < z.Length; i++) sum += e[i] = Math.Exp(z[i] - max);
        for (int i = 0; i < z.Length; i++) e[i] /= sum;
        return e;
    }

    private static void AssertAllClose<T>(string what, double[] expected, T[] actual, double tolerance) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Assert.Equal(expected.Length, actual.Length);
        // Scale by the tensor's largest magnitude: tiny entries of a gradient carry only absolute precision.
        double scale = Math.Max(1e-6, expected.Max(Math.Abs));
        for (int k = 0; k < expected.Length; k++)
        {
            double a = double.CreateChecked(actual[k]);
            Assert.True(Math.Abs(a - expected[k]) <= tolerance * scale,
                $"{what}[{k}]: expected {expected[k]:R}, got {a:R} (tolerance {tolerance} × {scale:G3}).");
        }
    }

    private static void AssertClose(string what, double expected, double actual, double tolerance) =>
        Assert.True(Math.Abs(actual - expected) <= tolerance * Math.Max(1e-6, Math.Abs(expected)),
            $"{what}: expected {expected:R}, got {actual:R} (relative tolerance {tolerance}).");
}
