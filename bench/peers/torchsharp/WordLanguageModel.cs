using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

/// <summary>
/// Zaremba et al.'s word LSTM LM as word_lm.py's RNNModel: embedding (V x H) -> dropout -> <see cref="LstmStack"/> ->
/// dropout -> linear decoder (H -> V), every parameter U(-init, init), trained by SGD on CE summed over time and averaged
/// over the batch, after clipping the global gradient norm.
/// </summary>
sealed class WordLanguageModel
{
    readonly Embedding _encoder;
    readonly Linear _decoder;
    readonly double _dropout, _clip;
    readonly int _vocabularySize, _hidden, _layers;
    readonly optim.Optimizer _optimizer;

    public WordLanguageModel(int vocabularySize, PeerOptions options, IReadOnlyList<IRecurrentForm>? forms)
    {
        _vocabularySize = vocabularySize;
        _hidden = options.Hidden;
        _layers = options.Layers;
        _dropout = options.Dropout;
        _clip = options.Clip;
        _encoder = nn.Embedding(vocabularySize, options.Hidden);
        Rnn = new LstmStack(options.Hidden, options.Hidden, options.Layers, options.Dropout, forms);
        _decoder = nn.Linear(options.Hidden, vocabularySize);
        using (no_grad())
        {
            foreach (var p in _encoder.parameters().Concat(_decoder.parameters())) p.uniform_(-options.Init, options.Init);
        }
        Rnn.Reset(options.Init);
        _optimizer = optim.SGD(TrainedParameters, options.LearningRate);
    }

    public LstmStack Rnn { get; }

    public IReadOnlyList<Parameter> TrainedParameters =>
        [.. _encoder.parameters(), .. Rnn.TrainedParameters, .. _decoder.parameters()];

    public long ParameterCount => TrainedParameters.Sum(p => p.numel());

    /// <summary>A zero state (h, c), each [L x B x H].</summary>
    public (Tensor H, Tensor C) InitialState(long batchSize) =>
        (zeros(_layers, batchSize, _hidden), zeros(_layers, batchSize, _hidden));

    /// <summary>The mean CE of a window's logits ([T x B] inputs and targets) and the state after it.</summary>
    public (Tensor Loss, Tensor H, Tensor C) Loss(Tensor inputs, Tensor targets, (Tensor H, Tensor C) state, LstmKernel kernel, bool training)
    {
        Tensor embedded = Dropout(_encoder.call(inputs), training);
        var (output, h, c) = Rnn.Forward(embedded, state.H, state.C, kernel, training);
        Tensor logits = _decoder.call(Dropout(output, training)).view(-1, _vocabularySize);
        return (nn.functional.cross_entropy(logits, targets.reshape(-1)), h, c);
    }

    /// <summary>Every gradient to none (as word_lm.py's zero_grad(set_to_none=True)).</summary>
    public void ClearGradients()
    {
        foreach (var p in _encoder.parameters().Concat(_decoder.parameters()).Concat(Rnn.GradientHolders)) p.grad = null;
    }

    /// <summary>
    /// One SGD window (word_lm.py's train_window): the gradient of mean CE x T, clipped to a global norm of clip, then
    /// p -= lr g. Returns the window's mean CE; <paramref name="state"/> becomes the detached state after it (the
    /// tensors it held are disposed).
    /// </summary>
    public float TrainWindow(Tensor inputs, Tensor targets, ref (Tensor H, Tensor C) state, LstmKernel kernel)
    {
        float loss;
        (Tensor H, Tensor C) next;
        using (NewDisposeScope())
        {
            ClearGradients();
            var (mean, h, c) = Loss(inputs, targets, state, kernel, training: true);
            Rnn.Backward(mean * inputs.shape[0]);
            nn.utils.clip_grad_norm_(TrainedParameters, _clip);
            _optimizer.step();
            loss = mean.item<float>();
            next = (h.detach().DetachFromDisposeScope(), c.detach().DetachFromDisposeScope()); // owned by the caller
        }
        state.H.Dispose();
        state.C.Dispose();
        state = next;
        return loss;
    }

    Tensor Dropout(Tensor x, bool training) =>
        _dropout > 0 && training ? nn.functional.dropout(x, _dropout, training: true) : x;
}
