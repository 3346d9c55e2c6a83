using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using Dopant.Matrices;
using Dopant.Numerics;

namespace Dopant.Models;

/// <summary>
/// A tagger or a sentence classifier: embedding → dropout → recurrent layers over whole sentences (LSTM or GRU,
/// unidirectional or bidirectional; dropout after each) → decoder → softmax cross-entropy against a label per token or
/// per sentence. Parameter names follow PyTorch's state dicts of <c>nn.Embedding</c> (<c>encoder.weight</c>),
/// <c>nn.LSTM</c>/<c>nn.GRU</c> (<c>rnn.weight_ih_l0</c>, ..., <c>rnn.weight_ih_l0_reverse</c>, ...) and
/// <c>nn.Linear</c> (<c>decoder.weight</c>, <c>decoder.bias</c>).
/// </summary>
/// <remarks>
/// A batch holds B sentences padded at the end to T steps, time-major: token r = t·B + b, read only where t is below
/// sentence b's length. The loss is summed over the labels of the batch: one per token (<see cref="LabelHead.TokenLabels"/>)
/// or one per sentence (<see cref="LabelHead.SequenceLabel"/>); <see cref="Count"/> says how many.
/// </remarks>
public sealed class SentenceLabeler<T> : ICompressibleModel<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Dropout<T>[] _dropouts;  // [0] on the embedding, [l + 1] on layer l's output
    private readonly T[][] _layerInputs;       // x_0 [T·B, E]; x_{l+1} [T·B, D] = layer l's output after dropout
    private T[] _features = [], _logits = [], _dFeatures = [], _gradientA = [], _gradientB = [];
    private int[] _tokens = [], _lengths = [], _targets = [];
    private int _steps, _batch, _count;
    private bool _hasTape;

    /// <summary>Creates a model with zero weights; call <see cref="InitializeUniform"/> or load weights.</summary>
    public SentenceLabeler(SentenceModelConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        Encoder = new Embedding<T>(config.VocabularySize, config.EmbeddingSize);
        Layers = new SentenceLayer<T>[config.Layers];
        for (int l = 0; l < config.Layers; l++)
        {
            int input = l == 0 ? config.EmbeddingSize : config.OutputSizeOf(l - 1);
            Layers[l] = new SentenceLayer<T>(Direction(l, input, ""), config.Bidirectional ? Direction(l, input, "_reverse") : null);
        }
        Decoder = new Linear<T>(new DenseMatrix<T>("decoder.weight", config.LabelCount, config.OutputSize), "decoder.bias");
        _dropouts = new Dropout<T>[config.Layers + 1];
        for (int l = 0; l <= config.Layers; l++) _dropouts[l] = new Dropout<T>(config.Dropout);
        _layerInputs = new T[config.Layers + 1][];
        for (int l = 0; l <= config.Layers; l++) _layerInputs[l] = [];
        Random = new Xoshiro256(0);

        IRecurrentLayer<T> Direction(int index, int input, string suffix) => config.Cell == RecurrentCell.Gru
            ? new GruLayer<T>(index, input, config.HiddenSizeOf(index), suffix)
            : new LstmLayer<T>(index, input, config.HiddenSizeOf(index), suffix);
    }

    /// <summary>The architecture.</summary>
    public SentenceModelConfig Config { get; private set; }

    /// <summary>Sets the dropout probability of the non-recurrent connections (in the config too), e.g. for fine-tuning.</summary>
    /// <exception cref="ArgumentException">The probability is outside [0, 1).</exception>
    public void SetDropout(double probability)
    {
        SentenceModelConfig config = Config with { Dropout = probability };
        config.Validate();
        Config = config;
        for (int l = 0; l < _dropouts.Length; l++) _dropouts[l] = new Dropout<T>(probability);
    }

    /// <summary>The word embedding.</summary>
    public Embedding<T> Encoder { get; }

    /// <summary>The recurrent layers.</summary>
    public SentenceLayer<T>[] Layers { get; }

    /// <summary>The projection of the top layer's (pooled) output to label logits.</summary>
    public Linear<T> Decoder { get; }

    /// <summary>Whether dropout is active.</summary>
    public bool Training { get; set; }

    /// <summary>The generator that draws dropout masks.</summary>
    public Xoshiro256 Random { get; set; }

    /// <summary>Every trainable tensor in state-dict order.</summary>
    public IReadOnlyList<Parameter<T>> Parameters =>
        Encoder.Table.Parameters
            .Concat(Layers.SelectMany(l => l.Parameters))
            .Concat(Decoder.Weight.Parameters)
            .Append(Decoder.Bias)
            .Distinct()
            .ToList();

    /// <summary>Every weight matrix by state-dict name: <c>encoder.weight</c>, the recurrent matrices (forward, then reverse, layer by layer), <c>decoder.weight</c>.</summary>
    public IReadOnlyList<(string Name, IWeightMatrix<T> Matrix)> WeightMatrices =>
        [("encoder.weight", Encoder.Table), .. Layers.SelectMany(l => l.WeightMatrices), ("decoder.weight", Decoder.Weight)];

    /// <inheritdoc/>
    public void ReplaceMatrix(string name, IWeightMatrix<T> form)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(form);
        _hasTape = false;
        if (name == "encoder.weight")
        {
            Encoder.Replace(form);
            return;
        }
        if (name == "decoder.weight")
        {
            Decoder.ReplaceWeight(form);
            return;
        }
        foreach (IRecurrentLayer<T> direction in Layers.SelectMany(l => l.Reverse is null ? [l.Forward] : new[] { l.Forward, l.Reverse }))
        {
            if (name == direction.InputWeightsName)
            {
                direction.ReplaceWeights(form, direction.RecurrentWeights);
                return;
            }
            if (name == direction.RecurrentWeightsName)
            {
                direction.ReplaceWeights(direction.InputWeights, form);
                return;
            }
        }
        throw new ArgumentException($"The model has no weight matrix '{name}'.", nameof(name));
    }

    /// <summary>The number of labels the last <see cref="Forward"/> scored: the batch's tokens, or its sentences.</summary>
    public int Count => _count;

    /// <summary>The label probabilities of the last forward, [<see cref="Count"/>, C]: token by token in time-major order, or sentence by sentence.</summary>
    public ReadOnlySpan<T> Probabilities => _logits.AsSpan(0, _count * Config.LabelCount);

    /// <summary>The decoder's input of the last forward, [<see cref="Count"/>, D]: the top layer's outputs at the scored tokens, or the pooled sentences.</summary>
    public ReadOnlySpan<T> Features => _features.AsSpan(0, _count * Config.OutputSize);

    /// <summary>Fills every parameter with uniform values in [−range, range], in state-dict order.</summary>
    public void InitializeUniform(double range, Xoshiro256 random) => CompressibleModels.InitializeUniform(this, range, random);

    /// <summary>Clears every gradient.</summary>
    public void ZeroGradients() => CompressibleModels.ZeroGradients(this);

    /// <summary>
    /// Stored weights and bytes against the all-dense model (<see cref="Models.CompressionReport"/>): the recurrent
    /// layers (both directions, biases included) and the whole model.
    /// </summary>
    public CompressionReport CompressionReport()
    {
        int size = Unsafe.SizeOf<T>();
        long denseRecurrent = 0, recurrent = 0, recurrentBytes = 0, denseRest = 0, rest = 0, restBytes = 0;
        foreach ((string name, IWeightMatrix<T> matrix) in WeightMatrices)
        {
            bool isRecurrent = name.StartsWith("rnn.", StringComparison.Ordinal);
            long dense = (long)matrix.Rows * matrix.Columns;
            if (isRecurrent) (denseRecurrent, recurrent, recurrentBytes) = (denseRecurrent + dense, recurrent + matrix.ParameterCount, recurrentBytes + matrix.StorageBytes);
            else (denseRest, rest, restBytes) = (denseRest + dense, rest + matrix.ParameterCount, restBytes + matrix.StorageBytes);
        }
        foreach (Parameter<T> bias in Parameters.Where(p => p.Shape.Length == 1))
        {
            bool isRecurrent = bias.Name.StartsWith("rnn.", StringComparison.Ordinal);
            if (isRecurrent) (denseRecurrent, recurrent, recurrentBytes) = (denseRecurrent + bias.Length, recurrent + bias.Length, recurrentBytes + (long)bias.Length * size);
            else (denseRest, rest, restBytes) = (denseRest + bias.Length, rest + bias.Length, restBytes + (long)bias.Length * size);
        }
        return new CompressionReport(denseRecurrent, recurrent, denseRecurrent * size, recurrentBytes,
            denseRecurrent + denseRest, recurrent + rest, (denseRecurrent + denseRest) * size, recurrentBytes + restBytes);
    }

    /// <summary>
    /// Runs a batch of <paramref name="batch"/> sentences padded to <paramref name="steps"/> and returns the summed
    /// cross-entropy (natural log) of its labels: <paramref name="labels"/> holds one label per position [T·B] (read where
    /// t is below the sentence's length) for a token-label head, or one per sentence [B].
    /// </summary>
    /// <exception cref="ArgumentException">A length is outside [1, T], a token outside the vocabulary, or a read label outside [0, C).</exception>
    public double Forward(ReadOnlySpan<int> tokens, ReadOnlySpan<int> lengths, ReadOnlySpan<int> labels, int steps, int batch)
    {
        int rows = steps * batch, e = Config.EmbeddingSize, d = Config.OutputSize, c = Config.LabelCount;
        if (steps < 1 || batch < 1) throw new ArgumentOutOfRangeException(nameof(steps), "A batch needs at least one step and one sentence.");
        if (tokens.Length != rows) throw new ArgumentException($"A batch of {batch} sentences padded to {steps} needs {rows} tokens; got {tokens.Length}.", nameof(tokens));
        if (lengths.Length != batch) throw new ArgumentException($"{lengths.Length} lengths for {batch} sentences.", nameof(lengths));
        int expectedLabels = Config.Head == LabelHead.TokenLabels ? rows : batch;
        if (labels.Length != expectedLabels) throw new ArgumentException($"The head needs {expectedLabels} labels; got {labels.Length}.", nameof(labels));
        int count = 0;
        foreach (int length in lengths)
        {
            if (length < 1 || length > steps) throw new ArgumentException($"A sentence length of {length} is outside [1, {steps}].", nameof(lengths));
            count += length;
        }
        _count = Config.Head == LabelHead.TokenLabels ? count : batch;
        Reserve(rows);
        _steps = steps;
        _batch = batch;
        tokens.CopyTo(_tokens);
        lengths.CopyTo(_lengths);

        Span<T> x = _layerInputs[0].AsSpan(0, rows * e);
        Encoder.Forward(tokens, x);
        if (Training) _dropouts[0].Forward(x, Random);
        for (int l = 0; l < Layers.Length; l++)
        {
            Layers[l].Run(_layerInputs[l].AsSpan(0, rows * Layers[l].InputSize), lengths, steps, batch);
            Span<T> next = _layerInputs[l + 1].AsSpan(0, rows * Layers[l].OutputSize);
            Layers[l].Output.CopyTo(next);
            if (Training) _dropouts[l + 1].Forward(next, Random);
        }
        Span<T> features = _features.AsSpan(0, _count * d);
        Span<int> targets = _targets.AsSpan(0, _count);
        Pool(_layerInputs[^1].AsSpan(0, rows * d), labels, features, targets);
        foreach (int target in targets)
            if ((uint)target >= (uint)c) throw new ArgumentException($"Label {target} is outside [0, {c}).", nameof(labels));
        Span<T> logits = _logits.AsSpan(0, _count * c);
        Decoder.Forward(features, logits, _count);
        _hasTape = true;
        return SoftmaxCrossEntropy.Forward<T>(logits, targets, c);
    }

    /// <summary>Back-propagates the loss of the last <see cref="Forward"/>: every gradient receives ∂(<paramref name="scale"/> · Σ CE)/∂θ.</summary>
    public void Backward(T scale)
    {
        if (!_hasTape) throw new InvalidOperationException("Backward needs a Forward first.");
        SoftmaxCrossEntropy.Backward(_logits.AsSpan(0, _count * Config.LabelCount), _targets.AsSpan(0, _count), Config.LabelCount, scale);
        BackwardFromLogits();
    }

    /// <summary>
    /// Back-propagates the loss of the last <see cref="Forward"/> against its labels mixed with a teacher's
    /// probabilities (knowledge distillation): every gradient receives ∂(<paramref name="scale"/> · Σ_r [(1 − w)·CE_r +
    /// w·H(q_r, p_r)])/∂θ, where q = <paramref name="softTargets"/> [<see cref="Count"/>, C], in the order of
    /// <see cref="Probabilities"/>, and w = <paramref name="softWeight"/>.
    /// </summary>
    public void Backward(T scale, ReadOnlySpan<T> softTargets, T softWeight)
    {
        if (!_hasTape) throw new InvalidOperationException("Backward needs a Forward first.");
        int c = Config.LabelCount;
        if (softTargets.Length != _count * c) throw new ArgumentException($"The teacher's probabilities must be [{_count}, {c}], like the batch's labels.", nameof(softTargets));
        SoftmaxCrossEntropy.Backward(_logits.AsSpan(0, _count * c), _targets.AsSpan(0, _count), c, scale, softTargets, softWeight);
        BackwardFromLogits();
    }

    private void BackwardFromLogits()
    {
        _hasTape = false;
        int rows = _steps * _batch, d = Config.OutputSize, c = Config.LabelCount;
        Span<T> dLogits = _logits.AsSpan(0, _count * c);
        Span<T> dFeatures = _dFeatures.AsSpan(0, _count * d);
        Decoder.Backward(_features.AsSpan(0, _count * d), dLogits, dFeatures, _count);

        T[] outputGradients = _gradientA, inputGradients = _gradientB;
        Span<T> dTop = outputGradients.AsSpan(0, rows * d);
        Unpool(dFeatures, dTop);
        for (int l = Layers.Length - 1; l >= 0; l--)
        {
            if (Training) _dropouts[l + 1].Backward(dTop);
            int width = Layers[l].InputSize;
            Span<T> dInput = inputGradients.AsSpan(0, rows * width);
            Layers[l].Backward(_layerInputs[l].AsSpan(0, rows * width), dTop, dInput);
            (outputGradients, inputGradients) = (inputGradients, outputGradients);
            dTop = dInput;
        }
        if (Training) _dropouts[0].Backward(dTop);
        Encoder.Backward(_tokens.AsSpan(0, rows), dTop);
    }

    // The decoder's inputs and targets from the top layer's output [T·B, D].
    private void Pool(ReadOnlySpan<T> top, ReadOnlySpan<int> labels, Span<T> features, Span<int> targets)
    {
        int d = Config.OutputSize, h = Config.HiddenSize, batch = _batch;
        ReadOnlySpan<int> lengths = _lengths.AsSpan(0, batch);
        if (Config.Head == LabelHead.TokenLabels)
        {
            int n = 0;
            for (int t = 0; t < _steps; t++)
                for (int b = 0; b < batch; b++)
                {
                    if (t >= lengths[b]) continue;
                    top.Slice((t * batch + b) * d, d).CopyTo(features.Slice(n * d, d));
                    targets[n++] = labels[t * batch + b];
                }
            return;
        }
        labels.CopyTo(targets);
        for (int b = 0; b < batch; b++)
        {
            Span<T> feature = features.Slice(b * d, d);
            if (Config.Pooling == SentencePooling.Final)
            {
                top.Slice(((lengths[b] - 1) * batch + b) * d, h).CopyTo(feature);
                if (Config.Bidirectional) top.Slice(b * d + h, h).CopyTo(feature[h..]);
                continue;
            }
            feature.Clear();
            for (int t = 0; t < lengths[b]; t++) TensorPrimitives.Add(feature, top.Slice((t * batch + b) * d, d), feature);
            TensorPrimitives.Multiply(feature, T.One / T.CreateChecked(lengths[b]), feature);
        }
    }

    // ∂L/∂(top layer's output) from ∂L/∂features: the transpose of Pool, zero elsewhere.
    private void Unpool(ReadOnlySpan<T> dFeatures, Span<T> dTop)
    {
        int d = Config.OutputSize, h = Config.HiddenSize, batch = _batch;
        ReadOnlySpan<int> lengths = _lengths.AsSpan(0, batch);
        dTop.Clear();
        if (Config.Head == LabelHead.TokenLabels)
        {
            int n = 0;
            for (int t = 0; t < _steps; t++)
                for (int b = 0; b < batch; b++)
                    if (t < lengths[b]) dFeatures.Slice(n++ * d, d).CopyTo(dTop.Slice((t * batch + b) * d, d));
            return;
        }
        for (int b = 0; b < batch; b++)
        {
            ReadOnlySpan<T> dFeature = dFeatures.Slice(b * d, d);
            if (Config.Pooling == SentencePooling.Final)
            {
                dFeature[..h].CopyTo(dTop.Slice(((lengths[b] - 1) * batch + b) * d, h));
                if (Config.Bidirectional)
                {
                    Span<T> first = dTop.Slice(b * d + h, h);
                    TensorPrimitives.Add(first, dFeature[h..], first);
                }
                continue;
            }
            T share = T.One / T.CreateChecked(lengths[b]);
            for (int t = 0; t < lengths[b]; t++)
                TensorPrimitives.Multiply(dFeature, share, dTop.Slice((t * batch + b) * d, d));
        }
    }

    private void Reserve(int rows)
    {
        int e = Config.EmbeddingSize, d = Config.OutputSize, c = Config.LabelCount, widest = Math.Max(e, Layers.Max(l => l.OutputSize));
        for (int l = 0; l < _layerInputs.Length; l++)
        {
            int width = l == 0 ? e : Layers[l - 1].OutputSize;
            if (_layerInputs[l].Length < rows * width) _layerInputs[l] = new T[rows * width];
        }
        if (_features.Length < rows * d) { _features = new T[rows * d]; _dFeatures = new T[rows * d]; }
        if (_logits.Length < rows * c) _logits = new T[rows * c];
        if (_gradientA.Length < rows * widest) { _gradientA = new T[rows * widest]; _gradientB = new T[rows * widest]; }
        if (_tokens.Length < rows) { _tokens = new int[rows]; _targets = new int[rows]; }
        if (_lengths.Length < rows) _lengths = new int[rows];
    }
}
