using System.Text.Json;
using System.Text.Json.Serialization;
using Dopant.Data;
using Dopant.IO;
using Dopant.Matrices;
using Dopant.Models;

namespace Dopant.Training;

/// <summary>
/// A tagger or sentence classifier in a safetensors file: the parameters under PyTorch's state-dict names (F32), and
/// in <c>__metadata__</c> the architecture (<c>dopant.config</c> with <c>"head"</c> <c>token_labels</c> or
/// <c>sequence_label</c>), the vocabulary (<c>dopant.vocab</c>), the labels (<c>dopant.labels</c>, a JSON array in id
/// order) and, for a run in progress, the options and state (<c>dopant.training</c>, <c>dopant.state</c>) with the
/// optimizer's tensors under <c>optimizer.*</c>. Files are written atomically.
/// </summary>
public sealed class LabelerCheckpoint
{
    /// <summary>Metadata key of the labels.</summary>
    public const string LabelsKey = "dopant.labels";

    private const string OptimizerPrefix = "optimizer.";

    private LabelerCheckpoint(SentenceLabeler<float> model, Vocabulary vocabulary, IReadOnlyList<string> labels, LabelerOptions? options,
        LabelerState? state, IReadOnlyDictionary<string, float[]> optimizerState)
    {
        Model = model;
        Vocabulary = vocabulary;
        Labels = labels;
        Options = options;
        State = state;
        OptimizerState = optimizerState;
    }

    /// <summary>The model, with its weights loaded.</summary>
    public SentenceLabeler<float> Model { get; }

    /// <summary>The words, <c>&lt;unk&gt;</c> first.</summary>
    public Vocabulary Vocabulary { get; }

    /// <summary>The labels in id order.</summary>
    public IReadOnlyList<string> Labels { get; }

    /// <summary>The training options, when a training run wrote the file.</summary>
    public LabelerOptions? Options { get; }

    /// <summary>The training state, when a training run wrote the file.</summary>
    public LabelerState? State { get; }

    /// <summary>Optimizer tensors by key (empty for SGD).</summary>
    public IReadOnlyDictionary<string, float[]> OptimizerState { get; }

    /// <summary>Whether the safetensors file <paramref name="path"/> holds a tagger or classifier (its <c>dopant.config</c> names a label head).</summary>
    public static bool Holds(string path)
    {
        if (!File.Exists(path)) return false;
        SafeTensorsFile file = SafeTensorsFile.Load(path);
        if (!file.Metadata.TryGetValue(ModelCheckpoint.ConfigKey, out string? config)) return false;
        try
        {
            return JsonDocument.Parse(config).RootElement.TryGetProperty("head", out JsonElement head)
                   && head.ValueKind == JsonValueKind.String && head.GetString() is "token_labels" or "sequence_label";
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>
    /// Writes a checkpoint atomically: weight matrices in any form (listed in <c>dopant.forms</c>, their pruned parts
    /// with masks), or with <paramref name="compact"/> the deployment form (pruned parts in CSR, dense matrices at
    /// <paramref name="precision"/>, no training state), as <see cref="ModelCheckpoint.Save"/> stores a language model;
    /// <paramref name="metadata"/> adds entries (such as a scheme run's storage accounting).
    /// </summary>
    /// <exception cref="ArgumentException">The vocabulary or labels do not fit the model, or a compact file is given training state.</exception>
    public static void Save(string path, SentenceLabeler<float> model, Vocabulary vocabulary, IReadOnlyList<string> labels,
        LabelerOptions? options = null, LabelerState? state = null, IOptimizer<float>? optimizer = null, bool compact = false,
        WeightPrecision precision = WeightPrecision.Float32, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(vocabulary);
        ArgumentNullException.ThrowIfNull(labels);
        SentenceModelConfig c = model.Config;
        if (vocabulary.Count != c.VocabularySize) throw new ArgumentException($"The vocabulary has {vocabulary.Count} words but the model {c.VocabularySize}.", nameof(vocabulary));
        if (labels.Count != c.LabelCount) throw new ArgumentException($"{labels.Count} labels for a head of {c.LabelCount}.", nameof(labels));
        if (compact && (options is not null || state is not null || optimizer is not null))
            throw new ArgumentException("A compact file holds no training state; save options, state and optimizer in a training checkpoint.");
        if (precision != WeightPrecision.Float32 && !compact)
            throw new ArgumentException("Only a compact file stores quantized matrices; a training checkpoint keeps fp32.");
        (List<SafeTensor> tensors, SortedDictionary<string, WeightFormSpec> forms) = WeightTensors.Write(model.Parameters, model.WeightMatrices, compact, precision);
        if (optimizer is not null)
            foreach ((string key, float[] values) in optimizer.State.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                tensors.Add(SafeTensor.Create<float>(OptimizerPrefix + key, values, values.Length));
        var header = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["format"] = "pt",
            [ModelCheckpoint.ConfigKey] = JsonSerializer.Serialize(ConfigJson.From(c), ModelCheckpoint.Json),
            [ModelCheckpoint.VocabularyKey] = JsonSerializer.Serialize(vocabulary.Words, ModelCheckpoint.Json),
            [LabelsKey] = JsonSerializer.Serialize(labels, ModelCheckpoint.Json),
        };
        if (forms.Count > 0) header[ModelCheckpoint.FormsKey] = JsonSerializer.Serialize(forms, ModelCheckpoint.Json);
        if (compact) header[ModelCheckpoint.StorageKey] = "csr";
        if (precision != WeightPrecision.Float32) header[ModelCheckpoint.PrecisionKey] = WeightTensors.PrecisionName(precision);
        if (options is not null) header[ModelCheckpoint.OptionsKey] = JsonSerializer.Serialize(options, ModelCheckpoint.Json);
        if (state is not null) header[ModelCheckpoint.StateKey] = JsonSerializer.Serialize(state with { OptimizerSteps = optimizer?.StepCount ?? state.OptimizerSteps }, ModelCheckpoint.Json);
        foreach ((string key, string value) in metadata ?? new Dictionary<string, string>()) header[key] = value;
        new SafeTensorsFile(tensors, header).Save(path);
    }

    /// <summary>
    /// Reads a checkpoint, or with <paramref name="import"/> a plain PyTorch state dict of a tagger or classifier (its
    /// tensor names rewritten by <see cref="LabelerImport.Names"/>; without <c>dopant.config</c> the architecture is
    /// inferred from the tensors, <see cref="ModelArchitecture.InferSentenceModel"/>). A missing or malformed file,
    /// metadata or tensor gives one message naming the file and the problem.
    /// </summary>
    public static LabelerCheckpoint Load(string path, LabelerImport? import = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"Model file '{path}' does not exist.", path);
        SafeTensorsFile file = SafeTensorsFile.Load(path);
        if (import is { Names.Count: > 0 })
            file = new SafeTensorsFile(file.Tensors.Select(t => SafeTensor.FromBytes(import.Rename(t.Name), t.DType, t.Data.Span, [.. t.Shape])), file.Metadata);
        if (!file.Metadata.ContainsKey(ModelCheckpoint.ConfigKey))
            return FromStateDict(path, file, import ?? throw new InvalidDataException(
                $"'{path}' has no '{ModelCheckpoint.ConfigKey}' metadata; a PyTorch tagger or classifier needs --vocab, --labels and --head."));
        T Parse<T>(string key) where T : class => MetadataJson.Parse<T>(file, path, key);

        SentenceModelConfig config;
        Vocabulary vocabulary;
        string[] labels = Parse<string[]>(LabelsKey);
        try
        {
            config = Parse<ConfigJson>(ModelCheckpoint.ConfigKey).ToConfig();
            config.Validate();
            vocabulary = new Vocabulary(Parse<string[]>(ModelCheckpoint.VocabularyKey));
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"'{path}': {DiagnosticText.OneLine(e.Message)}", e);
        }
        if (vocabulary.Count != config.VocabularySize)
            throw new InvalidDataException($"'{path}': the vocabulary has {vocabulary.Count} words but the configuration says {config.VocabularySize}.");
        if (labels.Length != config.LabelCount)
            throw new InvalidDataException($"'{path}': metadata '{LabelsKey}' lists {labels.Length} labels but the configuration's head has {config.LabelCount}.");
        if (labels.Distinct(StringComparer.Ordinal).Count() != labels.Length)
            throw new InvalidDataException($"'{path}': metadata '{LabelsKey}' lists a label twice.");
        file.RequireShape("decoder.bias", [config.LabelCount]);
        Dictionary<string, WeightFormSpec?> forms = file.Metadata.ContainsKey(ModelCheckpoint.FormsKey) ? Parse<Dictionary<string, WeightFormSpec?>>(ModelCheckpoint.FormsKey) : [];
        bool compact = file.Metadata.TryGetValue(ModelCheckpoint.StorageKey, out string? storage) && storage == "csr";
        if (storage is not null && !compact)
            throw new InvalidDataException($"'{path}': metadata '{ModelCheckpoint.StorageKey}' is {DiagnosticText.Quote(storage)}; only 'csr' is known.");
        WeightPrecision precision = !file.Metadata.TryGetValue(ModelCheckpoint.PrecisionKey, out string? stored) ? WeightPrecision.Float32
            : stored == "int8" && compact ? WeightPrecision.Int8
            : stored == "fp16" && compact ? WeightPrecision.Float16
            : throw new InvalidDataException($"'{path}': metadata '{ModelCheckpoint.PrecisionKey}' is {DiagnosticText.Quote(stored)}; expected int8 or fp16 in a compact file.");
        if (!forms.ContainsKey("encoder.weight"))
            file.RequireShape(precision == WeightPrecision.Float32 ? "encoder.weight" : "encoder.weight." + WeightTensors.PrecisionName(precision),
                [config.VocabularySize, config.EmbeddingSize]);
        LabelerOptions? options = file.Metadata.ContainsKey(ModelCheckpoint.OptionsKey) ? Parse<LabelerOptions>(ModelCheckpoint.OptionsKey) : null;
        LabelerState? state = file.Metadata.ContainsKey(ModelCheckpoint.StateKey) ? Parse<LabelerState>(ModelCheckpoint.StateKey) : null;
        if (state is not null && (state.RandomState is not { Length: 4 } || state.RandomState.All(w => w == 0) || state.History is null || state.EpochsCompleted < 0
                                  || state.Divergences is null || !(state.LearningRateScale > 0 && double.IsFinite(state.LearningRateScale))))
            throw new InvalidDataException($"'{path}': metadata '{ModelCheckpoint.StateKey}' is not valid.");

        var model = new SentenceLabeler<float>(config);
        foreach ((string name, WeightFormSpec? spec) in forms)
        {
            (string, IWeightMatrix<float> Matrix)? matrix = model.WeightMatrices.Where(m => m.Name == name).Select(m => ((string, IWeightMatrix<float>)?)m).FirstOrDefault()
                ?? throw new InvalidDataException($"'{path}': metadata '{ModelCheckpoint.FormsKey}' describes {DiagnosticText.Quote(name)}, which is not a weight matrix of the model.");
            try
            {
                model.ReplaceMatrix(name, WeightForms.Create<float>(spec ?? throw new ArgumentException($"Weight matrix '{name}' has a null form."),
                    name, matrix.Value.Matrix.Rows, matrix.Value.Matrix.Columns));
            }
            catch (ArgumentException e)
            {
                throw new InvalidDataException($"'{path}': metadata '{ModelCheckpoint.FormsKey}': {DiagnosticText.OneLine(e.Message)}", e);
            }
        }
        var expected = new HashSet<string>(StringComparer.Ordinal);
        WeightTensors.Read(path, file, model.Parameters, model.WeightMatrices, compact, precision, expected);
        var optimizerState = new Dictionary<string, float[]>(StringComparer.Ordinal);
        foreach (SafeTensor tensor in file.Tensors)
        {
            if (tensor.Name.StartsWith(OptimizerPrefix, StringComparison.Ordinal)) optimizerState[tensor.Name[OptimizerPrefix.Length..]] = tensor.ToSingleArray();
            else if (!expected.Contains(tensor.Name))
                throw new InvalidDataException($"'{path}' has a tensor {DiagnosticText.Quote(tensor.Name)} that the configured model does not have.");
        }
        return new LabelerCheckpoint(model, vocabulary, labels, options, state, optimizerState);
    }

    private static LabelerCheckpoint FromStateDict(string path, SafeTensorsFile file, LabelerImport import)
    {
        SentenceModelConfig config;
        try
        {
            config = ModelArchitecture.InferSentenceModel(file.Tensors.ToDictionary(t => t.Name, t => t.Shape, StringComparer.Ordinal), import.Head, import.Pooling);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"'{path}' has no '{ModelCheckpoint.ConfigKey}' metadata and its tensors do not describe a tagger or classifier: {DiagnosticText.OneLine(e.Message)}", e);
        }
        if (import.Vocabulary.Count != config.VocabularySize)
            throw new InvalidDataException($"'{path}': the vocabulary has {import.Vocabulary.Count} words but 'encoder.weight' {config.VocabularySize} rows.");
        if (import.Labels.Count != config.LabelCount)
            throw new InvalidDataException($"'{path}': {import.Labels.Count} labels given but 'decoder.weight' has {config.LabelCount} rows.");
        var model = new SentenceLabeler<float>(config);
        var expected = new HashSet<string>(StringComparer.Ordinal);
        WeightTensors.Read(path, file, model.Parameters, model.WeightMatrices, compact: false, WeightPrecision.Float32, expected);
        foreach (SafeTensor tensor in file.Tensors)
            if (!expected.Contains(tensor.Name))
                throw new InvalidDataException($"'{path}' has a tensor {DiagnosticText.Quote(tensor.Name)} that a {config.Layers}-layer {(config.Bidirectional ? "bidirectional " : "")}model does not have (map other names with --names).");
        return new LabelerCheckpoint(model, import.Vocabulary, import.Labels, null, null, new Dictionary<string, float[]>());
    }

    private sealed record ConfigJson(string Head, int VocabSize, int EmbeddingSize, int HiddenSize, int NumLayers, int NumLabels)
    {
        public string Cell { get; init; } = "lstm";

        public bool Bidirectional { get; init; }

        [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
        public string? Pooling { get; init; }

        [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
        public int[]? HiddenSizes { get; init; }

        public double Dropout { get; init; }

        public static ConfigJson From(SentenceModelConfig c) =>
            new(c.Head == LabelHead.TokenLabels ? "token_labels" : "sequence_label", c.VocabularySize, c.EmbeddingSize, c.HiddenSize, c.Layers, c.LabelCount)
            {
                Cell = c.Cell.Name(), Bidirectional = c.Bidirectional, Dropout = c.Dropout,
                HiddenSizes = c.LayerSizes.IsEmpty ? null : [.. c.LayerSizes],
                Pooling = c.Head == LabelHead.SequenceLabel ? (c.Pooling == SentencePooling.Mean ? "mean" : "final") : null,
            };

        public SentenceModelConfig ToConfig()
        {
            LabelHead head = Head switch
            {
                "token_labels" => LabelHead.TokenLabels,
                "sequence_label" => LabelHead.SequenceLabel,
                _ => throw new ArgumentException($"metadata '{ModelCheckpoint.ConfigKey}' field 'head' is {DiagnosticText.Quote(Head)}; a sentence model's head is token_labels or sequence_label."),
            };
            SentencePooling pooling = Pooling switch
            {
                null or "final" => SentencePooling.Final,
                "mean" => SentencePooling.Mean,
                _ => throw new ArgumentException($"metadata '{ModelCheckpoint.ConfigKey}' field 'pooling' is {DiagnosticText.Quote(Pooling)}; expected final or mean."),
            };
            RecurrentCell cell = Cell switch
            {
                "lstm" => RecurrentCell.Lstm,
                "gru" => RecurrentCell.Gru,
                _ => throw new ArgumentException($"metadata '{ModelCheckpoint.ConfigKey}' field 'cell' is {DiagnosticText.Quote(Cell)}; Dopant supports lstm and gru."),
            };
            return new SentenceModelConfig(VocabSize, EmbeddingSize, HiddenSize, NumLayers, NumLabels, head)
            {
                Cell = cell, Bidirectional = Bidirectional, Pooling = pooling, Dropout = Dropout,
                LayerSizes = ModelCheckpoint.HiddenSizesField(HiddenSizes, NumLayers, HiddenSize),
            };
        }
    }
}
