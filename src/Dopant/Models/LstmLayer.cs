using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using Dopant.Matrices;
using Dopant.Numerics;

namespace Dopant.Models;

/// <summary>
/// One LSTM layer with PyTorch's semantics (torch.nn.LSTM): gates stacked i, f, g, o;
/// i = σ(W_ii x + b_ii + W_hi h + b_hi), f likewise, g = tanh(...), o = σ(...),
/// c' = f ⊙ c + i ⊙ g, h' = o ⊙ tanh(c'). The two weight matrices are reached through
/// <see cref="IWeightMatrix{T}"/> so that compressed forms can replace them; or, once <see cref="CombineWeights"/> has
/// been called, a single matrix W = [W_ih | W_hh] (4H × (I + H)) acts on [x_t; h_{t−1}], so that one form compresses both.
/// </summary>
/// <remarks>
/// Shapes (T steps, B batch, I input, H hidden): x [T·B, I] time-major, h0/c0 [B, H], output [T·B, H].
/// The layer keeps the activations of the last forward (its tape) for the backward pass. With separate matrices W_ih
/// acts on all steps at once and W_hh step by step; a combined matrix acts step by step on both.
/// </remarks>
public sealed class LstmLayer<T> : IRecurrentLayer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private T[] _gates = [];    // [T·B, 4H] gate activations i, f, g, o
    private T[] _hidden = [];   // [(T+1)·B, H]: h0, h1, ..., hT
    private T[] _cells = [];    // [(T+1)·B, H]: c0, c1, ..., cT
    private T[] _tanhCells = [];// [T·B, H]: tanh(c1..cT)
    private T[] _gateGradients = []; // [T·B, 4H]
    private T[] _dh = [], _dc = [];  // [B, H]
    private T[] _joined = [];   // combined matrix only: [T·B, I + H], the rows [x_t; h_{t−1}]
    private T[] _dJoined = [];  // combined matrix only: [B, I + H]
    private IWeightMatrix<T>? _inputWeights, _recurrentWeights;
    private int _steps, _batch;

    /// <summary>Creates a layer whose weights are given forms (W_ih: 4H × I, W_hh: 4H × H) and whose biases are named for layer <paramref name="index"/>.</summary>
    public LstmLayer(int index, IWeightMatrix<T> inputWeights, IWeightMatrix<T> recurrentWeights, string suffix = "")
    {
        ArgumentNullException.ThrowIfNull(inputWeights);
        ArgumentNullException.ThrowIfNull(recurrentWeights);
        int hidden = recurrentWeights.Columns;
        if (recurrentWeights.Rows != 4 * hidden)
            throw new ArgumentException($"W_hh must be 4H × H; got {recurrentWeights.Rows} × {recurrentWeights.Columns}.", nameof(recurrentWeights));
        if (inputWeights.Rows != 4 * hidden)
            throw new ArgumentException($"W_ih must have 4H = {4 * hidden} rows; got {inputWeights.Rows}.", nameof(inputWeights));
        ArgumentNullException.ThrowIfNull(suffix);
        Index = index;
        Suffix = suffix;
        HiddenSize = hidden;
        InputSize = inputWeights.Columns;
        _inputWeights = inputWeights;
        _recurrentWeights = recurrentWeights;
        InputBias = new Parameter<T>($"rnn.bias_ih_l{index}{suffix}", 4 * hidden);
        RecurrentBias = new Parameter<T>($"rnn.bias_hh_l{index}{suffix}", 4 * hidden);
    }

    /// <summary>Creates a layer with dense weights named as PyTorch names them (<c>rnn.weight_ih_l{index}</c>).</summary>
    public LstmLayer(int index, int inputSize, int hiddenSize, string suffix = "")
        : this(index, new DenseMatrix<T>($"rnn.weight_ih_l{index}{suffix}", 4 * hiddenSize, inputSize),
                      new DenseMatrix<T>($"rnn.weight_hh_l{index}{suffix}", 4 * hiddenSize, hiddenSize), suffix)
    {
    }

    /// <inheritdoc/>
    public RecurrentCell Cell => RecurrentCell.Lstm;

    /// <summary>Layer index in the stack (the suffix of its parameter names).</summary>
    public int Index { get; }

    /// <summary>The suffix of the parameter names: empty, or <c>_reverse</c> for the backward direction of a bidirectional layer.</summary>
    public string Suffix { get; }

    /// <summary>Input size I.</summary>
    public int InputSize { get; }

    /// <summary>Hidden size H.</summary>
    public int HiddenSize { get; }

    /// <summary>W_ih, 4H × I.</summary>
    /// <exception cref="InvalidOperationException">The layer has a combined matrix (<see cref="CombinedWeights"/>).</exception>
    public IWeightMatrix<T> InputWeights => _inputWeights ?? throw CombinedError();

    /// <summary>W_hh, 4H × H.</summary>
    /// <exception cref="InvalidOperationException">The layer has a combined matrix (<see cref="CombinedWeights"/>).</exception>
    public IWeightMatrix<T> RecurrentWeights => _recurrentWeights ?? throw CombinedError();

    /// <summary>W = [W_ih | W_hh], 4H × (I + H), once <see cref="CombineWeights"/> has been called; else null.</summary>
    public IWeightMatrix<T>? CombinedWeights { get; private set; }

    /// <summary>
    /// The layer's weight matrices by state-dict name: W_ih and W_hh, or the combined matrix alone
    /// (<see cref="CombinedWeightsName"/>).
    /// </summary>
    public IReadOnlyList<(string Name, IWeightMatrix<T> Matrix)> WeightMatrices => CombinedWeights is { } combined
        ? [(CombinedWeightsName, combined)]
        : [(InputWeightsName, InputWeights), (RecurrentWeightsName, RecurrentWeights)];

    /// <summary>b_ih, 4H.</summary>
    public Parameter<T> InputBias { get; }

    /// <summary>b_hh, 4H.</summary>
    public Parameter<T> RecurrentBias { get; }

    /// <summary>The state-dict name of W_ih, <c>rnn.weight_ih_l{Index}</c> (a compressed form's tensors start with it).</summary>
    public string InputWeightsName => $"rnn.weight_ih_l{Index}{Suffix}";

    /// <summary>The state-dict name of W_hh, <c>rnn.weight_hh_l{Index}</c>.</summary>
    public string RecurrentWeightsName => $"rnn.weight_hh_l{Index}{Suffix}";

    /// <summary>The state-dict name of the combined matrix [W_ih | W_hh], <c>rnn.weight_l{Index}</c>.</summary>
    public string CombinedWeightsName => $"rnn.weight_l{Index}{Suffix}";

    /// <summary>Stored weights: the forms' <see cref="IWeightMatrix{T}.ParameterCount"/> plus the 2·4H biases.</summary>
    public long ParameterCount => WeightMatrices.Sum(m => m.Matrix.ParameterCount) + InputBias.Length + RecurrentBias.Length;

    /// <summary>Storage bytes: the forms' <see cref="IWeightMatrix{T}.StorageBytes"/> plus the biases at <typeparamref name="T"/> precision.</summary>
    public long StorageBytes => WeightMatrices.Sum(m => m.Matrix.StorageBytes)
        + ((long)InputBias.Length + RecurrentBias.Length) * Unsafe.SizeOf<T>();

    /// <summary>
    /// All parameters in PyTorch's order: weight_ih, weight_hh (or the combined matrix), bias_ih, bias_hh (forms may
    /// contribute several tensors).
    /// </summary>
    public IEnumerable<Parameter<T>> Parameters =>
        WeightMatrices.SelectMany(m => m.Matrix.Parameters).Append(InputBias).Append(RecurrentBias);

    /// <summary>Replaces the weight forms (same shapes), e.g. by compressed ones.</summary>
    /// <exception cref="InvalidOperationException">The layer has a combined matrix.</exception>
    public void ReplaceWeights(IWeightMatrix<T> inputWeights, IWeightMatrix<T> recurrentWeights)
    {
        ArgumentNullException.ThrowIfNull(inputWeights);
        ArgumentNullException.ThrowIfNull(recurrentWeights);
        if (inputWeights.Rows != InputWeights.Rows || inputWeights.Columns != InputWeights.Columns)
            throw new ArgumentException("The new W_ih has a different shape.", nameof(inputWeights));
        if (recurrentWeights.Rows != RecurrentWeights.Rows || recurrentWeights.Columns != RecurrentWeights.Columns)
            throw new ArgumentException("The new W_hh has a different shape.", nameof(recurrentWeights));
        _inputWeights = inputWeights;
        _recurrentWeights = recurrentWeights;
    }

    /// <summary>
    /// From now on, computes the gates with one matrix W = [W_ih | W_hh] (4H × (I + H), columns 0..I−1 act on x_t and
    /// the rest on h_{t−1}), given in any form; W_ih and W_hh are dropped. Calling it again replaces the combined form.
    /// </summary>
    public void CombineWeights(IWeightMatrix<T> combined)
    {
        ArgumentNullException.ThrowIfNull(combined);
        if (combined.Rows != 4 * HiddenSize || combined.Columns != InputSize + HiddenSize)
            throw new ArgumentException(
                $"The combined matrix must be 4H × (I + H) = {4 * HiddenSize} × {InputSize + HiddenSize}; got {combined.Rows} × {combined.Columns}.", nameof(combined));
        CombinedWeights = combined;
        _inputWeights = _recurrentWeights = null;
    }

    /// <summary>The layer's weights as one dense row-major 4H × (I + H) matrix [W_ih | W_hh], whatever their forms.</summary>
    public T[] CombinedDense()
    {
        if (CombinedWeights is { } combined) return combined.ToDense();
        int rows = 4 * HiddenSize, width = InputSize + HiddenSize;
        T[] input = InputWeights.ToDense(), recurrent = RecurrentWeights.ToDense(), joined = new T[rows * width];
        for (int r = 0; r < rows; r++)
        {
            input.AsSpan(r * InputSize, InputSize).CopyTo(joined.AsSpan(r * width));
            recurrent.AsSpan(r * HiddenSize, HiddenSize).CopyTo(joined.AsSpan(r * width + InputSize));
        }
        return joined;
    }

    private InvalidOperationException CombinedError() =>
        new($"LSTM layer {Index} has one combined matrix '{CombinedWeightsName}' in place of W_ih and W_hh.");

    /// <summary>The outputs h1..hT of the last forward, [T·B, H].</summary>
    public ReadOnlySpan<T> Output => _hidden.AsSpan(_batch * HiddenSize, _steps * _batch * HiddenSize);

    /// <summary>h_T of the last forward, [B, H].</summary>
    public ReadOnlySpan<T> FinalHidden => _hidden.AsSpan(_steps * _batch * HiddenSize, _batch * HiddenSize);

    /// <summary>c_T of the last forward, [B, H].</summary>
    public ReadOnlySpan<T> FinalCell => _cells.AsSpan(_steps * _batch * HiddenSize, _batch * HiddenSize);

    /// <summary>Runs <paramref name="steps"/> time steps over x [T·B, I] from (h0, c0), keeping the tape for <see cref="Backward"/>.</summary>
    public void Forward(ReadOnlySpan<T> x, ReadOnlySpan<T> h0, ReadOnlySpan<T> c0, int steps, int batch)
    {
        int h = HiddenSize, g4 = 4 * h, bh = batch * h;
        if (x.Length < steps * batch * InputSize) throw new ArgumentException($"x holds {x.Length} values; {steps}×{batch}×{InputSize} needed.", nameof(x));
        if (h0.Length != bh || c0.Length != bh) throw new ArgumentException($"The initial state must be [{batch}, {h}].");
        Reserve(steps, batch);
        _steps = steps;
        _batch = batch;
        int rows = steps * batch;
        Span<T> gates = _gates.AsSpan(0, rows * g4);
        Span<T> bias = _dh.AsSpan(0, g4);
        TensorPrimitives.Add(InputBias.Value, RecurrentBias.Value, bias);
        h0.CopyTo(_hidden);
        c0.CopyTo(_cells);
        if (CombinedWeights is { } combined)
        {
            ForwardCombined(combined, x, bias, steps, batch);
            return;
        }

        InputWeights.Forward(x[..(rows * InputSize)], gates, rows, accumulate: false);
        for (int r = 0; r < rows; r++)
        {
            Span<T> row = gates.Slice(r * g4, g4);
            TensorPrimitives.Add(row, bias, row);
        }
        IWeightMatrix<T> recurrent = RecurrentWeights;
        recurrent.BeginSteps();
        try
        {
            for (int t = 0; t < steps; t++)
            {
                Span<T> stepGates = gates.Slice(t * batch * g4, batch * g4);
                recurrent.Forward(_hidden.AsSpan(t * bh, bh), stepGates, batch, accumulate: true);
                CellForward(t, batch, stepGates);
            }
        }
        finally
        {
            recurrent.EndSteps();
        }
    }

    // Step by step: the rows [x_t; h_{t−1}] are gathered into _joined, which the backward pass reads again.
    private void ForwardCombined(IWeightMatrix<T> combined, ReadOnlySpan<T> x, ReadOnlySpan<T> bias, int steps, int batch)
    {
        int h = HiddenSize, input = InputSize, width = input + h, g4 = 4 * h, bh = batch * h;
        Span<T> joined = _joined.AsSpan(0, steps * batch * width);
        for (int r = 0; r < steps * batch; r++) x.Slice(r * input, input).CopyTo(joined.Slice(r * width, input));
        combined.BeginSteps();
        try
        {
            for (int t = 0; t < steps; t++)
            {
                for (int b = 0; b < batch; b++)
                    _hidden.AsSpan(t * bh + b * h, h).CopyTo(joined.Slice((t * batch + b) * width + input, h));
                Span<T> stepGates = _gates.AsSpan(t * batch * g4, batch * g4);
                combined.Forward(joined.Slice(t * batch * width, batch * width), stepGates, batch, accumulate: false);
                for (int b = 0; b < batch; b++)
                {
                    Span<T> row = stepGates.Slice(b * g4, g4);
                    TensorPrimitives.Add(row, bias, row);
                }
                CellForward(t, batch, stepGates);
            }
        }
        finally
        {
            combined.EndSteps();
        }
    }

    // The gate non-linearities and the cell update of step t, given its pre-activation gates [B, 4H].
    private void CellForward(int t, int batch, Span<T> stepGates)
    {
        int h = HiddenSize, g4 = 4 * h, bh = batch * h;
        for (int b = 0; b < batch; b++)
        {
            Span<T> row = stepGates.Slice(b * g4, g4);
            Span<T> i = row[..h], f = row.Slice(h, h), g = row.Slice(2 * h, h), o = row.Slice(3 * h, h);
            TensorPrimitives.Sigmoid(row[..(2 * h)], row[..(2 * h)]);
            TensorPrimitives.Tanh(g, g);
            TensorPrimitives.Sigmoid(o, o);
            int at = t * bh + b * h;
            ReadOnlySpan<T> cPrev = _cells.AsSpan(at, h);
            Span<T> c = _cells.AsSpan(at + bh, h);
            Span<T> tanhC = _tanhCells.AsSpan(at, h);
            TensorPrimitives.Multiply(f, cPrev, c);
            TensorPrimitives.FusedMultiplyAdd(i, g, c, c);
            TensorPrimitives.Tanh(c, tanhC);
            TensorPrimitives.Multiply(o, tanhC, _hidden.AsSpan(at + bh, h));
        }
    }

    /// <summary>
    /// Back-propagates through the last forward, whose input was <paramref name="x"/> [T·B, I].
    /// <paramref name="dOutput"/> is ∂L/∂h_t for t = 1..T, [T·B, H]; <paramref name="dFinalHidden"/> and
    /// <paramref name="dFinalCell"/> (empty means zero) flow in from beyond the window.
    /// Writes ∂L/∂x into <paramref name="dInput"/> and ∂L/∂(h0, c0) into the last two spans (each skipped when empty)
    /// and accumulates the parameter gradients.
    /// </summary>
    public void Backward(ReadOnlySpan<T> x, ReadOnlySpan<T> dOutput, Span<T> dInput,
        ReadOnlySpan<T> dFinalHidden, ReadOnlySpan<T> dFinalCell, Span<T> dInitialHidden, Span<T> dInitialCell)
    {
        int h = HiddenSize, g4 = 4 * h, batch = _batch, steps = _steps, bh = batch * h, rows = steps * batch;
        if (dOutput.Length != rows * h) throw new ArgumentException($"dOutput must be [{rows}, {h}].", nameof(dOutput));
        if (x.Length < rows * InputSize) throw new ArgumentException($"x must be [{rows}, {InputSize}].", nameof(x));
        Span<T> dh = _dh.AsSpan(0, bh), dc = _dc.AsSpan(0, bh);
        if (dFinalHidden.IsEmpty) dh.Clear(); else dFinalHidden.CopyTo(dh);
        if (dFinalCell.IsEmpty) dc.Clear(); else dFinalCell.CopyTo(dc);
        Span<T> dGates = _gateGradients.AsSpan(0, rows * g4);

        IWeightMatrix<T>? combined = CombinedWeights;
        int input = InputSize, width = input + h;
        IWeightMatrix<T> stepped = combined ?? RecurrentWeights;
        stepped.BeginSteps();
        try
        {
            for (int t = steps - 1; t >= 0; t--)
            {
                TensorPrimitives.Add(dh, dOutput.Slice(t * bh, bh), dh);
                for (int b = 0; b < batch; b++)
                {
                    int at = t * bh + b * h;
                    CellBackward(_gates.AsSpan((t * batch + b) * g4, g4), _cells.AsSpan(at, h), _tanhCells.AsSpan(at, h),
                        dh.Slice(b * h, h), dc.Slice(b * h, h), dGates.Slice((t * batch + b) * g4, g4));
                }
                if (combined is null)
                {
                    RecurrentWeights.BackwardInput(dGates.Slice(t * batch * g4, batch * g4), dh, batch, accumulate: false);
                    continue;
                }
                Span<T> dJoined = _dJoined.AsSpan(0, batch * width);
                combined.BackwardInput(dGates.Slice(t * batch * g4, batch * g4), dJoined, batch, accumulate: false);
                for (int b = 0; b < batch; b++)
                {
                    dJoined.Slice(b * width + input, h).CopyTo(dh.Slice(b * h, h));
                    if (!dInput.IsEmpty) dJoined.Slice(b * width, input).CopyTo(dInput.Slice((t * batch + b) * input, input));
                }
            }
        }
        finally
        {
            stepped.EndSteps();
        }
        if (!dInitialHidden.IsEmpty) dh.CopyTo(dInitialHidden);
        if (!dInitialCell.IsEmpty) dc.CopyTo(dInitialCell);

        if (combined is not null)
            combined.AccumulateGradients(_joined.AsSpan(0, rows * width), dGates, rows);
        else
        {
            RecurrentWeights.AccumulateGradients(_hidden.AsSpan(0, rows * h), dGates, rows);
            InputWeights.AccumulateGradients(x[..(rows * input)], dGates, rows);
        }
        Span<T> biasGradient = _dh.AsSpan(0, g4);
        biasGradient.Clear();
        ColumnSums.AccumulateInto<T>(dGates, rows, g4, biasGradient);
        TensorPrimitives.Add(InputBias.Gradient, biasGradient, InputBias.Gradient);
        TensorPrimitives.Add(RecurrentBias.Gradient, biasGradient, RecurrentBias.Gradient);
        if (combined is null && !dInput.IsEmpty) InputWeights.BackwardInput(dGates, dInput[..(rows * input)], rows, accumulate: false);
    }

    // One batch row of one step: given the activations and ∂L/∂h (dh) and ∂L/∂c (dc, from the future),
    // writes ∂L/∂(pre-activation gates) and replaces dc by ∂L/∂c_{t-1}.
    private static void CellBackward(ReadOnlySpan<T> gates, ReadOnlySpan<T> cPrev, ReadOnlySpan<T> tanhC,
        ReadOnlySpan<T> dh, Span<T> dc, Span<T> dGates)
    {
        int h = cPrev.Length;
        ReadOnlySpan<T> gi = gates[..h], gf = gates.Slice(h, h), gg = gates.Slice(2 * h, h), go = gates.Slice(3 * h, h);
        Span<T> di = dGates[..h], df = dGates.Slice(h, h), dg = dGates.Slice(2 * h, h), dO = dGates.Slice(3 * h, h);
        T one = T.One;
        for (int k = 0; k < h; k++)
        {
            T i = gi[k], f = gf[k], g = gg[k], o = go[k], tc = tanhC[k], dhk = dh[k];
            T dck = dc[k] + dhk * o * (one - tc * tc);
            dO[k] = dhk * tc * o * (one - o);
            di[k] = dck * g * i * (one - i);
            df[k] = dck * cPrev[k] * f * (one - f);
            dg[k] = dck * i * (one - g * g);
            dc[k] = dck * f;
        }
    }

    private void Reserve(int steps, int batch)
    {
        int h = HiddenSize, rows = steps * batch;
        Grow(ref _gates, rows * 4 * h);
        Grow(ref _gateGradients, rows * 4 * h);
        Grow(ref _hidden, (rows + batch) * h);
        Grow(ref _cells, (rows + batch) * h);
        Grow(ref _tanhCells, rows * h);
        Grow(ref _dh, Math.Max(batch * h, 4 * h));
        Grow(ref _dc, batch * h);
        if (CombinedWeights is not null)
        {
            Grow(ref _joined, rows * (InputSize + h));
            Grow(ref _dJoined, batch * (InputSize + h));
        }
    }

    private static void Grow(ref T[] buffer, int length)
    {
        if (buffer.Length < length) buffer = new T[length];
    }
}
