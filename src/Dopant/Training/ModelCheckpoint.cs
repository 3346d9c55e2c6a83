using System.Text.Json;
using System.Text.Json.Serialization;
using Dopant.Data;
using Dopant.IO;
using Dopant.Matrices;
using Dopant.Models;

namespace Dopant.Training;

/// <summary>
/// A language model in a safetensors file: the parameters under PyTorch's state-dict names (float32), and in
/// <c>__metadata__</c> the architecture (<c>dopant.config</c>), the vocabulary (<c>dopant.vocab</c>, a JSON array in id
/// order) and, for a run in progress, the training options and state (<c>dopant.training</c>, <c>dopant.state</c>) with the
/// optimizer's tensors under <c>optimizer.*</c>. A tied decoder is stored once, as <c>encoder.weight</c>.
/// </summary>
public sealed class ModelCheckpoint
{
    /// <summary>Metadata key of the architecture.</summary>
    public const string ConfigKey = "dopant.config";

    /// <summary>Metadata key of the vocabulary.</summary>
    public const string VocabularyKey = "dopant.vocab";

    /// <summary>Metadata key of the training options.</summary>
    public const string OptionsKey = "dopant.training";

    /// <summary>Metadata key of the training state.</summary>
    public const string StateKey = "dopant.state";

    private const string OptimizerPrefix = "optimizer.";

    /// <summary>The JSON conventions of Dopant's metadata and result files (snake_case names).</summary>
    public static JsonSerializerOptions Json { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    private ModelCheckpoint(LanguageModel<float> model, Vocabulary vocabulary, TrainingOptions? options, TrainingState? state,
        IReadOnlyDictionary<string, float[]> optimizerState, IReadOnlyDictionary<string, string> metadata)
    {
        Model = model;
        Vocabulary = vocabulary;
        Options = options;
        State = state;
        OptimizerState = optimizerState;
        Metadata = metadata;
    }

    /// <summary>The model, with its weights loaded.</summary>
    public LanguageModel<float> Model { get; }

    /// <summary>The vocabulary the model was trained with.</summary>
    public Vocabulary Vocabulary { get; }

    /// <summary>The training options, when the file was written by a training run.</summary>
    public TrainingOptions? Options { get; }

    /// <summary>The training state, when the file was written by a training run.</summary>
    public TrainingState? State { get; }

    /// <summary>Optimizer tensors by key (empty for SGD).</summary>
    public IReadOnlyDictionary<string, float[]> OptimizerState { get; }

    /// <summary>All metadata of the file.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Writes a checkpoint atomically (temp file, then rename): an existing file is replaced only by a complete one.</summary>
    public static void Save(string path, LanguageModel<float> model, Vocabulary vocabulary, TrainingOptions? options = null,
        TrainingState? state = null, IOptimizer<float>? optimizer = null, IReadOnlyDictionary<string, string>? extraMetadata = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(vocabulary);
        if (vocabulary.Count != model.Config.VocabularySize)
            throw new ArgumentException($"The vocabulary has {vocabulary.Count} words but the model {model.Config.VocabularySize}.", nameof(vocabulary));
        var tensors = new List<SafeTensor>();
        foreach (Parameter<float> p in model.Parameters)
            tensors.Add(SafeTensor.Create<float>(p.Name, p.Value, p.Shape.Select(d => (long)d).ToArray()));
        if (optimizer is not null)
            foreach ((string key, float[] values) in optimizer.State.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                tensors.Add(SafeTensor.Create<float>(OptimizerPrefix + key, values, values.Length));
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["format"] = "pt",
            [ConfigKey] = JsonSerializer.Serialize(ConfigJson.From(model.Config), Json),
            [VocabularyKey] = JsonSerializer.Serialize(vocabulary.Words, Json),
        };
        if (options is not null) metadata[OptionsKey] = JsonSerializer.Serialize(options, Json);
        if (state is not null) metadata[StateKey] = JsonSerializer.Serialize(state with { OptimizerSteps = optimizer?.StepCount ?? state.OptimizerSteps }, Json);
        if (extraMetadata is not null)
            foreach ((string key, string value) in extraMetadata) metadata[key] = value;
        new SafeTensorsFile(tensors, metadata).Save(path);
    }

    /// <summary>
    /// Reads a checkpoint. A missing file, a file that is not valid safetensors, missing or malformed metadata, and
    /// missing, unexpected or mis-shaped tensors each give an <see cref="InvalidDataException"/> (or
    /// <see cref="FileNotFoundException"/>) whose message names the file and the problem.
    /// </summary>
    public static ModelCheckpoint Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"Model file '{path}' does not exist.", path);
        SafeTensorsFile file = SafeTensorsFile.Load(path);
        string Meta(string key) => file.Metadata.TryGetValue(key, out string? value) ? value
            : throw new InvalidDataException($"'{path}' has no '{key}' metadata: it was not written by Dopant (use 'dopant import' for a PyTorch state dict).");
        T Parse<T>(string key) where T : class
        {
            try
            {
                return JsonSerializer.Deserialize<T>(Meta(key), Json) ?? throw new InvalidDataException($"'{path}': metadata '{key}' is null.");
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"'{path}': metadata '{key}' is not valid: {e.Message}", e);
            }
        }

        LanguageModelConfig config;
        try
        {
            config = Parse<ConfigJson>(ConfigKey).ToConfig();
            config.Validate();
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"'{path}': {e.Message}", e);
        }
        Vocabulary vocabulary;
        try
        {
            vocabulary = new Vocabulary(Parse<string[]>(VocabularyKey));
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"'{path}': bad vocabulary: {e.Message}", e);
        }
        if (vocabulary.Count != config.VocabularySize)
            throw new InvalidDataException($"'{path}': the vocabulary has {vocabulary.Count} words but the configuration says {config.VocabularySize}.");
        TrainingOptions? options = file.Metadata.ContainsKey(OptionsKey) ? Parse<TrainingOptions>(OptionsKey) : null;
        TrainingState? state = file.Metadata.ContainsKey(StateKey) ? Parse<TrainingState>(StateKey) : null;

        var model = new LanguageModel<float>(config);
        var expected = new HashSet<string>(StringComparer.Ordinal);
        foreach (Parameter<float> p in model.Parameters)
        {
            expected.Add(p.Name);
            file.RequireSingles(p.Name, p.Shape.Select(d => (long)d).ToArray()).CopyTo(p.Value, 0);
        }
        var optimizerState = new Dictionary<string, float[]>(StringComparer.Ordinal);
        foreach (SafeTensor tensor in file.Tensors)
        {
            if (tensor.Name.StartsWith(OptimizerPrefix, StringComparison.Ordinal))
                optimizerState[tensor.Name[OptimizerPrefix.Length..]] = tensor.ToSingleArray();
            else if (!expected.Contains(tensor.Name) && !(config.TiedWeights && tensor.Name == "decoder.weight"))
                throw new InvalidDataException($"'{path}' has a tensor '{tensor.Name}' that a {config.Layers}-layer model does not have.");
        }
        return new ModelCheckpoint(model, vocabulary, options, state, optimizerState, file.Metadata);
    }

    private sealed record ConfigJson(int VocabSize, int HiddenSize, int NumLayers, bool Tied, double Dropout)
    {
        public static ConfigJson From(LanguageModelConfig c) => new(c.VocabularySize, c.HiddenSize, c.Layers, c.TiedWeights, c.Dropout);

        public LanguageModelConfig ToConfig() => new(VocabSize, HiddenSize, NumLayers, Dropout, Tied);
    }
}
