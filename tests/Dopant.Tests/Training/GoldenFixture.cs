using System.Text.Json;

namespace Dopant.Tests.Training;

/// <summary>
/// Reads a golden fixture written by bench/pytorch/make_golden.py (PyTorch, float64): a tiny LSTM LM's initial
/// weights, a batched token stream, the loss, logits, gradients and final state of window 0, and five SGD steps.
/// </summary>
internal sealed class GoldenFixture
{
    private readonly JsonElement _root;

    public GoldenFixture(string fileName)
    {
        string path = Path.Combine(AppContext.BaseDirectory, "Fixtures", fileName);
        _root = JsonDocument.Parse(File.ReadAllText(path)).RootElement;
    }

    public JsonElement Config => _root.GetProperty("config");
    public int Int(string key) => Config.GetProperty(key).GetInt32();
    public double Double(string key) => Config.GetProperty(key).GetDouble();
    public bool Tied => Config.GetProperty("tied").GetBoolean();
    public int[] Stream => _root.GetProperty("stream").EnumerateArray().Select(e => e.GetInt32()).ToArray();
    public int[][] Data => _root.GetProperty("data").EnumerateArray().Select(r => r.EnumerateArray().Select(e => e.GetInt32()).ToArray()).ToArray();
    public string[] Vocabulary => _root.GetProperty("vocab").EnumerateArray().Select(e => e.GetString()!).ToArray();
    public JsonElement Window0 => _root.GetProperty("window0");
    public JsonElement Training => _root.GetProperty("training");
    public JsonElement InitialParameters => _root.GetProperty("initial_params");

    public static double[] Values(JsonElement tensor) =>
        tensor.GetProperty("values").EnumerateArray().Select(e => e.GetDouble()).ToArray();

    public static int[] Shape(JsonElement tensor) =>
        tensor.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray();
}
