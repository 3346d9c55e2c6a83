using System.Numerics;
using Dopant.Matrices;

namespace Dopant.Models;

/// <summary>
/// One recurrent layer over a batch of whole sentences of different lengths, padded at the end: the forward direction
/// from a zero state, and for a bidirectional layer also the reverse direction, which reads each sentence backwards
/// within its own length (PyTorch's <c>nn.LSTM</c>/<c>nn.GRU</c> with <c>bidirectional=True</c> over a packed
/// sequence). Outputs at padded positions are zero.
/// </summary>
/// <remarks>
/// Shapes (T steps, B sentences, I input, H hidden, D = H or 2H): x [T·B, I] time-major, output [T·B, D] with the
/// forward direction's h in columns [0, H) and the reverse direction's in [H, 2H).
/// </remarks>
public sealed class SentenceLayer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private T[] _output = [], _reversed = [], _dForward = [], _dReverse = [], _dReversedInput = [];
    private T[] _zeroHidden = [];
    private int[] _lengths = [];
    private int _steps, _batch;

    /// <summary>Creates a layer from its forward direction and, for a bidirectional layer, its reverse direction (same cell and sizes).</summary>
    public SentenceLayer(IRecurrentLayer<T> forward, IRecurrentLayer<T>? reverse = null)
    {
        ArgumentNullException.ThrowIfNull(forward);
        if (reverse is not null && (reverse.Cell != forward.Cell || reverse.InputSize != forward.InputSize || reverse.HiddenSize != forward.HiddenSize))
            throw new ArgumentException("The reverse direction must have the forward direction's cell and sizes.", nameof(reverse));
        Forward = forward;
        Reverse = reverse;
    }

    /// <summary>The forward direction (<c>rnn.*_l{k}</c>).</summary>
    public IRecurrentLayer<T> Forward { get; }

    /// <summary>The reverse direction (<c>rnn.*_l{k}_reverse</c>), or null for a unidirectional layer.</summary>
    public IRecurrentLayer<T>? Reverse { get; }

    /// <summary>Input width I.</summary>
    public int InputSize => Forward.InputSize;

    /// <summary>Hidden size H of each direction.</summary>
    public int HiddenSize => Forward.HiddenSize;

    /// <summary>Output width D: H, or 2H when bidirectional.</summary>
    public int OutputSize => Reverse is null ? HiddenSize : 2 * HiddenSize;

    /// <summary>The directions' weight matrices by state-dict name, forward first.</summary>
    public IEnumerable<(string Name, IWeightMatrix<T> Matrix)> WeightMatrices =>
        Reverse is null ? Forward.WeightMatrices : Forward.WeightMatrices.Concat(Reverse.WeightMatrices);

    /// <summary>The parameters in PyTorch's order: the forward direction's, then the reverse direction's.</summary>
    public IEnumerable<Parameter<T>> Parameters => Reverse is null ? Forward.Parameters : Forward.Parameters.Concat(Reverse.Parameters);

    /// <summary>The output of the last forward, [T·B, D].</summary>
    public ReadOnlySpan<T> Output => _output.AsSpan(0, _steps * _batch * OutputSize);

    /// <summary>Runs every sentence from a zero state; <paramref name="lengths"/>[b] ≤ <paramref name="steps"/> is sentence b's length.</summary>
    public void Run(ReadOnlySpan<T> x, ReadOnlySpan<int> lengths, int steps, int batch)
    {
        int h = HiddenSize, d = OutputSize, input = InputSize, rows = steps * batch;
        if (lengths.Length != batch) throw new ArgumentException($"{lengths.Length} lengths for {batch} sentences.", nameof(lengths));
        foreach (int length in lengths)
            if (length < 1 || length > steps) throw new ArgumentException($"A sentence length of {length} is outside [1, {steps}].", nameof(lengths));
        if (x.Length < rows * input) throw new ArgumentException($"x holds {x.Length} values; {steps}×{batch}×{input} needed.", nameof(x));
        Reserve(steps, batch);
        _steps = steps;
        _batch = batch;
        lengths.CopyTo(_lengths);
        ReadOnlySpan<T> zeroHidden = _zeroHidden.AsSpan(0, batch * h);
        ReadOnlySpan<T> zeroCell = Forward.Cell.HasCellState() ? _zeroHidden.AsSpan(0, batch * h) : default;
        Span<T> output = _output.AsSpan(0, rows * d);
        output.Clear();
        Forward.Forward(x, zeroHidden, zeroCell, steps, batch);
        ReadOnlySpan<T> forward = Forward.Output;
        for (int t = 0; t < steps; t++)
            for (int b = 0; b < batch; b++)
                if (t < lengths[b]) forward.Slice((t * batch + b) * h, h).CopyTo(output.Slice((t * batch + b) * d, h));
        if (Reverse is null) return;

        Span<T> reversed = _reversed.AsSpan(0, rows * input);
        reversed.Clear();
        for (int b = 0; b < batch; b++)
            for (int t = 0; t < lengths[b]; t++)
                x.Slice(((lengths[b] - 1 - t) * batch + b) * input, input).CopyTo(reversed.Slice((t * batch + b) * input, input));
        Reverse.Forward(reversed, zeroHidden, zeroCell, steps, batch);
        ReadOnlySpan<T> backward = Reverse.Output;
        for (int b = 0; b < batch; b++)
            for (int t = 0; t < lengths[b]; t++)
                backward.Slice(((lengths[b] - 1 - t) * batch + b) * h, h).CopyTo(output.Slice((t * batch + b) * d + h, h));
    }

    /// <summary>
    /// Back-propagates ∂L/∂output (<paramref name="dOutput"/>, [T·B, D]; padded positions are ignored) through the
    /// last <see cref="Run"/> over <paramref name="x"/>: accumulates the parameter gradients and writes ∂L/∂x into
    /// <paramref name="dInput"/> (skipped when empty; zero at padded positions).
    /// </summary>
    public void Backward(ReadOnlySpan<T> x, ReadOnlySpan<T> dOutput, Span<T> dInput)
    {
        int h = HiddenSize, d = OutputSize, input = InputSize, steps = _steps, batch = _batch, rows = steps * batch;
        ReadOnlySpan<int> lengths = _lengths.AsSpan(0, batch);
        Span<T> dForward = _dForward.AsSpan(0, rows * h);
        dForward.Clear();
        for (int b = 0; b < batch; b++)
            for (int t = 0; t < lengths[b]; t++)
                dOutput.Slice((t * batch + b) * d, h).CopyTo(dForward.Slice((t * batch + b) * h, h));
        Forward.Backward(x, dForward, dInput, default, default, default, default);
        if (!dInput.IsEmpty)
            for (int b = 0; b < batch; b++)
                for (int t = lengths[b]; t < steps; t++) dInput.Slice((t * batch + b) * input, input).Clear();
        if (Reverse is null) return;

        Span<T> dReverse = _dReverse.AsSpan(0, rows * h);
        dReverse.Clear();
        for (int b = 0; b < batch; b++)
            for (int t = 0; t < lengths[b]; t++)
                dOutput.Slice(((lengths[b] - 1 - t) * batch + b) * d + h, h).CopyTo(dReverse.Slice((t * batch + b) * h, h));
        Span<T> dReversed = dInput.IsEmpty ? default : _dReversedInput.AsSpan(0, rows * input);
        Reverse.Backward(_reversed.AsSpan(0, rows * input), dReverse, dReversed, default, default, default, default);
        if (dInput.IsEmpty) return;
        for (int b = 0; b < batch; b++)
            for (int t = 0; t < lengths[b]; t++)
            {
                Span<T> target = dInput.Slice(((lengths[b] - 1 - t) * batch + b) * input, input);
                System.Numerics.Tensors.TensorPrimitives.Add(target, dReversed.Slice((t * batch + b) * input, input), target);
            }
    }

    private void Reserve(int steps, int batch)
    {
        int rows = steps * batch, h = HiddenSize;
        Grow(ref _output, rows * OutputSize);
        Grow(ref _dForward, rows * h);
        Grow(ref _zeroHidden, batch * h);
        if (_lengths.Length < batch) _lengths = new int[batch];
        if (Reverse is null) return;
        Grow(ref _reversed, rows * InputSize);
        Grow(ref _dReverse, rows * h);
        Grow(ref _dReversedInput, rows * InputSize);
    }

    private static void Grow(ref T[] buffer, int length)
    {
        if (buffer.Length < length) buffer = new T[length];
    }
}
