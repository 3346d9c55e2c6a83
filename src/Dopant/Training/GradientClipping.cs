using System.Numerics;
using System.Numerics.Tensors;
using Dopant.Matrices;
using Dopant.Numerics;

namespace Dopant.Training;

/// <summary>Global-norm gradient clipping, as torch.nn.utils.clip_grad_norm_.</summary>
public static class GradientClipping
{
    /// <summary>The L2 norm of all gradients together: float partial sums over fixed chunks, added in double in chunk order.</summary>
    public static double GlobalNorm<T>(IReadOnlyList<Parameter<T>> parameters) where T : unmanaged, IFloatingPointIeee754<T> =>
        GlobalNorm(new ParameterChunks<T>(parameters));

    internal static double GlobalNorm<T>(ParameterChunks<T> chunks) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var partial = new double[chunks.Chunks.Length];
        WorkerPool.Shared.For(partial.Length, (start, end) =>
        {
            for (int c = start; c < end; c++)
            {
                (int p, int offset, int length) = chunks.Chunks[c];
                partial[c] = double.CreateChecked(TensorPrimitives.SumOfSquares<T>(chunks.Parameters[p].Gradient.AsSpan(offset, length)));
            }
        });
        double sum = 0;
        foreach (double s in partial) sum += s;
        return Math.Sqrt(sum);
    }

    /// <summary>The factor clip_grad_norm_ would scale gradients by: maxNorm / (norm + 1e-6) when that is below 1, else 1.</summary>
    public static double Coefficient(double norm, double maxNorm)
    {
        double coefficient = maxNorm / (norm + 1e-6);
        return coefficient < 1 ? coefficient : 1;
    }

    /// <summary>
    /// Scales all gradients by maxNorm / (norm + 1e-6) when their global norm exceeds <paramref name="maxNorm"/>;
    /// returns the norm before clipping.
    /// </summary>
    public static double ClipGlobalNorm<T>(IReadOnlyList<Parameter<T>> parameters, double maxNorm) where T : unmanaged, IFloatingPointIeee754<T>
    {
        double norm = GlobalNorm(parameters);
        double coefficient = Coefficient(norm, maxNorm);
        if (coefficient < 1)
        {
            T c = T.CreateChecked(coefficient);
            foreach (Parameter<T> p in parameters) TensorPrimitives.Multiply(p.Gradient, c, p.Gradient);
        }
        return norm;
    }
}
