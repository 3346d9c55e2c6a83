using System.Numerics.Tensors;
using Dopant.Matrices;
using Dopant.Models;
using Dopant.Numerics;

namespace Dopant.Inference;

/// <summary>
/// One LSTM layer of the streaming runtime (PyTorch's equations, as <see cref="LstmLayer{T}"/>): per token,
/// gates = b_ih + b_hh + W_ih·x + W_hh·h (or W·[x; h] for a combined matrix, and for dense fp32 W_ih and
/// W_hh, which are joined into one; quantized rows keep a scale per matrix), then the cell update.
/// Holds its own state h, c and gate buffer.
/// </summary>
internal sealed class LstmStepLayer : IStepLayer
{
    // Below this many weight bytes (both matrices) a product is too short to be worth a second thread.
    private const long ParallelWeightBytes = 1 << 16;

    private readonly IStepMatrix? _input, _recurrent, _combined;
    private readonly float[] _bias, _gates, _joined, _recurrentGates;
    private readonly bool _parallel;

    public LstmStepLayer(LstmLayer<float> layer, WeightPrecision precision)
    {
        ArgumentNullException.ThrowIfNull(layer);
        HiddenSize = layer.HiddenSize;
        InputSize = layer.InputSize;
        if (layer.CombinedWeights is { } combined) _combined = StepMatrices.From(combined, precision);
        else if (precision == WeightPrecision.Float32 && layer is { InputWeights: DenseMatrix<float> input, RecurrentWeights: DenseMatrix<float> recurrent })
            _combined = StepMatrices.Dense(Joined(input, recurrent), 4 * HiddenSize, InputSize + HiddenSize, precision);
        else
        {
            _input = StepMatrices.From(layer.InputWeights, precision);
            _recurrent = StepMatrices.From(layer.RecurrentWeights, precision);
        }
        _bias = new float[4 * HiddenSize];
        TensorPrimitives.Add(layer.InputBias.Value, layer.RecurrentBias.Value, _bias);
        _gates = new float[4 * HiddenSize];
        _joined = _combined is null ? [] : new float[InputSize + HiddenSize];
        // Dense products split themselves over the pool; the other forms run one per thread, W_ih·x beside W_hh·h.
        _parallel = _input is { SplitsOverThreads: false } && _recurrent is { SplitsOverThreads: false }
            && _input.WeightBytes + _recurrent.WeightBytes >= ParallelWeightBytes;
        _recurrentGates = _parallel ? new float[4 * HiddenSize] : [];
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
        else if (_parallel && WorkerPool.Shared is { ThreadCount: > 1 } pool && !WorkerPool.IsInsideLoop)
        {
            Array.Clear(_recurrentGates);
            pool.For(2, new BothProducts(this, x));
            TensorPrimitives.Add(_gates, _recurrentGates, _gates);
        }
        else
        {
            _input!.MultiplyAdd(x, _gates);
            _recurrent!.MultiplyAdd(Hidden, _gates);
        }
        FusedLstmCell.Update(_gates, Cell, Hidden);
    }

    // [W_ih | W_hh] row by row: one dense product over [x; h] reads both matrices as one stream.
    private static float[] Joined(DenseMatrix<float> input, DenseMatrix<float> recurrent)
    {
        int rows = input.Rows, n = input.Columns, h = recurrent.Columns;
        var joined = new float[rows * (n + h)];
        for (int i = 0; i < rows; i++)
        {
            input.Weight.Value.AsSpan(i * n, n).CopyTo(joined.AsSpan(i * (n + h)));
            recurrent.Weight.Value.AsSpan(i * h, h).CopyTo(joined.AsSpan(i * (n + h) + n));
        }
        return joined;
    }

    // Range [0, 2) split in two: index 0 is W_ih·x into the gates, index 1 W_hh·h into a second gate buffer.
    private readonly ref struct BothProducts(LstmStepLayer layer, ReadOnlySpan<float> x) : IRangeBody
    {
        private readonly ReadOnlySpan<float> _x = x;

        public void Invoke(int start, int end)
        {
            for (int k = start; k < end; k++)
                if (k == 0) layer._input!.MultiplyAdd(_x, layer._gates);
                else layer._recurrent!.MultiplyAdd(layer.Hidden, layer._recurrentGates);
        }
    }
}
