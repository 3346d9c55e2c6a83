using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using Dopant.Matrices;
using Dopant.Numerics;

namespace Dopant.Models;

/// <summary>
/// One GRU layer with PyTorch's semantics (torch.nn.GRU): gates stacked r, z, n;
/// r = σ(W_ir x + b_ir + W_hr h + b_hr), z = σ(W_iz x + b_iz + W_hz h + b_hz),
/// n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)), h' = (1 − z) ⊙ n + z ⊙ h.
/// The two weight matrices are reached through <see cref="IWeightMatrix{T}"/> so that compressed forms can replace them.
/// </summary>
/// <remarks>
/// Shapes (T steps, B batch, I input, H hidden): x [T·B, I] time-major, h0 [B, H], output [T·B, H]. W_ih acts on all
/// steps at once and W_hh step by step; W_hn·h + b_hn is kept apart from the input's part because r multiplies it.
/// </remarks>
public sealed class GruLayer<T> : IRecurrentLayer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private T[] _gates = [];          // [T·B, 3H]: W_ih·x + b_ih, then the activations r, z, n
    private T[] _recurrentGates = []; // [T·B, 3H]: W_hh·h_{t−1} + b_hh (the n part is read by backward)
    private T[] _hidden = [];         // [(T+1)·B, H]: h0, h1, ..., hT
    private T[] _inputGradients = [];     // [T·B, 3H]: ∂L/∂(W_ih·x + b_ih)
    private T[] _recurrentGradients = []; // [T·B, 3H]: ∂L/∂(W_hh·h + b_hh)
    private T[] _dh = [], _biasGradient = [];
    private IWeightMatrix<T> _inputWeights, _recurrentWeights;
    private int _steps, _batch;

    /// <summary>Creates a layer whose weights are given forms (W_ih: 3H × I, W_hh: 3H × H) and whose biases are named for layer <paramref name="index"/>.</summary>
    public GruLayer(int index, IWeightMatrix<T> inputWeights, IWeightMatrix<T> recurrentWeights, string suffix = "")
    {
        ArgumentNullException.ThrowIfNull(inputWeights);
        ArgumentNullException.ThrowIfNull(recurrentWeights);
        int hidden = recurrentWeights.Columns;
        if (recurrentWeights.Rows != 3 * hidden)
            throw new ArgumentException($"W_hh must be 3H × H; got {recurrentWeights.Rows} × {recurrentWeights.Columns}.", nameof(recurrentWeights));
        if (inputWeights.Rows != 3 * hidden)
            throw new ArgumentException($"W_ih must have 3H = {3 * hidden} rows; got {inputWeights.Rows}.", nameof(inputWeights));
        ArgumentNullException.ThrowIfNull(suffix);
        Index = index;
        Suffix = suffix;
        HiddenSize = hidden;
        InputSize = inputWeights.Columns;
        _inputWeights = inputWeights;
        _recurrentWeights = recurrentWeights;
        InputBias = new Parameter<T>($"rnn.bias_ih_l{index}{suffix}", 3 * hidden);
        RecurrentBias = new Parameter<T>($"rnn.bias_hh_l{index}{suffix}", 3 * hidden);
    }

    /// <summary>Creates a layer with dense weights named as PyTorch names them (<c>rnn.weight_ih_l{index}</c>).</summary>
    public GruLayer(int index, int inputSize, int hiddenSize, string suffix = "")
        : this(index, new DenseMatrix<T>($"rnn.weight_ih_l{index}{suffix}", 3 * hiddenSize, inputSize),
                      new DenseMatrix<T>($"rnn.weight_hh_l{index}{suffix}", 3 * hiddenSize, hiddenSize), suffix)
    {
    }

    /// <inheritdoc/>
    public RecurrentCell Cell => RecurrentCell.Gru;

    /// <inheritdoc/>
    public int Index { get; }

    /// <summary>The suffix of the parameter names: empty, or <c>_reverse</c> for the backward direction of a bidirectional layer.</summary>
    public string Suffix { get; }

    /// <inheritdoc/>
    public int InputSize { get; }

    /// <inheritdoc/>
    public int HiddenSize { get; }

    /// <inheritdoc/>
    public IWeightMatrix<T> InputWeights => _inputWeights;

    /// <inheritdoc/>
    public IWeightMatrix<T> RecurrentWeights => _recurrentWeights;

    /// <summary>Always null: a GRU's W_hn·h must stay apart from W_in·x, so its matrices cannot be combined.</summary>
    public IWeightMatrix<T>? CombinedWeights => null;

    /// <inheritdoc/>
    public IReadOnlyList<(string Name, IWeightMatrix<T> Matrix)> WeightMatrices =>
        [(InputWeightsName, _inputWeights), (RecurrentWeightsName, _recurrentWeights)];

    /// <inheritdoc/>
    public Parameter<T> InputBias { get; }

    /// <inheritdoc/>
    public Parameter<T> RecurrentBias { get; }

    /// <inheritdoc/>
    public string InputWeightsName => $"rnn.weight_ih_l{Index}{Suffix}";

    /// <inheritdoc/>
    public string RecurrentWeightsName => $"rnn.weight_hh_l{Index}{Suffix}";

    /// <inheritdoc/>
    public string CombinedWeightsName => $"rnn.weight_l{Index}{Suffix}";

    /// <inheritdoc/>
    public long ParameterCount => _inputWeights.ParameterCount + _recurrentWeights.ParameterCount + InputBias.Length + RecurrentBias.Length;

    /// <inheritdoc/>
    public long StorageBytes => _inputWeights.StorageBytes + _recurrentWeights.StorageBytes
        + ((long)InputBias.Length + RecurrentBias.Length) * Unsafe.SizeOf<T>();

    /// <inheritdoc/>
    public IEnumerable<Parameter<T>> Parameters =>
        _inputWeights.Parameters.Concat(_recurrentWeights.Parameters).Append(InputBias).Append(RecurrentBias);

    /// <inheritdoc/>
    public void ReplaceWeights(IWeightMatrix<T> inputWeights, IWeightMatrix<T> recurrentWeights)
    {
        ArgumentNullException.ThrowIfNull(inputWeights);
        ArgumentNullException.ThrowIfNull(recurrentWeights);
        if (inputWeights.Rows != _inputWeights.Rows || inputWeights.Columns != _inputWeights.Columns)
            throw new ArgumentException("The new W_ih has a different shape.", nameof(inputWeights));
        if (recurrentWeights.Rows != _recurrentWeights.Rows || recurrentWeights.Columns != _recurrentWeights.Columns)
            throw new ArgumentException("The new W_hh has a different shape.", nameof(recurrentWeights));
        _inputWeights = inputWeights;
        _recurrentWeights = recurrentWeights;
    }

    /// <inheritdoc/>
    public ReadOnlySpan<T> Output => _hidden.AsSpan(_batch * HiddenSize, _steps * _batch * HiddenSize);

    /// <inheritdoc/>
    public ReadOnlySpan<T> FinalHidden => _hidden.AsSpan(_steps * _batch * HiddenSize, _batch * HiddenSize);

    /// <summary>Empty: a GRU has no cell state.</summary>
    public ReadOnlySpan<T> FinalCell => default;

    /// <summary>Runs <paramref name="steps"/> time steps over x [T·B, I] from h0 (<paramref name="c0"/> is ignored), keeping the tape.</summary>
    public void Forward(ReadOnlySpan<T> x, ReadOnlySpan<T> h0, ReadOnlySpan<T> c0, int steps, int batch)
    {
        int h = HiddenSize, g3 = 3 * h, bh = batch * h, rows = steps * batch;
        if (steps < 1 || batch < 1) throw new ArgumentOutOfRangeException(nameof(steps), "A window needs at least one step and one sequence.");
        if (x.Length < rows * InputSize) throw new ArgumentException($"x holds {x.Length} values; {steps}×{batch}×{InputSize} needed.", nameof(x));
        if (h0.Length != bh) throw new ArgumentException($"The initial state must be [{batch}, {h}].", nameof(h0));
        Reserve(steps, batch);
        _steps = steps;
        _batch = batch;
        Span<T> gates = _gates.AsSpan(0, rows * g3);
        _inputWeights.Forward(x[..(rows * InputSize)], gates, rows, accumulate: false);
        for (int r = 0; r < rows; r++)
        {
            Span<T> row = gates.Slice(r * g3, g3);
            TensorPrimitives.Add(row, InputBias.Value, row);
        }
        h0.CopyTo(_hidden);
        _recurrentWeights.BeginSteps();
        try
        {
            for (int t = 0; t < steps; t++)
            {
                Span<T> recurrent = _recurrentGates.AsSpan(t * batch * g3, batch * g3);
                for (int b = 0; b < batch; b++) RecurrentBias.Value.CopyTo(recurrent.Slice(b * g3, g3));
                _recurrentWeights.Forward(_hidden.AsSpan(t * bh, bh), recurrent, batch, accumulate: true);
                for (int b = 0; b < batch; b++)
                {
                    int at = t * bh + b * h, row = (t * batch + b) * g3;
                    CellForward(_gates.AsSpan(row, g3), _recurrentGates.AsSpan(row, g3), _hidden.AsSpan(at, h), _hidden.AsSpan(at + bh, h));
                }
            }
        }
        finally
        {
            _recurrentWeights.EndSteps();
        }
    }

    // gates: the input part in, r, z, n out; recurrent: W_hh·h + b_hh of the same row.
    private static void CellForward(Span<T> gates, ReadOnlySpan<T> recurrent, ReadOnlySpan<T> hPrev, Span<T> hNext)
    {
        int h = hPrev.Length;
        Span<T> rz = gates[..(2 * h)], r = gates[..h], z = gates.Slice(h, h), n = gates.Slice(2 * h, h);
        TensorPrimitives.Add(rz, recurrent[..(2 * h)], rz);
        TensorPrimitives.Sigmoid(rz, rz);
        TensorPrimitives.FusedMultiplyAdd(r, recurrent.Slice(2 * h, h), n, n);
        TensorPrimitives.Tanh(n, n);
        // h' = n + z ⊙ (h − n)
        TensorPrimitives.Subtract(hPrev, n, hNext);
        TensorPrimitives.FusedMultiplyAdd(z, hNext, n, hNext);
    }

    /// <summary>
    /// Back-propagates through the last forward (see <see cref="IRecurrentLayer{T}.Backward"/>); the cell-state spans
    /// are ignored (a GRU has none).
    /// </summary>
    public void Backward(ReadOnlySpan<T> x, ReadOnlySpan<T> dOutput, Span<T> dInput,
        ReadOnlySpan<T> dFinalHidden, ReadOnlySpan<T> dFinalCell, Span<T> dInitialHidden, Span<T> dInitialCell)
    {
        int h = HiddenSize, g3 = 3 * h, batch = _batch, steps = _steps, bh = batch * h, rows = steps * batch;
        if (dOutput.Length != rows * h) throw new ArgumentException($"dOutput must be [{rows}, {h}].", nameof(dOutput));
        if (x.Length < rows * InputSize) throw new ArgumentException($"x must be [{rows}, {InputSize}].", nameof(x));
        Span<T> dh = _dh.AsSpan(0, bh);
        if (dFinalHidden.IsEmpty) dh.Clear(); else dFinalHidden.CopyTo(dh);
        Span<T> dInputGates = _inputGradients.AsSpan(0, rows * g3), dRecurrentGates = _recurrentGradients.AsSpan(0, rows * g3);
        _recurrentWeights.BeginSteps();
        try
        {
            for (int t = steps - 1; t >= 0; t--)
            {
                TensorPrimitives.Add(dh, dOutput.Slice(t * bh, bh), dh);
                for (int b = 0; b < batch; b++)
                {
                    int row = (t * batch + b) * g3;
                    CellBackward(_gates.AsSpan(row, g3), _recurrentGates.AsSpan(row + 2 * h, h), _hidden.AsSpan(t * bh + b * h, h),
                        dh.Slice(b * h, h), dInputGates.Slice(row, g3), dRecurrentGates.Slice(row, g3));
                }
                _recurrentWeights.BackwardInput(dRecurrentGates.Slice(t * batch * g3, batch * g3), dh, batch, accumulate: true);
            }
        }
        finally
        {
            _recurrentWeights.EndSteps();
        }
        if (!dInitialHidden.IsEmpty) dh.CopyTo(dInitialHidden);

        _recurrentWeights.AccumulateGradients(_hidden.AsSpan(0, rows * h), dRecurrentGates, rows);
        _inputWeights.AccumulateGradients(x[..(rows * InputSize)], dInputGates, rows);
        Span<T> biasGradient = _biasGradient.AsSpan(0, g3);
        biasGradient.Clear();
        ColumnSums.AccumulateInto<T>(dInputGates, rows, g3, biasGradient);
        TensorPrimitives.Add(InputBias.Gradient, biasGradient, InputBias.Gradient);
        biasGradient.Clear();
        ColumnSums.AccumulateInto<T>(dRecurrentGates, rows, g3, biasGradient);
        TensorPrimitives.Add(RecurrentBias.Gradient, biasGradient, RecurrentBias.Gradient);
        if (!dInput.IsEmpty) _inputWeights.BackwardInput(dInputGates, dInput[..(rows * InputSize)], rows, accumulate: false);
    }

    // One batch row of one step: from the activations r, z, n, the recurrent n part W_hn·h + b_hn, h_{t−1} and
    // ∂L/∂h_t (dh), writes ∂L/∂ of both pre-activation parts and replaces dh by the direct part of ∂L/∂h_{t−1} (z ⊙ dh;
    // the caller adds W_hhᵀ·dRecurrent).
    private static void CellBackward(ReadOnlySpan<T> gates, ReadOnlySpan<T> recurrentN, ReadOnlySpan<T> hPrev,
        Span<T> dh, Span<T> dInput, Span<T> dRecurrent)
    {
        int h = hPrev.Length;
        ReadOnlySpan<T> gr = gates[..h], gz = gates.Slice(h, h), gn = gates.Slice(2 * h, h);
        T one = T.One;
        for (int k = 0; k < h; k++)
        {
            T r = gr[k], z = gz[k], n = gn[k], dhk = dh[k];
            T dz = dhk * (hPrev[k] - n) * z * (one - z);
            T dn = dhk * (one - z) * (one - n * n);
            T dr = dn * recurrentN[k] * r * (one - r);
            dInput[k] = dr;
            dInput[h + k] = dz;
            dInput[2 * h + k] = dn;
            dRecurrent[k] = dr;
            dRecurrent[h + k] = dz;
            dRecurrent[2 * h + k] = dn * r;
            dh[k] = dhk * z;
        }
    }

    private void Reserve(int steps, int batch)
    {
        int h = HiddenSize, rows = steps * batch;
        Grow(ref _gates, rows * 3 * h);
        Grow(ref _recurrentGates, rows * 3 * h);
        Grow(ref _inputGradients, rows * 3 * h);
        Grow(ref _recurrentGradients, rows * 3 * h);
        Grow(ref _hidden, (rows + batch) * h);
        Grow(ref _dh, batch * h);
        Grow(ref _biasGradient, 3 * h);
    }

    private static void Grow(ref T[] buffer, int length)
    {
        if (buffer.Length < length) buffer = new T[length];
    }
}
