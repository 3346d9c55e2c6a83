using System.Numerics;
using System.Runtime.CompilerServices;
using Dopant.Matrices;
using Dopant.Numerics;

namespace Dopant.Models;

/// <summary>
/// A word-level recurrent language model: embedding (width E) → dropout → LSTM or GRU layers (hidden size H, dropout
/// between and after) → linear decoder → softmax cross-entropy. Parameter names follow PyTorch's examples/word_language_model
/// (<c>encoder.weight</c>, <c>rnn.weight_ih_l0</c>, ..., <c>decoder.weight</c>, <c>decoder.bias</c>).
/// </summary>
/// <remarks>
/// A window holds T steps of B sequences, time-major: token r = t·B + b. Forward keeps what backward needs.
/// </remarks>
public sealed class LanguageModel<T> : ICompressibleModel<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Dropout<T>[] _dropouts;  // [0] on the embedding, [l + 1] on layer l's output
    private T[][] _layerInputs;                // x_l [T·B, I_l] (I_0 = E, else H_{l-1}); x_L feeds the decoder
    private T[] _logits = [];
    private T[] _gradientA = [], _gradientB = [];
    private int[] _inputs = [], _targets = [];
    private int _steps, _batch;
    private bool _hasTape;

    /// <summary>Creates a model with zero weights; call <see cref="InitializeUniform"/> or load weights.</summary>
    public LanguageModel(LanguageModelConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        Encoder = new Embedding<T>(config.VocabularySize, config.EmbeddingSize);
        Layers = new IRecurrentLayer<T>[config.Layers];
        for (int l = 0; l < config.Layers; l++)
            Layers[l] = config.Cell == RecurrentCell.Gru
                ? new GruLayer<T>(l, config.InputSize(l), config.HiddenSizeOf(l))
                : new LstmLayer<T>(l, config.InputSize(l), config.HiddenSizeOf(l));
        IWeightMatrix<T> decoderWeight = config.TiedWeights
            ? Encoder.Table
            : new DenseMatrix<T>(DecoderWeightName, config.VocabularySize, config.HiddenSize);
        Decoder = new Linear<T>(decoderWeight, "decoder.bias");
        _dropouts = new Dropout<T>[config.Layers + 1];
        for (int l = 0; l <= config.Layers; l++) _dropouts[l] = new Dropout<T>(config.Dropout);
        _layerInputs = new T[config.Layers + 1][];
        for (int l = 0; l <= config.Layers; l++) _layerInputs[l] = [];
        Random = new Xoshiro256(0);
    }

    /// <summary>The state-dict name of the embedding table.</summary>
    public const string EncoderWeightName = "encoder.weight";

    /// <summary>The state-dict name of the decoder's weight matrix.</summary>
    public const string DecoderWeightName = "decoder.weight";

    /// <summary>The architecture.</summary>
    public LanguageModelConfig Config { get; private set; }

    /// <summary>
    /// Changes the drop probability on non-recurrent connections, as when a trained model is fine-tuned with another
    /// regularization than it was trained with; the weights are untouched.
    /// </summary>
    public void SetDropout(double probability)
    {
        LanguageModelConfig config = Config with { Dropout = probability };
        config.Validate();
        Config = config;
        for (int l = 0; l < _dropouts.Length; l++) _dropouts[l] = new Dropout<T>(probability);
    }

    /// <summary>The word embedding.</summary>
    public Embedding<T> Encoder { get; }

    /// <summary>The recurrent stack.</summary>
    public IRecurrentLayer<T>[] Layers { get; }

    /// <summary>The output projection to vocabulary logits.</summary>
    public Linear<T> Decoder { get; }

    /// <summary>Whether dropout is active.</summary>
    public bool Training { get; set; }

    /// <summary>The generator that draws dropout masks (replace it to seed or restore a run).</summary>
    public Xoshiro256 Random { get; set; }

    /// <summary>Every distinct trainable tensor in state-dict order (a tied decoder weight appears once, as <c>encoder.weight</c>).</summary>
    public IReadOnlyList<Parameter<T>> Parameters =>
        Encoder.Table.Parameters
            .Concat(Layers.SelectMany(l => l.Parameters))
            .Concat(Decoder.Weight.Parameters)
            .Append(Decoder.Bias)
            .Distinct()
            .ToList();

    /// <summary>
    /// Every weight matrix by state-dict name, in state-dict order: <c>encoder.weight</c>, each layer's
    /// <c>rnn.weight_ih_l{k}</c> and <c>rnn.weight_hh_l{k}</c> (or <c>rnn.weight_l{k}</c>), and <c>decoder.weight</c>
    /// unless it is tied to the embedding. Biases are not listed.
    /// </summary>
    public IReadOnlyList<(string Name, IWeightMatrix<T> Matrix)> WeightMatrices
    {
        get
        {
            var matrices = new List<(string, IWeightMatrix<T>)> { (EncoderWeightName, Encoder.Table) };
            foreach (IRecurrentLayer<T> layer in Layers) matrices.AddRange(layer.WeightMatrices);
            if (!Config.TiedWeights) matrices.Add((DecoderWeightName, Decoder.Weight));
            return matrices;
        }
    }

    /// <summary>Total number of distinct trainable values (tensor elements, pruned ones included; see <see cref="CompressionReport"/> for stored weights).</summary>
    public long ParameterCount => Parameters.Sum(p => (long)p.Length);

    /// <summary>
    /// Replaces recurrent weight matrices by other forms built from their current values (<see cref="WeightForms.FromDense{T}"/>
    /// of <see cref="IWeightMatrix{T}.ToDense"/>): <paramref name="chooser"/> is asked for every matrix by name, in
    /// layer order (<c>rnn.weight_ih_l0</c>, <c>rnn.weight_hh_l0</c>, <c>rnn.weight_ih_l1</c>, ..., or
    /// <c>rnn.weight_l{i}</c> for a layer with a combined matrix) and returns the new form, or null to keep the matrix
    /// as it is. <see cref="Parameters"/> lists the new forms' tensors afterwards.
    /// </summary>
    /// <returns>The number of matrices replaced.</returns>
    /// <exception cref="ArgumentException">A form does not fit its matrix; the model is then left unchanged.</exception>
    public int CompressLstm(Func<string, WeightFormSpec?> chooser)
    {
        ArgumentNullException.ThrowIfNull(chooser);
        return Compress(name => IsRecurrent(name) ? chooser(name) : null);
    }

    /// <summary>
    /// Replaces any weight matrices by other forms built from their current values, as <see cref="CompressLstm"/>
    /// does for the recurrent ones: <paramref name="chooser"/> is asked for every name of <see cref="WeightMatrices"/>
    /// in order (<c>encoder.weight</c>, the recurrent matrices, <c>decoder.weight</c>). A decoder tied to the
    /// embedding shares the embedding's new form.
    /// </summary>
    /// <returns>The number of matrices replaced.</returns>
    /// <exception cref="ArgumentException">A form does not fit its matrix; the model is then left unchanged.</exception>
    public int Compress(Func<string, WeightFormSpec?> chooser) => CompressibleModels.Compress(this, chooser);

    /// <summary>
    /// Replaces the weight matrix <paramref name="name"/> (one of <see cref="WeightMatrices"/>) by <paramref name="form"/>
    /// of the same shape; replacing the embedding of a tied model replaces the decoder's weight too.
    /// </summary>
    /// <exception cref="ArgumentException">The model has no such matrix, or the form has another shape.</exception>
    public void ReplaceMatrix(string name, IWeightMatrix<T> form)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(form);
        _hasTape = false;
        if (name == EncoderWeightName)
        {
            Encoder.Replace(form);
            if (Config.TiedWeights) Decoder.ReplaceWeight(form);
            return;
        }
        if (name == DecoderWeightName && !Config.TiedWeights)
        {
            Decoder.ReplaceWeight(form);
            return;
        }
        foreach (IRecurrentLayer<T> layer in Layers)
        {
            if (layer is LstmLayer<T> { CombinedWeights: not null } combined && name == layer.CombinedWeightsName)
            {
                combined.CombineWeights(form);
                return;
            }
            if (layer.CombinedWeights is not null) continue;
            if (name == layer.InputWeightsName)
            {
                layer.ReplaceWeights(form, layer.RecurrentWeights);
                return;
            }
            if (name == layer.RecurrentWeightsName)
            {
                layer.ReplaceWeights(layer.InputWeights, form);
                return;
            }
        }
        throw new ArgumentException($"The model has no weight matrix '{name}'.", nameof(name));
    }

    /// <summary>Whether <paramref name="name"/> names a recurrent weight matrix (<c>rnn.*</c>), not the embedding or decoder.</summary>
    public static bool IsRecurrent(string name) => name.StartsWith("rnn.", StringComparison.Ordinal);

    /// <summary>
    /// Gives LSTM layers one combined matrix [W_ih | W_hh] (4H × (I + H), <see cref="LstmLayer{T}.CombineWeights"/>) in a
    /// form built from the current values: <paramref name="chooser"/> is asked for every layer by the combined
    /// matrix's name (<c>rnn.weight_l{i}</c>) and returns its form (<see cref="WeightFormSpec.Dense"/> for a dense one),
    /// or null to leave the layer as it is.
    /// </summary>
    /// <returns>The number of layers combined.</returns>
    /// <exception cref="ArgumentException">A form does not fit its matrix; the model is then left unchanged.</exception>
    /// <exception cref="NotSupportedException">The model's layers are GRU layers, whose matrices cannot be combined.</exception>
    public int CombineLstm(Func<string, WeightFormSpec?> chooser)
    {
        ArgumentNullException.ThrowIfNull(chooser);
        var combined = new IWeightMatrix<T>?[Layers.Length];
        for (int l = 0; l < Layers.Length; l++)
        {
            if (Layers[l] is not LstmLayer<T> layer)
                throw new NotSupportedException("Only LSTM layers can combine W_ih and W_hh into one matrix; a GRU multiplies W_hn·h by its reset gate.");
            if (chooser(layer.CombinedWeightsName) is not { } spec) continue;
            combined[l] = WeightForms.FromDense<T>(spec, layer.CombinedWeightsName, layer.CombinedDense(),
                4 * layer.HiddenSize, layer.InputSize + layer.HiddenSize);
        }
        for (int l = 0; l < Layers.Length; l++)
            if (combined[l] is { } matrix) ((LstmLayer<T>)Layers[l]).CombineWeights(matrix);
        _hasTape = false;
        return combined.Count(m => m is not null);
    }

    /// <summary>
    /// A copy of this dense, untied model whose decoder is tied to the embedding: the shared matrix starts from the
    /// decoder's weights (the output embedding, the better of the two as a tied matrix in Press and Wolf, 2017), every
    /// other tensor from this model's.
    /// </summary>
    /// <exception cref="InvalidOperationException">The model is already tied, or compressed.</exception>
    /// <exception cref="ArgumentException">The embedding is not as wide as the top layer (from the tied configuration's validation).</exception>
    public LanguageModel<T> WithTiedWeights()
    {
        if (Config.TiedWeights) throw new InvalidOperationException("The decoder is already tied to the embedding.");
        if (CompressionReport().IsCompressed || Encoder.Table is not DenseMatrix<T> || Decoder.Weight is not DenseMatrix<T> decoder)
            throw new InvalidOperationException("Only a dense model can be tied; tie it first, then compress it.");
        var tied = new LanguageModel<T>(Config with { TiedWeights = true });
        Dictionary<string, Parameter<T>> source = Parameters.ToDictionary(p => p.Name);
        foreach (Parameter<T> target in tied.Parameters)
            (target.Name == EncoderWeightName ? decoder.Weight : source[target.Name]).Value.CopyTo(target.Value, 0);
        return tied;
    }

    /// <summary>Stored weights and bytes of the model against its all-dense equivalent (<see cref="Models.CompressionReport"/>).</summary>
    public CompressionReport CompressionReport()
    {
        int h = Config.HiddenSize, v = Config.VocabularySize, g = Config.GateCount, size = Unsafe.SizeOf<T>();
        long denseLstm = 0, lstm = 0, lstmBytes = 0;
        foreach (IRecurrentLayer<T> layer in Layers)
        {
            int units = layer.HiddenSize;
            denseLstm += (long)g * units * (layer.InputSize + units) + 2L * g * units;
            lstm += layer.ParameterCount;
            lstmBytes += layer.StorageBytes;
        }
        // The rest of the model as stored (a tied decoder weight is the embedding, counted once) and as dense.
        long denseRest = (long)v * Config.EmbeddingSize + (Config.TiedWeights ? 0 : (long)v * h) + Decoder.Bias.Length;
        long rest = Encoder.Table.ParameterCount + (Config.TiedWeights ? 0 : Decoder.Weight.ParameterCount) + Decoder.Bias.Length;
        long restBytes = Encoder.Table.StorageBytes + (long)Decoder.Bias.Length * size + (Config.TiedWeights ? 0 : Decoder.Weight.StorageBytes);
        return new CompressionReport(denseLstm, lstm, denseLstm * size, lstmBytes,
            denseLstm + denseRest, lstm + rest, (denseLstm + denseRest) * size, lstmBytes + restBytes);
    }

    /// <summary>Fills every parameter with uniform values in [−range, range] (Zaremba et al.), in state-dict order.</summary>
    public void InitializeUniform(double range, Xoshiro256 random) => CompressibleModels.InitializeUniform(this, range, random);

    /// <summary>Clears every gradient.</summary>
    public void ZeroGradients() => CompressibleModels.ZeroGradients(this);

    /// <summary>Creates a zero recurrent state for <paramref name="batch"/> sequences.</summary>
    public RecurrentState<T> CreateState(int batch) =>
        new(Layers.Select(l => l.HiddenSize).ToArray(), batch, Config.Cell.HasCellState());

    /// <summary>The logits of the last forward, [T·B, V] (softmax probabilities after a forward with targets).</summary>
    public ReadOnlySpan<T> Output => _logits.AsSpan(0, _steps * _batch * Config.VocabularySize);

    /// <summary>
    /// Runs a window of <paramref name="steps"/> × <paramref name="batch"/> tokens from <paramref name="state"/>,
    /// leaving the final state in it, and returns the summed cross-entropy over the targets (natural log).
    /// </summary>
    public double Forward(ReadOnlySpan<int> inputs, ReadOnlySpan<int> targets, int steps, int batch, RecurrentState<T> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        int rows = steps * batch, h = Config.HiddenSize, e = Config.EmbeddingSize, v = Config.VocabularySize;
        if (steps < 1 || batch < 1) throw new ArgumentOutOfRangeException(nameof(steps), "A window needs at least one step and one sequence.");
        if (inputs.Length != rows || targets.Length != rows) throw new ArgumentException($"A window of {steps}×{batch} needs {rows} inputs and targets.");
        if (state.Batch != batch) throw new ArgumentException($"The state holds {state.Batch} sequences, the window {batch}.", nameof(state));
        Reserve(rows);
        _steps = steps;
        _batch = batch;
        inputs.CopyTo(_inputs);
        targets.CopyTo(_targets);

        Span<T> x = _layerInputs[0].AsSpan(0, rows * e);
        Encoder.Forward(inputs, x);
        if (Training) _dropouts[0].Forward(x, Random);
        for (int l = 0; l < Layers.Length; l++)
        {
            IRecurrentLayer<T> layer = Layers[l];
            layer.Forward(_layerInputs[l].AsSpan(0, rows * layer.InputSize), state.Hidden[l], state.Cell[l], steps, batch);
            layer.FinalHidden.CopyTo(state.Hidden[l]);
            layer.FinalCell.CopyTo(state.Cell[l]);
            Span<T> next = _layerInputs[l + 1].AsSpan(0, rows * layer.HiddenSize);
            layer.Output.CopyTo(next);
            if (Training) _dropouts[l + 1].Forward(next, Random);
        }
        Span<T> logits = _logits.AsSpan(0, rows * v);
        Decoder.Forward(_layerInputs[^1].AsSpan(0, rows * h), logits, rows);
        _hasTape = true;
        return SoftmaxCrossEntropy.Forward<T>(logits, targets, v);
    }

    /// <summary>
    /// Back-propagates the loss of the last <see cref="Forward"/>: every gradient receives ∂(<paramref name="scale"/> · Σ CE)/∂θ.
    /// With scale = 1/(T·B) this is the gradient of the mean loss; with 1/B, Zaremba's sum over time averaged over the batch.
    /// </summary>
    public void Backward(T scale)
    {
        if (!_hasTape) throw new InvalidOperationException("Backward needs a Forward with targets first.");
        int rows = _steps * _batch, v = Config.VocabularySize;
        SoftmaxCrossEntropy.Backward(_logits.AsSpan(0, rows * v), _targets.AsSpan(0, rows), v, scale);
        BackwardFromLogits();
    }

    /// <summary>
    /// Back-propagates the loss of the last <see cref="Forward"/> against its targets mixed with a teacher's
    /// probabilities (knowledge distillation): every gradient receives ∂(<paramref name="scale"/> · Σ_r [(1 − w)·CE_r +
    /// w·H(q_r, p_r)])/∂θ, where q = <paramref name="softTargets"/> [T·B, V] and w = <paramref name="softWeight"/>.
    /// </summary>
    public void Backward(T scale, ReadOnlySpan<T> softTargets, T softWeight)
    {
        if (!_hasTape) throw new InvalidOperationException("Backward needs a Forward with targets first.");
        int rows = _steps * _batch, v = Config.VocabularySize;
        if (softTargets.Length != rows * v) throw new ArgumentException($"The teacher's probabilities must be [{rows}, {v}], like the window.", nameof(softTargets));
        SoftmaxCrossEntropy.Backward(_logits.AsSpan(0, rows * v), _targets.AsSpan(0, rows), v, scale, softTargets, softWeight);
        BackwardFromLogits();
    }

    private void BackwardFromLogits()
    {
        _hasTape = false;
        int rows = _steps * _batch, h = Config.HiddenSize, v = Config.VocabularySize;
        Span<T> dLogits = _logits.AsSpan(0, rows * v);
        // Two buffers take turns holding ∂L/∂(a layer's output) and ∂L/∂(its input); each fits the widest.
        T[] outputGradients = _gradientA, inputGradients = _gradientB;
        Span<T> dx = outputGradients.AsSpan(0, rows * h);
        Decoder.Backward(_layerInputs[^1].AsSpan(0, rows * h), dLogits, dx, rows);
        for (int l = Layers.Length - 1; l >= 0; l--)
        {
            if (Training) _dropouts[l + 1].Backward(dx);
            int width = Layers[l].InputSize;
            Span<T> dInput = inputGradients.AsSpan(0, rows * width);
            Layers[l].Backward(_layerInputs[l].AsSpan(0, rows * width), dx, dInput, default, default, default, default);
            (outputGradients, inputGradients) = (inputGradients, outputGradients);
            dx = dInput;
        }
        if (Training) _dropouts[0].Backward(dx);
        Encoder.Backward(_inputs.AsSpan(0, rows), dx);
    }

    private void Reserve(int rows)
    {
        int v = Config.VocabularySize, widest = Math.Max(Config.EmbeddingSize, Layers.Max(l => l.HiddenSize));
        for (int l = 0; l < _layerInputs.Length; l++)
        {
            int width = l == 0 ? Config.EmbeddingSize : Layers[l - 1].HiddenSize;
            if (_layerInputs[l].Length < rows * width) _layerInputs[l] = new T[rows * width];
        }
        if (_logits.Length < rows * v) _logits = new T[rows * v];
        if (_gradientA.Length < rows * widest) { _gradientA = new T[rows * widest]; _gradientB = new T[rows * widest]; }
        if (_inputs.Length < rows) { _inputs = new int[rows]; _targets = new int[rows]; }
    }
}
