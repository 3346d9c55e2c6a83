using System.Numerics.Tensors;
using Dopant.Matrices;
using Dopant.Models;

namespace Dopant.Inference;

/// <summary>
/// One GRU layer of the streaming runtime (PyTorch's equations, as <see cref="GruLayer{T}"/>): per token,
/// a = b_ih + W_ih·x and b = b_hh + W_hh·h; r, z = σ(a + b) on the first 2H rows; n = tanh(a_n + r ⊙ b_n);
/// h = n + z ⊙ (h − n). Holds its own state h and gate buffers.
/// </summary>
internal sealed class GruStepLayer : IStepLayer
{
    private readonly IStepMatrix _input, _recurrent;
    private readonly float[] _inputBias, _recurrentBias, _inputGates, _recurrentGates;

    public GruStepLayer(GruLayer<float> layer, WeightPrecision precision)
    {
        ArgumentNullException.ThrowIfNull(layer);
        HiddenSize = layer.HiddenSize;
        InputSize = layer.InputSize;
        _input = StepMatrices.From(layer.InputWeights, precision);
        _recurrent = StepMatrices.From(layer.RecurrentWeights, precision);
        _inputBias = (float[])layer.InputBias.Value.Clone();
        _recurrentBias = (float[])layer.RecurrentBias.Value.Clone();
        _inputGates = new float[3 * HiddenSize];
        _recurrentGates = new float[3 * HiddenSize];
        Hidden = new float[HiddenSize];
    }

    public int InputSize { get; }

    public int HiddenSize { get; }

    public float[] Hidden { get; }

    public long WeightBytes => _input.WeightBytes + _recurrent.WeightBytes + ((long)_inputBias.Length + _recurrentBias.Length) * sizeof(float);

    public void Reset() => Array.Clear(Hidden);

    public void Step(ReadOnlySpan<float> x)
    {
        int h = HiddenSize;
        _inputBias.CopyTo(_inputGates, 0);
        _input.MultiplyAdd(x, _inputGates);
        _recurrentBias.CopyTo(_recurrentGates, 0);
        _recurrent.MultiplyAdd(Hidden, _recurrentGates);
        Span<float> rz = _inputGates.AsSpan(0, 2 * h), r = _inputGates.AsSpan(0, h), z = _inputGates.AsSpan(h, h), n = _inputGates.AsSpan(2 * h, h);
        TensorPrimitives.Add(rz, _recurrentGates.AsSpan(0, 2 * h), rz);
        FusedLstmCell.Sigmoid(rz, rz);
        TensorPrimitives.FusedMultiplyAdd(r, _recurrentGates.AsSpan(2 * h, h), n, n);
        FusedLstmCell.Tanh(n, n);
        Span<float> hidden = Hidden;
        TensorPrimitives.Subtract(hidden, n, hidden);
        TensorPrimitives.FusedMultiplyAdd(z, hidden, n, hidden);
    }
}
