using System.Numerics;
using System.Numerics.Tensors;

namespace Dopant.Numerics;

/// <summary>Column sums of a row-major matrix (bias gradients), columns split across the worker pool.</summary>
public static class ColumnSums
{
    /// <summary>sums[j] += Σ_i a[i, j] for a [rows, columns]; each column is summed in row order, whatever the thread count.</summary>
    public static void AccumulateInto<T>(ReadOnlySpan<T> a, int rows, int columns, Span<T> sums) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (a.Length < (long)rows * columns) throw new ArgumentException($"The matrix holds {a.Length} values, not [{rows}, {columns}].", nameof(a));
        if (sums.Length < columns) throw new ArgumentException($"sums holds {sums.Length} values; {columns} needed.", nameof(sums));
        // Small matrices are not worth a dispatch.
        if ((long)rows * columns < 1 << 16) new Body<T>(a, rows, columns, sums).Invoke(0, columns);
        else WorkerPool.Shared.For(columns, new Body<T>(a, rows, columns, sums));
    }

    private readonly ref struct Body<T>(ReadOnlySpan<T> a, int rows, int columns, Span<T> sums) : IRangeBody
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly ReadOnlySpan<T> _a = a;
        private readonly Span<T> _sums = sums;

        public void Invoke(int start, int end)
        {
            Span<T> target = _sums[start..end];
            for (int i = 0; i < rows; i++)
                TensorPrimitives.Add(target, _a.Slice(i * columns + start, end - start), target);
        }
    }
}
