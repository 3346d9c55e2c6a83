using System.Numerics.Tensors;
using Dopant.Models;

namespace Dopant.Inference;

/// <summary>
/// One LSTM layer of the streaming runtime (PyTorch's equations, as <see cref="LstmLayer{T}"/>): per token,
/// gates = b_ih + b_hh + W_ih·x + W_hh·h (or W·[x; h] for a combined matrix), then the cell update.
/// Holds its own state h, c and gate buffer.
/// </summary>
internal sealed class LstmStepLayer
{
    private readonly IStepMatrix? _input, _recurrent, _combined;
    private readonly float[] _bias, _gates, _joined;

    public LstmStepLayer(LstmLayer<float> layer)
    {
        ArgumentNullException.ThrowIfNull(layer);
        HiddenSize = layer.HiddenSize;
        InputSize = layer.InputSize;
        if (layer.CombinedWeights is { } combined) _combined = StepMatrices.From(combined);
        else
        {
            _input = StepMatrices.From(layer.InputWeights);
            _recurrent = StepMatrices.From(layer.RecurrentWeights);
        }
        _bias = new float[4 * HiddenSize];
        TensorPrimitives.Add(layer.InputBias.Value, layer.RecurrentBias.Value, _bias);
        _gates = new float[4 * HiddenSize];
        _joined = _combined is null ? [] : new float[InputSize + HiddenSize];
        Hidden = new float[HiddenSize];
        Cell = new float[HiddenSize];
    }

    public int HiddenSize { get; }

    public int InputSize { get; }

    /// <summary>h after the last step.</summary>
    public float[] Hidden { get; }

    /// <summary>c after the last step.</summary>
    public float[] Cell { get; }

    /// <summary>Bytes of weights one step reads (the matrices; the biases are counted once as a vector).</summary>
    public long WeightBytes => (_combined?.WeightBytes ?? _input!.WeightBytes + _recurrent!.WeightBytes) + (long)_bias.Length * sizeof(float);

    public void Reset()
    {
        Array.Clear(Hidden);
        Array.Clear(Cell);
    }

    /// <summary>Advances the state by one input x (<see cref="InputSize"/>); the new h is <see cref="Hidden"/>.</summary>
    public void Step(ReadOnlySpan<float> x)
    {
        _bias.CopyTo(_gates, 0);
        if (_combined is not null)
        {
            x.CopyTo(_joined);
            Hidden.CopyTo(_joined.AsSpan(InputSize));
            _combined.MultiplyAdd(_joined, _gates);
        }
        else
        {
            _input!.MultiplyAdd(x, _gates);
            _recurrent!.MultiplyAdd(Hidden, _gates);
        }
        LstmCellUpdate(_gates, Cell, Hidden);
    }

    // i, f, o = σ(·), g = tanh(·); c = f ⊙ c + i ⊙ g; h = o ⊙ tanh(c). The gate vector is consumed in place.
    private static void LstmCellUpdate(Span<float> gates, Span<float> c, Span<float> h)
    {
        int n = c.Length;
        Span<float> i = gates[..n], f = gates.Slice(n, n), g = gates.Slice(2 * n, n), o = gates.Slice(3 * n, n);
        TensorPrimitives.Sigmoid(gates[..(2 * n)], gates[..(2 * n)]);
        TensorPrimitives.Tanh(g, g);
        TensorPrimitives.Sigmoid(o, o);
        TensorPrimitives.Multiply(f, c, c);
        TensorPrimitives.FusedMultiplyAdd(i, g, c, c);
        TensorPrimitives.Tanh(c, h);
        TensorPrimitives.Multiply(o, h, h);
    }
}
