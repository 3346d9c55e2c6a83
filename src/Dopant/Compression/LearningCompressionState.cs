using System.Text.Json;
using Dopant.IO;

namespace Dopant.Compression;

/// <summary>
/// Where an L-C run stands after an iteration: the compressed weights Δ(θ), the multipliers λ, μ, the best compressed
/// weights so far by validation loss and the history. Saved with the model's parameters in one safetensors file, so
/// that a resumed run continues from a consistent point.
/// </summary>
public sealed class LearningCompressionState
{
    private const string MetadataKey = "dopant.lc";

    /// <summary>Iterations finished (0: only the direct compression).</summary>
    public int Iteration { get; set; }

    /// <summary>The penalty μ of the next L step.</summary>
    public double Mu { get; set; }

    /// <summary>Δ(θ) per compressed weight, by name.</summary>
    public Dictionary<string, float[]> Compressed { get; } = [];

    /// <summary>λ per compressed weight, by name.</summary>
    public Dictionary<string, float[]> Multipliers { get; } = [];

    /// <summary>The compressed weights with the lowest validation loss so far, by name.</summary>
    public Dictionary<string, float[]> Best { get; } = [];

    /// <summary>The validation loss of <see cref="Best"/>.</summary>
    public double BestLoss { get; set; } = double.PositiveInfinity;

    /// <summary>The iteration <see cref="Best"/> comes from.</summary>
    public int BestIteration { get; set; }

    /// <summary>The settings of the run the state belongs to (JSON, opaque to the algorithm), so that a resumed run continues with them.</summary>
    public string? Run { get; set; }

    /// <summary>Every iteration so far, the direct compression first.</summary>
    public List<LearningCompressionIteration> History { get; } = [];

    /// <summary>
    /// Writes the state and <paramref name="parameters"/> (every trainable tensor of the model, by name, with its shape)
    /// to <paramref name="path"/> atomically.
    /// </summary>
    public void Save(string path, IEnumerable<(string Name, float[] Values, int[] Shape)> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var tensors = new List<SafeTensor>();
        foreach ((string name, float[] values, int[] shape) in parameters)
            tensors.Add(SafeTensor.Create<float>("model/" + name, values, [.. shape.Select(d => (long)d)]));
        void Add(string prefix, Dictionary<string, float[]> arrays)
        {
            foreach ((string name, float[] values) in arrays) tensors.Add(SafeTensor.Create<float>(prefix + name, values, values.Length));
        }
        Add("theta/", Compressed);
        Add("lambda/", Multipliers);
        Add("best/", Best);
        var meta = new Metadata(Iteration, Mu, BestLoss, BestIteration, [.. History], Run);
        new SafeTensorsFile(tensors, new Dictionary<string, string> { [MetadataKey] = JsonSerializer.Serialize(meta) }).Save(path);
    }

    /// <summary>
    /// Reads a state written by <see cref="Save"/> and copies its model parameters into <paramref name="parameters"/>
    /// (by name; every one must be present with the same length).
    /// </summary>
    /// <exception cref="InvalidDataException">The file is not an L-C state or does not fit the parameters.</exception>
    public static LearningCompressionState Load(string path, IEnumerable<(string Name, float[] Values)> parameters) =>
        Load(Open(path), path, parameters);

    /// <summary>The state file at <paramref name="path"/>, read once for the <see cref="Load(SafeTensorsFile, string, IEnumerable{ValueTuple{string, float[]}})"/> calls that follow.</summary>
    internal static SafeTensorsFile Open(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"L-C state '{path}' does not exist.", path);
        return SafeTensorsFile.Load(path);
    }

    /// <summary><see cref="Load(string, IEnumerable{ValueTuple{string, float[]}})"/> from a file already read (<see cref="Open"/>).</summary>
    internal static LearningCompressionState Load(SafeTensorsFile file, string path, IEnumerable<(string Name, float[] Values)> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (!file.Metadata.TryGetValue(MetadataKey, out string? json))
            throw new InvalidDataException($"'{path}' is not an L-C state (no '{MetadataKey}' metadata).");
        Metadata meta;
        try
        {
            meta = JsonSerializer.Deserialize<Metadata>(json) ?? throw new InvalidDataException($"'{path}': the L-C metadata is null.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{path}': the L-C metadata is not valid: {DiagnosticText.OneLine(e.Message)}", e);
        }
        // A resumed run divides by μ and indexes the arrays by the weights' sizes: check what it would trip over.
        if (meta.Iteration < 0 || !(meta.Mu > 0 && double.IsFinite(meta.Mu)) || meta.History?.Any(h => h is null) == true)
            throw new InvalidDataException($"'{path}': the L-C metadata is not valid (iteration {meta.Iteration}, μ {meta.Mu}, or a null in the history).");
        var state = new LearningCompressionState { Iteration = meta.Iteration, Mu = meta.Mu, BestLoss = meta.BestLoss, BestIteration = meta.BestIteration, Run = meta.Run };
        state.History.AddRange(meta.History ?? []);
        var lengths = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach ((string name, float[] values) in parameters)
        {
            if (!file.TryGetTensor("model/" + name, out SafeTensor? t) || t.ElementCount != values.Length)
                throw new InvalidDataException($"'{path}': the L-C state has no parameter '{name}' of {values.Length} values; it belongs to another model.");
            Singles(path, t).CopyTo(values, 0);
            lengths[name] = values.Length;
        }
        foreach (SafeTensor t in file.Tensors)
        {
            string name = t.Name;
            Dictionary<string, float[]>? target = name.StartsWith("theta/", StringComparison.Ordinal) ? state.Compressed
                : name.StartsWith("lambda/", StringComparison.Ordinal) ? state.Multipliers
                : name.StartsWith("best/", StringComparison.Ordinal) ? state.Best : null;
            if (target is null) continue;
            string weight = name[(name.IndexOf('/') + 1)..];
            if (lengths.TryGetValue(weight, out int length) && t.ElementCount != length)
                throw new InvalidDataException($"'{path}': {DiagnosticText.Quote(name)} has {t.ElementCount} values, but the weight has {length}.");
            target[weight] = Singles(path, t);
        }
        return state;
    }

    private static float[] Singles(string path, SafeTensor tensor) =>
        tensor.DType is SafeTensorsDType.Float32 or SafeTensorsDType.Float16 or SafeTensorsDType.BFloat16 ? tensor.ToSingleArray()
        : throw new InvalidDataException($"'{path}': tensor {DiagnosticText.Quote(tensor.Name)} is {tensor.DType.ToHeaderName()}; an L-C state holds F32.");

    private sealed record Metadata(int Iteration, double Mu, double BestLoss, int BestIteration, List<LearningCompressionIteration>? History, string? Run);
}
