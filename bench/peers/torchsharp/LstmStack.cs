using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

/// <summary>
/// The model's L-layer LSTM (gates i, f, g, o as PyTorch's; dropout between layers). Its recurrent matrices are either
/// TorchSharp nn.LSTM's own dense weights or compressed forms (<see cref="IRecurrentForm"/>) materialized on every
/// forward; the biases always stay dense. Shapes: input [T x B x In], state [L x B x H], output [T x B x H].
/// </summary>
/// <remarks>
/// TorchSharp has no functional LSTM that takes weights (word_lm.py calls torch's _VF.lstm; TorchSharp's nn.LSTM wraps a
/// native module that owns its weights), so a compressed form reaches libtorch's LSTM kernel in two steps, which is
/// <see cref="LstmKernel.Native"/>: each W is materialized from its parts and copied into the module's weight, the module
/// runs forward and backward as for a dense model, and a second backward carries each weight's gradient dL/dW through the
/// materialization into the parts. By the chain rule the parts get exactly the gradient autograd would give them through a
/// kernel taking W directly; the extra cost is one copy and one gradient pass per matrix, small beside the LSTM itself.
/// <see cref="LstmKernel.Loop"/> instead runs a hand-written cell loop (the input projection of all steps in one matrix
/// product, then per step one addmm and the gate functions) with autograd straight through W. The native kernel is the
/// default because it was the faster of the two: some 5-20% on small, dense and dkp, at 1 and 2 threads (a busy 2-core
/// machine, December 2026); --kernel loop keeps the other for comparison.
/// </remarks>
sealed class LstmStack
{
    readonly LSTM _native;
    readonly int _hidden, _layers;
    readonly double _dropout;
    readonly Parameter[] _weights, _biases; // the module's: W_ih_l0, W_hh_l0, W_ih_l1, ... and b_ih_l0, b_hh_l0, ...
    readonly IRecurrentForm[]? _forms;      // null: dense, the module's weights are trained as they are
    Tensor[]? _materialized;                // the forms' W of the forward that Backward has yet to finish

    /// <param name="forms">[W_ih_l0, W_hh_l0, W_ih_l1, ...], or null for the module's dense weights.</param>
    public LstmStack(int inputSize, int hidden, int layers, double dropout, IReadOnlyList<IRecurrentForm>? forms)
    {
        _hidden = hidden;
        _layers = layers;
        _dropout = layers > 1 ? dropout : 0.0;
        _native = nn.LSTM(inputSize, hidden, numLayers: layers, dropout: _dropout);
        var named = _native.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        _weights = [.. Enumerable.Range(0, layers).SelectMany(k => new[] { named[$"weight_ih_l{k}"], named[$"weight_hh_l{k}"] })];
        _biases = [.. Enumerable.Range(0, layers).SelectMany(k => new[] { named[$"bias_ih_l{k}"], named[$"bias_hh_l{k}"] })];
        if (forms is not null)
        {
            if (forms.Count != 2 * layers) throw new ArgumentException($"{forms.Count} forms for {layers} layers");
            for (int k = 0; k < forms.Count; k++)
            {
                if (forms[k].Rows != _weights[k].shape[0] || forms[k].Columns != _weights[k].shape[1])
                    throw new ArgumentException($"form {k} is {forms[k].Rows}x{forms[k].Columns}, the LSTM needs {_weights[k].shape[0]}x{_weights[k].shape[1]}");
            }
            _forms = [.. forms];
        }
    }

    /// <summary>What the optimizer updates and clipping measures: the forms' parts and the biases, or every weight of
    /// the module when dense.</summary>
    public IReadOnlyList<Parameter> TrainedParameters =>
        _forms is null ? [.. _weights, .. _biases] : [.. _forms.SelectMany(f => f.Parameters), .. _biases];

    /// <summary>Every tensor a step leaves a gradient on (with a compressed form, also the module's weights, which only
    /// relay dL/dW).</summary>
    public IReadOnlyList<Parameter> GradientHolders => _forms is null ? TrainedParameters : [.. TrainedParameters, .. _weights];

    /// <summary>The recurrent matrices' live parameters (forms: the factors plus the entries the masks keep).</summary>
    public long RecurrentParameters => _forms?.Sum(f => f.LiveParameters) ?? RecurrentDenseParameters;

    public long RecurrentDenseParameters => _weights.Sum(w => w.numel());

    /// <summary>One line per matrix, as word_lm.py's recurrent_forms; null when dense.</summary>
    public IReadOnlyList<string>? Descriptions => _forms?.Select((f, k) =>
        $"{(k % 2 == 0 ? "W_ih" : "W_hh")}_l{k / 2} {f.Rows}x{f.Columns}: {f.Description}").ToList();

    /// <summary>Zaremba's U(-init, init) for the module's parameters, then the forms' own spreads.</summary>
    public void Reset(double init)
    {
        using (no_grad())
        {
            foreach (var p in _native.parameters()) p.uniform_(-init, init);
        }
        if (_forms is null) return;
        foreach (var form in _forms) form.Reset(init);
    }

    /// <summary>Runs the LSTM; with a compressed form, <see cref="Backward"/> must follow before the next forward.</summary>
    public (Tensor Output, Tensor H, Tensor C) Forward(Tensor input, Tensor h0, Tensor c0, LstmKernel kernel, bool training)
    {
        _materialized = null;
        if (kernel == LstmKernel.Loop) return Loop(input, h0, c0, training);
        if (_forms is not null)
        {
            _materialized = [.. _forms.Select(f => f.Materialize())];
            using (no_grad())
            {
                for (int k = 0; k < _weights.Length; k++) _weights[k].copy_(_materialized[k]);
            }
        }
        _native.train(training);
        return _native.call(input, (h0, c0));
    }

    /// <summary>loss.backward(), then, after a native forward of compressed forms, dL/dW of each module weight through
    /// its materialization into the form's parts.</summary>
    public void Backward(Tensor loss)
    {
        loss.backward();
        if (_materialized is null) return;
        var relayed = _weights.Select(w => w.grad ?? throw new InvalidOperationException("an LSTM weight got no gradient")).ToList();
        autograd.backward(_materialized, relayed);
        _materialized = null;
    }

    (Tensor Output, Tensor H, Tensor C) Loop(Tensor input, Tensor h0, Tensor c0, bool training)
    {
        int steps = (int)input.shape[0];
        long h = _hidden;
        Tensor x = input;
        var lastH = new Tensor[_layers];
        var lastC = new Tensor[_layers];
        for (int k = 0; k < _layers; k++)
        {
            Tensor wIh = _forms?[2 * k].Materialize() ?? _weights[2 * k];
            Tensor wHh = _forms?[2 * k + 1].Materialize() ?? _weights[2 * k + 1];
            // x W_ih^T + b_ih + b_hh for all steps at once: [T x B x 4H]
            Tensor projected = nn.functional.linear(x, wIh, _biases[2 * k] + _biases[2 * k + 1]);
            Tensor wHhT = wHh.t();
            Tensor hk = h0[k], ck = c0[k];
            var outputs = new Tensor[steps];
            for (int t = 0; t < steps; t++)
            {
                Tensor gates = projected[t].addmm(hk, wHhT);
                Tensor inputForget = gates.narrow(1, 0, 2 * h).sigmoid();
                Tensor cell = gates.narrow(1, 2 * h, h).tanh();
                Tensor output = gates.narrow(1, 3 * h, h).sigmoid();
                ck = inputForget.narrow(1, h, h) * ck + inputForget.narrow(1, 0, h) * cell;
                hk = output * ck.tanh();
                outputs[t] = hk;
            }
            x = stack(outputs);
            lastH[k] = hk;
            lastC[k] = ck;
            if (k < _layers - 1 && _dropout > 0 && training) x = nn.functional.dropout(x, _dropout, training: true);
        }
        return (x, stack(lastH), stack(lastC));
    }
}
