using System.Numerics;
using System.Text.Json;
using Dopant.Matrices;
using Dopant.Models;

namespace Dopant.Tests.Models;

/// <summary>
/// Taggers and sentence classifiers against PyTorch 1.13 on committed fixtures (regenerate with /usr/bin/python3
/// bench/pytorch/make_labeler_golden.py): ragged sentences through packed bidirectional and unidirectional LSTM and GRU
/// stacks, token labels and sentence labels pooled by final state or mean; loss, logits, features, every gradient, and
/// three SGD steps.
/// </summary>
public class SentenceLabelerGoldenTests
{
    public static TheoryData<string> Fixtures => new()
    {
        "tagger_golden.json", "classifier_final_golden.json", "classifier_mean_golden.json", "tagger_gru_uni_golden.json",
    };

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Loss_logits_features_and_gradients_match_in_double(string name) => Check<double>(name, 1e-9, 1e-9);

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Loss_logits_features_and_gradients_match_in_float(string name) => Check<float>(name, 2e-4, 1e-3);

    private static void Check<T>(string name, double tolerance, double weightTolerance) where T : unmanaged, IFloatingPointIeee754<T>
    {
        JsonElement root = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", name))).RootElement;
        JsonElement config = root.GetProperty("config");
        var model = new SentenceLabeler<T>(new SentenceModelConfig(
            config.GetProperty("vocab_size").GetInt32(), config.GetProperty("embedding_size").GetInt32(), config.GetProperty("hidden_size").GetInt32(),
            config.GetProperty("num_layers").GetInt32(), config.GetProperty("num_labels").GetInt32(),
            config.GetProperty("head").GetString() == "token_labels" ? LabelHead.TokenLabels : LabelHead.SequenceLabel)
        {
            Cell = RecurrentCells.Parse(config.GetProperty("cell").GetString()!),
            Bidirectional = config.GetProperty("bidirectional").GetBoolean(),
            Pooling = config.GetProperty("pooling").ValueKind == JsonValueKind.String && config.GetProperty("pooling").GetString() == "mean"
                ? SentencePooling.Mean : SentencePooling.Final,
        });
        Assert.Equal(root.GetProperty("param_names").EnumerateArray().Select(e => e.GetString()), model.Parameters.Select(p => p.Name));
        JsonElement initial = root.GetProperty("initial_params");
        foreach (Parameter<T> p in model.Parameters)
        {
            Assert.Equal(Shape(initial.GetProperty(p.Name)), p.Shape);
            double[] values = Values(initial.GetProperty(p.Name));
            for (int k = 0; k < values.Length; k++) p.Value[k] = T.CreateChecked(values[k]);
        }

        int[][] tokenRows = [.. root.GetProperty("tokens").EnumerateArray().Select(r => r.EnumerateArray().Select(e => e.GetInt32()).ToArray())];
        int steps = tokenRows.Length, batch = tokenRows[0].Length;
        int[] tokens = [.. tokenRows.SelectMany(r => r)];
        int[] lengths = [.. root.GetProperty("lengths").EnumerateArray().Select(e => e.GetInt32())];
        JsonElement labelsJson = root.GetProperty("labels");
        int[] labels = labelsJson[0].ValueKind == JsonValueKind.Array
            ? [.. labelsJson.EnumerateArray().SelectMany(r => r.EnumerateArray().Select(e => e.GetInt32()))]
            : [.. labelsJson.EnumerateArray().Select(e => e.GetInt32())];
        bool tokenLabels = model.Config.Head == LabelHead.TokenLabels;
        int c = model.Config.LabelCount, d = model.Config.OutputSize;

        double loss = model.Forward(tokens, lengths, labels, steps, batch);
        int count = root.GetProperty("count").GetInt32();
        Assert.Equal(count, model.Count);
        AssertClose("loss_sum", root.GetProperty("loss_sum").GetDouble(), loss, tolerance);

        // The fixture's logits and features cover every position [T, B, ·]; the model keeps the scored ones in time-major order.
        double[] logits = Values(root.GetProperty("logits")), features = Values(root.GetProperty("features"));
        int[] scored = tokenLabels
            ? [.. Enumerable.Range(0, steps * batch).Where(r => r / batch < lengths[r % batch])]
            : [.. Enumerable.Range(0, batch)];
        for (int n = 0; n < scored.Length; n++)
        {
            double[] expected = Softmax(logits.AsSpan(scored[n] * c, c));
            for (int j = 0; j < c; j++) AssertClose($"p[{n},{j}]", expected[j], double.CreateChecked(model.Probabilities[n * c + j]), tolerance);
            for (int j = 0; j < d; j++) AssertClose($"feature[{n},{j}]", features[scored[n] * d + j], double.CreateChecked(model.Features[n * d + j]), tolerance, absolute: true);
        }

        model.ZeroGradients();
        model.Backward(T.One / T.CreateChecked(count));
        JsonElement grads = root.GetProperty("grads");
        foreach (Parameter<T> p in model.Parameters) AssertAllClose(p.Name + ".grad", Values(grads.GetProperty(p.Name)), p.Gradient, tolerance);

        JsonElement sgd = root.GetProperty("sgd");
        T rate = T.CreateChecked(sgd.GetProperty("lr").GetDouble());
        foreach (JsonElement expectedLoss in sgd.GetProperty("losses").EnumerateArray())
        {
            model.ZeroGradients();
            AssertClose("sgd loss", expectedLoss.GetDouble(), model.Forward(tokens, lengths, labels, steps, batch) / count, tolerance);
            model.Backward(T.One / T.CreateChecked(count));
            foreach (Parameter<T> p in model.Parameters)
                for (int k = 0; k < p.Length; k++) p.Value[k] -= rate * p.Gradient[k];
        }
        JsonElement final = sgd.GetProperty("final_params");
        foreach (Parameter<T> p in model.Parameters) AssertAllClose(p.Name, Values(final.GetProperty(p.Name)), p.Value, weightTolerance);
    }

    private static double[] Values(JsonElement tensor) => [.. tensor.GetProperty("values").EnumerateArray().Select(e => e.GetDouble())];

    private static int[] Shape(JsonElement tensor) => [.. tensor.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32())];

    private static double[] Softmax(ReadOnlySpan<double> z)
    {
        double max = double.NegativeInfinity;
        foreach (double x in z) max = Math.Max(max, x);
        var e = new double[z.Length];
        double sum = 0;
        for (int i = 0; i < z.Length; i++) sum += e[i] = Math.Exp(z[i] - max);
        for (int i = 0; i < z.Length; i++) e[i] /= sum;
        return e;
    }

    private static void AssertAllClose<T>(string what, double[] expected, T[] actual, double tolerance) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = Math.Max(1e-6, expected.Max(Math.Abs));
        for (int k = 0; k < expected.Length; k++)
        {
            double a = double.CreateChecked(actual[k]);
            Assert.True(Math.Abs(a - expected[k]) <= tolerance * scale, $"{what}[{k}]: expected {expected[k]:R}, got {a:R} (tolerance {tolerance} × {scale:G3}).");
        }
    }

    private static void AssertClose(string what, double expected, double actual, double tolerance, bool absolute = false) =>
        Assert.True(Math.Abs(actual - expected) <= tolerance * (absolute ? 1 : Math.Max(1e-6, Math.Abs(expected))),
            $"{what}: expected {expected:R}, got {actual:R} (tolerance {tolerance}).");
}
