using System.Text.Json;
using System.Text.Json.Serialization;
using Dopant.Data;
using Dopant.IO;
using Dopant.Numerics;
using Dopant.Matrices;
using Dopant.Models;

namespace Dopant.Training;

/// <summary>
/// A language model in a safetensors file: the parameters under PyTorch's state-dict names (float32), and in
/// <c>__metadata__</c> the architecture (<c>dopant.config</c>), the vocabulary (<c>dopant.vocab</c>, a JSON array in id
/// order) and, for a run in progress, the training options and state (<c>dopant.training</c>, <c>dopant.state</c>) with the
/// optimizer's tensors under <c>optimizer.*</c>. A tied decoder is stored once, as <c>encoder.weight</c>.
/// </summary>
/// <remarks>
/// LSTM weight matrices in other forms than dense are listed in <c>dopant.forms</c>, a JSON object from matrix name to
/// its <see cref="WeightFormSpec"/> (<c>{"rnn.weight_hh_l1": {"kind": "kronecker", "shape": "52x25,50x26", "rank": 1}}</c>),
/// and their tensors are stored under the forms' names (<c>rnn.weight_hh_l1.kron_a</c>, ...; see <see cref="WeightForms"/>).
/// A layer's combined matrix [W_ih | W_hh] is listed as <c>rnn.weight_l{i}</c> in whatever form, dense included. Other
/// dense matrices are not listed, so a file without the key (an older Dopant file, or a PyTorch state dict) loads as
/// an all-dense model. A pruned matrix (alone, or a doped matrix's S) keeps its dense F32 values under its parameter
/// name and its mask as a U8 tensor of the same shape named <c>{values name}_mask</c> (0 pruned, 1 kept; PyTorch's
/// torch.nn.utils.prune naming). That stores every value and mask bit exactly, pruned values included, so training
/// resumes bit for bit; it is not the compact form: <see cref="PrunedMatrix{T}.StorageBytes"/> counts the CSR form that
/// inference would store.
/// </remarks>
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

    /// <summary>Metadata key of the forms of the LSTM weight matrices that are not dense.</summary>
    public const string FormsKey = "dopant.forms";

    /// <summary>
    /// Metadata key of the compression accounting (<see cref="Models.CompressionReport"/>, with its factors), written
    /// when some LSTM matrix is not dense.
    /// </summary>
    public const string CompressionKey = "dopant.compression";

    /// <summary>
    /// Metadata key whose value <c>csr</c> marks a compact file (<see cref="Save"/> with <c>compact</c>): pruned parts
    /// stored as CSR arrays, no training state.
    /// </summary>
    public const string StorageKey = "dopant.storage";

    /// <summary>
    /// Metadata key of a compact file whose dense matrices (embedding, dense LSTM matrices, decoder) are stored
    /// quantized per row: <c>int8</c> (<c>{name}.int8</c> I8 and <c>{name}.scales</c> F32) or <c>fp16</c>
    /// (<c>{name}.fp16</c> F16 and <c>{name}.scales</c>). Absent, they are F32 under their own names.
    /// </summary>
    public const string PrecisionKey = "dopant.precision";

    private const string OptimizerPrefix = "optimizer.";
    // Loading may take this many bytes of memory per byte of the file, plus the allowance: enough for any real model
    // (a compressed one's dense start included), too little for a crafted file to exhaust the machine.
    private const double MemoryPerFileByte = 64, MemoryAllowance = 256 << 20;

    /// <summary>The JSON conventions of Dopant's metadata and result files (snake_case names).</summary>
    public static JsonSerializerOptions Json { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    private ModelCheckpoint(LanguageModel<float> model, Vocabulary vocabulary, TrainingOptions? options, TrainingState? state,
        IReadOnlyDictionary<string, float[]> optimizerState, IReadOnlyDictionary<string, string> metadata, bool architectureInferred)
    {
        ArchitectureInferred = architectureInferred;
        Model = model;
        Vocabulary = vocabulary;
        Options = options;
        State = state;
        OptimizerState = optimizerState;
        Metadata = metadata;
    }

    /// <summary>The model, with its weights loaded.</summary>
    public LanguageModel<float> Model { get; }

    /// <summary>Whether the file has no <c>dopant.config</c>, so that the architecture was inferred from its tensors (<see cref="ModelArchitecture.Infer"/>).</summary>
    public bool ArchitectureInferred { get; }

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
    /// <exception cref="ArgumentException">
    /// An LSTM matrix has a form the registry does not know, or tensor names that <see cref="WeightForms.Create{T}"/>
    /// would not give it (so the file could not be loaded).
    /// </exception>
    /// <param name="path">The file to write.</param>
    /// <param name="model">The model.</param>
    /// <param name="vocabulary">Its vocabulary.</param>
    /// <param name="options">The training options to record, if any.</param>
    /// <param name="state">The training state to record, if any.</param>
    /// <param name="optimizer">The optimizer whose state to store, if any.</param>
    /// <param name="extraMetadata">More metadata entries.</param>
    /// <param name="compact">
    /// Write the deployment form instead: every pruned part (a pruned matrix, a doped matrix's S) as its kept entries
    /// in CSR (<c>{values name}.csr_values</c> F32, <c>.csr_columns</c> I32, <c>.csr_row_pointers</c> I32), so that the
    /// tensor bytes are what <see cref="Models.CompressionReport.ModelBytes"/> counts; such a file loads for
    /// evaluation and inference but cannot resume training, so it takes no options, state or optimizer.
    /// </param>
    /// <param name="precision">
    /// For a compact file: how its dense matrices are stored (<see cref="PrecisionKey"/>); loading gives back the
    /// dequantized values, which the runtime quantizes again to the same values.
    /// </param>
    public static void Save(string path, LanguageModel<float> model, Vocabulary vocabulary, TrainingOptions? options = null,
        TrainingState? state = null, IOptimizer<float>? optimizer = null, IReadOnlyDictionary<string, string>? extraMetadata = null,
        bool compact = false, WeightPrecision precision = WeightPrecision.Float32)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(vocabulary);
        if (vocabulary.Count != model.Config.VocabularySize)
            throw new ArgumentException($"The vocabulary has {vocabulary.Count} words but the model {model.Config.VocabularySize}.", nameof(vocabulary));
        if (compact && (options is not null || state is not null || optimizer is not null))
            throw new ArgumentException("A compact file holds no training state; save options, state and optimizer in a training checkpoint.");
        if (precision != WeightPrecision.Float32 && !compact)
            throw new ArgumentException("Only a compact file stores quantized matrices; a training checkpoint keeps fp32.");
        (List<SafeTensor> tensors, SortedDictionary<string, WeightFormSpec> forms) = WeightTensors.Write(model.Parameters, model.WeightMatrices, compact, precision);
        if (optimizer is not null)
            foreach ((string key, float[] values) in optimizer.State.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                tensors.Add(SafeTensor.Create<float>(OptimizerPrefix + key, values, values.Length));
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["format"] = "pt",
            [ConfigKey] = JsonSerializer.Serialize(ConfigJson.From(model.Config), Json),
            [VocabularyKey] = JsonSerializer.Serialize(vocabulary.Words, Json),
        };
        if (forms.Count > 0)
        {
            metadata[FormsKey] = JsonSerializer.Serialize(forms, Json);
            metadata[CompressionKey] = JsonSerializer.Serialize(model.CompressionReport(), Json);
        }
        if (options is not null) metadata[OptionsKey] = JsonSerializer.Serialize(options, Json);
        if (state is not null) metadata[StateKey] = JsonSerializer.Serialize(state with { OptimizerSteps = optimizer?.StepCount ?? state.OptimizerSteps }, Json);
        if (compact) metadata[StorageKey] = "csr";
        if (precision != WeightPrecision.Float32) metadata[PrecisionKey] = WeightTensors.PrecisionName(precision);
        if (extraMetadata is not null)
            foreach ((string key, string value) in extraMetadata) metadata[key] = value;
        new SafeTensorsFile(tensors, metadata).Save(path);
    }

    /// <summary>
    /// Reads a checkpoint, or a plain PyTorch state dict of a word language model: without <c>dopant.config</c> the
    /// architecture is inferred from the tensors' names and shapes (<see cref="ModelArchitecture.Infer"/>), and the
    /// vocabulary is <paramref name="vocabulary"/> or the file's <c>dopant.vocab</c>. A missing file, a file that is not valid safetensors, missing or malformed metadata, and
    /// missing, unexpected or mis-shaped tensors, and <c>dopant.forms</c> entries that are malformed, of an unknown kind,
    /// for a matrix the model does not have or of sizes that do not fit it, and masks that hold anything but 0 and 1 each give an <see cref="InvalidDataException"/> (or
    /// <see cref="FileNotFoundException"/>) whose message names the file and the problem.
    /// </summary>
    /// <param name="path">The file.</param>
    /// <param name="vocabulary">The vocabulary in id order, replacing the file's (needed when the file has none).</param>
    public static ModelCheckpoint Load(string path, Vocabulary? vocabulary = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"Model file '{path}' does not exist.", path);
        SafeTensorsFile file = SafeTensorsFile.Load(path);
        T Parse<T>(string key) where T : class => MetadataJson.Parse<T>(file, path, key);

        LanguageModelConfig config;
        bool inferred = !file.Metadata.ContainsKey(ConfigKey);
        try
        {
            config = inferred
                ? ModelArchitecture.Infer(file.Tensors.ToDictionary(t => t.Name, t => t.Shape, StringComparer.Ordinal))
                : Parse<ConfigJson>(ConfigKey).ToConfig();
            config.Validate();
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException(inferred
                ? $"'{path}' has no '{ConfigKey}' metadata and its tensors do not describe a word language model: {DiagnosticText.OneLine(e.Message)}"
                : $"'{path}': {DiagnosticText.OneLine(e.Message)}", e);
        }
        if (vocabulary is null)
        {
            if (!file.Metadata.ContainsKey(VocabularyKey))
                throw new InvalidDataException(
                    $"'{path}' has no '{VocabularyKey}' metadata; give the vocabulary as a file of one word a line, in id order (--vocab FILE).");
            try
            {
                vocabulary = new Vocabulary(Parse<string[]>(VocabularyKey));
            }
            catch (ArgumentException e)
            {
                throw new InvalidDataException($"'{path}': bad vocabulary: {DiagnosticText.OneLine(e.Message)}", e);
            }
        }
        if (vocabulary.Count != config.VocabularySize)
            throw new InvalidDataException(inferred
                ? $"'{path}': the vocabulary has {vocabulary.Count} words but 'encoder.weight' {config.VocabularySize} rows."
                : $"'{path}': the vocabulary has {vocabulary.Count} words but the configuration says {config.VocabularySize}.");
        TrainingOptions? options = file.Metadata.ContainsKey(OptionsKey) ? Parse<TrainingOptions>(OptionsKey) : null;
        try
        {
            // A run resumes with these options as they are, so they are held to the rules a new run is.
            options?.Validate();
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"'{path}': metadata '{OptionsKey}' is not valid: {DiagnosticText.OneLine(e.Message)}", e);
        }
        TrainingState? state = file.Metadata.ContainsKey(StateKey) ? Parse<TrainingState>(StateKey) : null;
        if (state is not null && StateProblem(state) is { } problem)
            throw new InvalidDataException($"'{path}': metadata '{StateKey}' is not valid: {problem}.");

        Dictionary<string, WeightFormSpec?> forms = file.Metadata.ContainsKey(FormsKey) ? Parse<Dictionary<string, WeightFormSpec?>>(FormsKey) : [];
        bool compact = file.Metadata.TryGetValue(StorageKey, out string? storage) && storage == "csr";
        if (storage is not null && !compact)
            throw new InvalidDataException($"'{path}': metadata '{StorageKey}' is {DiagnosticText.Quote(storage)}; only 'csr' is known.");
        WeightPrecision precision = WeightPrecision.Float32;
        if (file.Metadata.TryGetValue(PrecisionKey, out string? stored))
        {
            precision = stored switch
            {
                "int8" => WeightPrecision.Int8,
                "fp16" => WeightPrecision.Float16,
                _ => throw new InvalidDataException($"'{path}': metadata '{PrecisionKey}' is {DiagnosticText.Quote(stored)}; expected int8 or fp16."),
            };
            if (!compact) throw new InvalidDataException($"'{path}': metadata '{PrecisionKey}' needs a compact file ('{StorageKey}' csr).");
        }
        CheckSizesAreBacked(path, file, config, precision, forms.ContainsKey(LanguageModel<float>.EncoderWeightName));

        var model = new LanguageModel<float>(config);
        foreach ((string name, WeightFormSpec? spec) in forms)
            RestoreForm(path, model, name, spec);
        var expected = new HashSet<string>(StringComparer.Ordinal);
        WeightTensors.Read(path, file, model.Parameters, model.WeightMatrices, compact, precision, expected);
        var optimizerState = new Dictionary<string, float[]>(StringComparer.Ordinal);
        foreach (SafeTensor tensor in file.Tensors)
        {
            if (tensor.Name.StartsWith(OptimizerPrefix, StringComparison.Ordinal))
                optimizerState[tensor.Name[OptimizerPrefix.Length..]] =
                    tensor.DType is SafeTensorsDType.Float32 or SafeTensorsDType.Float16 or SafeTensorsDType.BFloat16 ? tensor.ToSingleArray()
                    : throw new InvalidDataException($"'{path}': optimizer tensor {DiagnosticText.Quote(tensor.Name)} is {tensor.DType.ToHeaderName()}; expected F32.");
            else if (!expected.Contains(tensor.Name) && !(config.TiedWeights && tensor.Name == "decoder.weight"))
                throw new InvalidDataException($"'{path}' has a tensor {DiagnosticText.Quote(tensor.Name)} that a {config.Layers}-layer model does not have.");
        }
        return new ModelCheckpoint(model, vocabulary, options, state, optimizerState, file.Metadata, inferred);
    }

    // What a resumed run would trip over in a deserialized state: JSON nulls where lists belong, impossible counts.
    private static string? StateProblem(TrainingState state) =>
        state.RandomState is not { Length: 4 } || state.RandomState.All(word => word == 0) ? "the random state is not four words, not all zero"
        : state.History is null || state.History.Any(epoch => epoch is null) ? "the history is not a list of epochs"
        : state.Divergences is null || state.Divergences.Any(divergence => divergence is null) ? "the divergences are not a list of events"
        : state.EpochsCompleted < 0 || state.OptimizerSteps < 0 || state.TrainTokens < 0 ? "a count is negative"
        : !(state.LearningRateScale > 0 && double.IsFinite(state.LearningRateScale)) ? $"the learning-rate scale {state.LearningRateScale} is not positive"
        : null;

    /// <summary>
    /// Checks, before anything of their size is allocated, that the configuration's sizes are backed by the file: the
    /// embedding and every layer's biases are stored in full, so their shapes prove the vocabulary, embedding width,
    /// hidden size, cell and layer count; and the dense model that <see cref="LanguageModel{T}"/> starts with
    /// (compressed forms replace its recurrent matrices afterwards) must fit in memory proportionate to the file, since a few kilobytes of Kronecker
    /// factors or CSR pointers can describe matrices of gigabytes.
    /// </summary>
    private static void CheckSizesAreBacked(string path, SafeTensorsFile file, LanguageModelConfig config, WeightPrecision precision, bool compressedEmbedding)
    {
        long vocabulary = config.VocabularySize, hidden = config.HiddenSize, embedding = config.EmbeddingSize, gates = config.GateCount;
        // A compressed embedding has no dense table; the decoder's bias then proves the vocabulary.
        if (compressedEmbedding) file.RequireShape("decoder.bias", [vocabulary]);
        else file.RequireShape(precision == WeightPrecision.Float32 ? "encoder.weight" : "encoder.weight." + WeightTensors.PrecisionName(precision), [vocabulary, embedding]);
        // Values and gradients, in float: the embedding, the decoder, and per layer two G·H-row matrices and the biases.
        double parameters = vocabulary * (double)embedding + (config.TiedWeights ? 0 : vocabulary * (double)hidden) + vocabulary;
        bool tooLarge = false;
        for (int l = 0; l < config.Layers; l++)
        {
            long units = config.HiddenSizeOf(l), input = config.InputSize(l);
            file.RequireShape($"rnn.bias_ih_l{l}", [gates * units]);
            file.RequireShape($"rnn.bias_hh_l{l}", [gates * units]);
            parameters += gates * (double)units * (input + units) + 2.0 * gates * units;
            tooLarge |= (double)gates * units * Math.Max(input, units) > Array.MaxLength;
        }
        double bytes = 2 * sizeof(float) * parameters;
        long fileBytes = new FileInfo(path).Length;
        if (tooLarge || bytes > MemoryPerFileByte * (double)fileBytes + MemoryAllowance)
            throw new InvalidDataException(
                $"'{path}': the configuration ({config.Describe()}) needs {bytes / (1 << 20):N0} MiB of " +
                $"memory, out of proportion to the file's {fileBytes:N0} bytes; its tensors cannot describe such a model.");
    }

    /// <summary>Replaces the weight matrix <paramref name="name"/> of <paramref name="model"/> by a zero form described by <paramref name="spec"/>.</summary>
    private static void RestoreForm(string path, LanguageModel<float> model, string name, WeightFormSpec? spec)
    {
        if (!LanguageModel<float>.IsRecurrent(name))
        {
            (string, IWeightMatrix<float> Matrix)? matrix = model.WeightMatrices.Where(m => m.Name == name).Select(m => ((string, IWeightMatrix<float>)?)m).FirstOrDefault()
                ?? throw new InvalidDataException(
                    $"'{path}': metadata '{FormsKey}' describes {DiagnosticText.Quote(name)}, which is not a weight matrix of the model{(name == LanguageModel<float>.DecoderWeightName ? " (its decoder is tied to the embedding)" : "")}.");
            model.ReplaceMatrix(name, CreateForm(path, name, spec, matrix.Value.Matrix.Rows, matrix.Value.Matrix.Columns));
            return;
        }
        IRecurrentLayer<float>? layer = model.Layers.FirstOrDefault(l => l.InputWeightsName == name || l.RecurrentWeightsName == name || l.CombinedWeightsName == name)
            ?? throw new InvalidDataException(
                $"'{path}': metadata '{FormsKey}' describes {DiagnosticText.Quote(name)}, which is not a recurrent weight matrix of a {model.Layers.Length}-layer model.");
        bool combined = layer.CombinedWeightsName == name, recurrent = layer.RecurrentWeightsName == name;
        if (combined && layer is not LstmLayer<float>)
            throw new InvalidDataException($"'{path}': metadata '{FormsKey}' describes {DiagnosticText.Quote(name)}, a combined [W_ih | W_hh] matrix, which only LSTM layers have.");
        if (layer.CombinedWeights is not null || combined && layer.WeightMatrices.Any(m => m.Matrix is not DenseMatrix<float>))
            throw new InvalidDataException($"'{path}': metadata '{FormsKey}' describes both layer {layer.Index}'s combined matrix and W_ih or W_hh.");
        (int rows, int columns) = combined ? (4 * layer.HiddenSize, layer.InputSize + layer.HiddenSize)
            : recurrent ? (layer.RecurrentWeights.Rows, layer.RecurrentWeights.Columns) : (layer.InputWeights.Rows, layer.InputWeights.Columns);
        IWeightMatrix<float> form = CreateForm(path, name, spec, rows, columns);
        if (combined) ((LstmLayer<float>)layer).CombineWeights(form);
        else layer.ReplaceWeights(recurrent ? layer.InputWeights : form, recurrent ? form : layer.RecurrentWeights);
    }

    private static IWeightMatrix<float> CreateForm(string path, string name, WeightFormSpec? spec, int rows, int columns)
    {
        try
        {
            return WeightForms.Create<float>(spec ?? throw new ArgumentException($"Weight matrix '{name}' has a null form."), name, rows, columns);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"'{path}': metadata '{FormsKey}': {DiagnosticText.OneLine(e.Message)}", e);
        }
    }

    /// <summary>
    /// The sizes of a configuration's <c>hidden_sizes</c> field (absent: every layer has <c>hidden_size</c>).
    /// </summary>
    /// <exception cref="ArgumentException">The sizes do not fit the layer count or the top layer's size; the message names the field.</exception>
    internal static LayerSizes HiddenSizesField(int[]? sizes, int layers, int hidden)
    {
        if (sizes is null) return default;
        var result = new LayerSizes(sizes);
        try
        {
            result.Validate(layers, hidden);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"metadata '{ConfigKey}' field 'hidden_sizes': {e.Message}", e);
        }
        return result;
    }

    // Files written before GRUs and embedding widths lack "cell" and "embedding_size": an LSTM with E = H. Files whose
    // layers all have hidden_size lack "hidden_sizes".
    private sealed record ConfigJson(int VocabSize, int HiddenSize, int NumLayers, bool Tied, double Dropout)
    {
        [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
        public string? Cell { get; init; }

        [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
        public int? EmbeddingSize { get; init; }

        [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
        public int[]? HiddenSizes { get; init; }

        [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
        public bool? Bidirectional { get; init; }

        [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
        public string? Head { get; init; }

        public static ConfigJson From(LanguageModelConfig c) =>
            new(c.VocabularySize, c.HiddenSize, c.Layers, c.TiedWeights, c.Dropout)
            {
                Cell = c.Cell.Name(), EmbeddingSize = c.EmbeddingSize, HiddenSizes = c.LayerSizes.IsEmpty ? null : [.. c.LayerSizes],
            };

        public LanguageModelConfig ToConfig()
        {
            RecurrentCell cell = Cell switch
            {
                null or "lstm" => RecurrentCell.Lstm,
                "gru" => RecurrentCell.Gru,
                _ => throw new ArgumentException($"metadata '{ConfigKey}' field 'cell' is {DiagnosticText.Quote(Cell)}; Dopant supports lstm and gru."),
            };
            if (Bidirectional == true)
                throw new ArgumentException($"metadata '{ConfigKey}' field 'bidirectional' is true; Dopant runs unidirectional language models only.");
            if (Head is not null and not "next_token")
                throw new ArgumentException($"metadata '{ConfigKey}' field 'head' is {DiagnosticText.Quote(Head)}; Dopant supports next_token.");
            if (EmbeddingSize is < 1)
                throw new ArgumentException($"metadata '{ConfigKey}' field 'embedding_size' is {EmbeddingSize}; it must be positive.");
            return new LanguageModelConfig(VocabSize, HiddenSize, NumLayers, Dropout, Tied)
            {
                Cell = cell, EmbeddingSize = EmbeddingSize ?? HiddenSize, LayerSizes = HiddenSizesField(HiddenSizes, NumLayers, HiddenSize),
            };
        }
    }
}
