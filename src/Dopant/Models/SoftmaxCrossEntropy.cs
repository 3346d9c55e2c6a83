using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;
using Dopant.Numerics;

namespace Dopant.Models;

/// <summary>Softmax followed by the negative log-likelihood of target classes, row by row (rows in parallel).</summary>
public static class SoftmaxCrossEntropy
{
    /// <summary>
    /// Replaces each row of <paramref name="logits"/> [rows, classes] by its softmax probabilities and returns the
    /// summed loss Σ_r −log p_r[target_r], accumulated in double in row order (the same for any thread count).
    /// Computed stably as log Σ exp(z − max) + max − z_target.
    /// </summary>
    public static double Forward<T>(Span<T> logits, ReadOnlySpan<int> targets, int classes) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int rows = targets.Length;
        if (logits.Length < rows * classes) throw new ArgumentException($"logits must be [{rows}, {classes}].", nameof(logits));
        foreach (int target in targets)
            if ((uint)target >= (uint)classes) throw new ArgumentOutOfRangeException(nameof(targets), $"Target {target} is outside {classes} classes.");
        double[] rowLosses = ArrayPool<double>.Shared.Rent(rows);
        try
        {
            WorkerPool.Shared.For(rows, new ForwardRows<T>(logits, targets, classes, rowLosses));
            double total = 0;
            for (int r = 0; r < rows; r++) total += rowLosses[r];
            return total;
        }
        finally
        {
            ArrayPool<double>.Shared.Return(rowLosses);
        }
    }

    /// <summary>Turns the probabilities left by <see cref="Forward"/> into ∂L/∂logits = scale · (p − onehot(target)), in place.</summary>
    public static void Backward<T>(Span<T> probabilities, ReadOnlySpan<int> targets, int classes, T scale) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (probabilities.Length < targets.Length * classes) throw new ArgumentException($"probabilities must be [{targets.Length}, {classes}].", nameof(probabilities));
        WorkerPool.Shared.For(targets.Length, new BackwardRows<T>(probabilities, targets, classes, scale));
    }

    /// <summary>
    /// Turns the probabilities p left by <see cref="Forward"/> into the gradient of the loss against targets mixed with
    /// a teacher's probabilities q (knowledge distillation), Σ_r (1 − w)·(−log p_r[target_r]) + w·(−Σ_c q_rc log p_rc):
    /// ∂L/∂logits = scale · (p − (1 − w)·onehot(target) − w·q), in place.
    /// </summary>
    public static void Backward<T>(Span<T> probabilities, ReadOnlySpan<int> targets, int classes, T scale, ReadOnlySpan<T> softTargets, T softWeight)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (probabilities.Length < targets.Length * classes) throw new ArgumentException($"probabilities must be [{targets.Length}, {classes}].", nameof(probabilities));
        if (softTargets.Length < targets.Length * classes) throw new ArgumentException($"softTargets must be [{targets.Length}, {classes}].", nameof(softTargets));
        if (!(softWeight >= T.Zero && softWeight <= T.One)) throw new ArgumentOutOfRangeException(nameof(softWeight), "The teacher's weight must be in [0, 1].");
        WorkerPool.Shared.For(targets.Length, new DistilledBackwardRows<T>(probabilities, targets, classes, scale, softTargets, softWeight));
    }

    private readonly ref struct ForwardRows<T>(Span<T> logits, ReadOnlySpan<int> targets, int classes, double[] rowLosses) : IRangeBody
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly Span<T> _logits = logits;
        private readonly ReadOnlySpan<int> _targets = targets;

        public void Invoke(int start, int end)
        {
            for (int r = start; r < end; r++)
            {
                Span<T> row = _logits.Slice(r * classes, classes);
                T max = TensorPrimitives.Max<T>(row);
                T zTarget = row[_targets[r]];
                TensorPrimitives.Subtract(row, max, row);
                TensorPrimitives.Exp(row, row);
                T sum = TensorPrimitives.Sum<T>(row);
                TensorPrimitives.Multiply(row, T.One / sum, row);
                rowLosses[r] = Math.Log(double.CreateChecked(sum)) + double.CreateChecked(max) - double.CreateChecked(zTarget);
            }
        }
    }

    private readonly ref struct BackwardRows<T>(Span<T> probabilities, ReadOnlySpan<int> targets, int classes, T scale) : IRangeBody
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly Span<T> _probabilities = probabilities;
        private readonly ReadOnlySpan<int> _targets = targets;

        public void Invoke(int start, int end)
        {
            for (int r = start; r < end; r++)
            {
                Span<T> row = _probabilities.Slice(r * classes, classes);
                row[_targets[r]] -= T.One;
                TensorPrimitives.Multiply(row, scale, row);
            }
        }
    }

    private readonly ref struct DistilledBackwardRows<T>(Span<T> probabilities, ReadOnlySpan<int> targets, int classes, T scale,
        ReadOnlySpan<T> softTargets, T softWeight) : IRangeBody
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly Span<T> _probabilities = probabilities;
        private readonly ReadOnlySpan<int> _targets = targets;
        private readonly ReadOnlySpan<T> _softTargets = softTargets;

        public void Invoke(int start, int end)
        {
            for (int r = start; r < end; r++)
            {
                Span<T> row = _probabilities.Slice(r * classes, classes);
                TensorPrimitives.MultiplyAdd(_softTargets.Slice(r * classes, classes), -softWeight, row, row);
                row[_targets[r]] -= T.One - softWeight;
                TensorPrimitives.Multiply(row, scale, row);
            }
        }
    }
}
