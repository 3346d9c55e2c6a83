using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;
using Dopant.Numerics;

namespace Dopant.Matrices;

/// <summary>
/// The batched products of a <see cref="KroneckerMatrix{T}"/>, W = Σ_r A_r ⊗ B_r with A_r M1 × N1 and B_r M2 × N2:
/// per sample, Y_s = Σ_r A_r·X_s·B_rᵀ, its transpose for the input gradient, and the factors' gradients.
/// </summary>
/// <remarks>
/// Every pass is two GEMMs over the whole batch with the rank folded into a GEMM dimension, so no product is
/// accumulated R times through memory. Of the two association orders, (A_r·X_s)·B_rᵀ or A_r·(X_s·B_rᵀ), each pass
/// takes the one with fewer multiply-adds, which also has the smaller intermediate; for a factor like 250×5 on a
/// 10,000×200 matrix the two differ by 50x.
/// </remarks>
internal static class KroneckerSumProducts<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>
    /// output_s (Q1 × Q2) (+)= Σ_r L_r·input_s·R_r for every sample s, input_s being P1 × P2, with L_r = op(A_r) and
    /// R_r = op'(B_r): A_r and Bᵣᵀ for the forward pass, A_rᵀ and B_r for the input gradient.
    /// </summary>
    public static void Apply(KroneckerShape shape, int rank, ReadOnlySpan<T> left, ReadOnlySpan<T> right,
        ReadOnlySpan<T> input, Span<T> output, int count, bool accumulate, bool transposed)
    {
        if (count == 0) return;
        // Forward: input_s is N1 × N2, L_r = A_r (M1 × N1), R_r = B_rᵀ (N2 × M2). Transposed: the roles of M and N swap.
        (int p1, int p2, int q1, int q2) = transposed ? (shape.M1, shape.M2, shape.N1, shape.N2) : (shape.N1, shape.N2, shape.M1, shape.M2);
        var factors = new Factors(shape, rank, left, right, transposeLeft: transposed, transposeRight: !transposed);
        long rightFirst = (long)p1 * q2 * (p2 + q1), leftFirst = (long)q1 * p2 * (p1 + q2);
        using var scratch = new Scratch();
        if (rightFirst <= leftFirst)
        {
            // T[s, j1, (r, i2)] = input[(s, j1), j2] · R_cat[j2, (r, i2)], moved to [(r, j1), (s, i2)].
            Span<T> rCat = scratch.Rent(0, rank * p2 * q2);
            factors.PackRight(rCat, concatenate: true);
            Span<T> t = scratch.Rent(1, count * p1 * rank * q2);
            Blas.Gemm(false, false, count * p1, rank * q2, p2, T.One, input, p2, rCat, rank * q2, T.Zero, t, rank * q2);
            Span<T> tByRank = scratch.Rent(2, t.Length);
            SwapOuterAxes(t, tByRank, count, p1, rank, q2);

            // Z[i1, (s, i2)] = L_cat[i1, (r, j1)] · T[(r, j1), (s, i2)], then moved to [s, i1, i2].
            Span<T> lCat = scratch.Rent(0, rank * q1 * p1);
            factors.PackLeft(lCat, concatenate: true);
            Span<T> z = scratch.Rent(1, q1 * count * q2);
            Blas.Gemm(false, false, q1, count * q2, rank * p1, T.One, lCat, rank * p1, tByRank, count * q2, T.Zero, z, count * q2);
            SwapLeadingAxes(z, output, q1, count, q2, accumulate);
        }
        else
        {
            // U[(r, i1), (s, j2)] = L_stack[(r, i1), j1] · input[j1, (s, j2)], moved to [(s, i1), (r, j2)].
            Span<T> inputByRow = scratch.Rent(0, count * p1 * p2);
            SwapLeadingAxes(input, inputByRow, count, p1, p2, accumulate: false);
            Span<T> lStack = scratch.Rent(1, rank * q1 * p1);
            factors.PackLeft(lStack, concatenate: false);
            Span<T> u = scratch.Rent(2, rank * q1 * count * p2);
            Blas.Gemm(false, false, rank * q1, count * p2, p1, T.One, lStack, p1, inputByRow, count * p2, T.Zero, u, count * p2);
            Span<T> uBySample = scratch.Rent(0, u.Length);
            SwapOuterAxes(u, uBySample, rank, q1, count, p2);

            // output[(s, i1), i2] (+)= U[(s, i1), (r, j2)] · R_stack[(r, j2), i2].
            Span<T> rStack = scratch.Rent(1, rank * p2 * q2);
            factors.PackRight(rStack, concatenate: false);
            Blas.Gemm(false, false, count * q1, q2, rank * p2, T.One, uBySample, rank * p2, rStack, q2,
                accumulate ? T.One : T.Zero, output, q2);
        }
    }

    /// <summary>
    /// Adds ∂L/∂A_r = Σ_s G_s·(X_s·B_rᵀ)ᵀ to <paramref name="leftGradient"/> and ∂L/∂B_r = Σ_s (A_rᵀ·G_s)ᵀ·X_s to
    /// <paramref name="rightGradient"/>, for X_s the N1 × N2 inputs and G_s the M1 × M2 output gradients.
    /// </summary>
    /// <remarks>
    /// Two ways with the same cost pair up: through X_s·B_rᵀ and A_rᵀ·G_s (each N1 × M2), or through G_s·B_r and
    /// A_r·X_s (each M1 × N2); the smaller pair is taken.
    /// </remarks>
    public static void AccumulateGradients(KroneckerShape shape, int rank, ReadOnlySpan<T> left, ReadOnlySpan<T> right,
        ReadOnlySpan<T> x, ReadOnlySpan<T> dy, int count, Span<T> leftGradient, Span<T> rightGradient)
    {
        if (count == 0) return;
        (int m1, int n1, int m2, int n2) = (shape.M1, shape.N1, shape.M2, shape.N2);
        using var scratch = new Scratch();
        if ((long)n1 * m2 * (n2 + m1) <= (long)m1 * n2 * (n1 + m2))
        {
            // ∂L/∂A_cat[i1, (r, j1)] = G[i1, (s, i2)] · T[(r, j1), (s, i2)]ᵀ with T_{s,r} = X_s·B_rᵀ.
            var forward = new Factors(shape, rank, left, right, transposeLeft: false, transposeRight: true);
            Span<T> rCat = scratch.Rent(0, rank * n2 * m2);
            forward.PackRight(rCat, concatenate: true);
            Span<T> t = scratch.Rent(1, count * n1 * rank * m2);
            Blas.Gemm(false, false, count * n1, rank * m2, n2, T.One, x, n2, rCat, rank * m2, T.Zero, t, rank * m2);
            Span<T> tByRank = scratch.Rent(2, t.Length);
            SwapOuterAxes(t, tByRank, count, n1, rank, m2);
            Span<T> g = scratch.Rent(1, count * m1 * m2);
            SwapLeadingAxes(dy, g, count, m1, m2, accumulate: false);
            Span<T> leftCat = scratch.Rent(0, m1 * rank * n1);
            Blas.Gemm(false, true, m1, rank * n1, count * m2, T.One, g, count * m2, tByRank, count * m2, T.Zero, leftCat, rank * n1);
            AddConcatenated(leftCat, leftGradient, rank, m1, n1);

            // ∂L/∂B_stack[(r, i2), j2] += H[(s, j1), (r, i2)]ᵀ · X[(s, j1), j2] with H_{s,r} = A_rᵀ·G_s.
            var transposed = new Factors(shape, rank, left, right, transposeLeft: true, transposeRight: false);
            Span<T> aStack = scratch.Rent(0, rank * n1 * m1);
            transposed.PackLeft(aStack, concatenate: false);
            Span<T> h = scratch.Rent(2, rank * n1 * count * m2);
            Blas.Gemm(false, false, rank * n1, count * m2, m1, T.One, aStack, m1, g, count * m2, T.Zero, h, count * m2);
            Span<T> hBySample = scratch.Rent(1, h.Length);
            SwapOuterAxes(h, hBySample, rank, n1, count, m2);
            Blas.Gemm(true, false, rank * m2, n2, count * n1, T.One, hBySample, rank * m2, x, n2, T.One, rightGradient, n2);
        }
        else
        {
            // ∂L/∂A_stack[(r, i1), j1] += K[(r, i1), (s, j2)] · X[j1, (s, j2)]ᵀ with K_{s,r} = G_s·B_r.
            var transposed = new Factors(shape, rank, left, right, transposeLeft: true, transposeRight: false);
            Span<T> bCat = scratch.Rent(0, rank * m2 * n2);
            transposed.PackRight(bCat, concatenate: true);
            Span<T> k = scratch.Rent(1, count * m1 * rank * n2);
            Blas.Gemm(false, false, count * m1, rank * n2, m2, T.One, dy, m2, bCat, rank * n2, T.Zero, k, rank * n2);
            Span<T> kByRank = scratch.Rent(2, k.Length);
            SwapOuterAxes(k, kByRank, count, m1, rank, n2);
            Span<T> xByRow = scratch.Rent(1, count * n1 * n2);
            SwapLeadingAxes(x, xByRow, count, n1, n2, accumulate: false);
            Blas.Gemm(false, true, rank * m1, n1, count * n2, T.One, kByRank, count * n2, xByRow, count * n2, T.One, leftGradient, n1);

            // ∂L/∂B_cat[i2, (r, j2)] = G[(s, i1), i2]ᵀ · U[(s, i1), (r, j2)] with U_{s,r} = A_r·X_s.
            Span<T> u = scratch.Rent(2, rank * m1 * count * n2);
            Blas.Gemm(false, false, rank * m1, count * n2, n1, T.One, left, n1, xByRow, count * n2, T.Zero, u, count * n2);
            Span<T> uBySample = scratch.Rent(0, u.Length);
            SwapOuterAxes(u, uBySample, rank, m1, count, n2);
            Span<T> rightCat = scratch.Rent(1, m2 * rank * n2);
            Blas.Gemm(true, false, m2, rank * n2, count * m1, T.One, dy, m2, uBySample, rank * n2, T.Zero, rightCat, rank * n2);
            AddConcatenated(rightCat, rightGradient, rank, m2, n2);
        }
    }

    /// <summary>destination[b][a][c] = (or +=) source[a][b][c], for a source of <paramref name="outer"/> × <paramref name="middle"/> blocks of <paramref name="inner"/>.</summary>
    internal static void SwapLeadingAxes(ReadOnlySpan<T> source, Span<T> destination, int outer, int middle, int inner, bool accumulate) =>
        Run(outer, (long)outer * middle * inner, new LeadingSwap(source, destination, outer, middle, inner, accumulate));

    /// <summary>destination[c][b][a] = source[a][b][c], each element a block of <paramref name="inner"/>.</summary>
    private static void SwapOuterAxes(ReadOnlySpan<T> source, Span<T> destination, int first, int second, int third, int inner) =>
        Run(first, (long)first * second * third * inner, new OuterSwap(source, destination, first, second, third, inner));

    // The moves are memory-bound copies of short blocks; split over the outer index, every range writes its own blocks.
    private static void Run<TBody>(int items, long elements, TBody body) where TBody : struct, IRangeBody, allows ref struct
    {
        if (elements < 1 << 16) body.Invoke(0, items);
        else WorkerPool.Shared.For(items, body);
    }

    private readonly ref struct LeadingSwap(ReadOnlySpan<T> source, Span<T> destination, int outer, int middle, int inner, bool accumulate) : IRangeBody
    {
        private readonly ReadOnlySpan<T> _source = source;
        private readonly Span<T> _destination = destination;

        public void Invoke(int start, int end)
        {
            for (int a = start; a < end; a++)
                for (int b = 0; b < middle; b++)
                {
                    ReadOnlySpan<T> from = _source.Slice((a * middle + b) * inner, inner);
                    Span<T> to = _destination.Slice((b * outer + a) * inner, inner);
                    if (accumulate) TensorPrimitives.Add(to, from, to);
                    else from.CopyTo(to);
                }
        }
    }

    private readonly ref struct OuterSwap(ReadOnlySpan<T> source, Span<T> destination, int first, int second, int third, int inner) : IRangeBody
    {
        private readonly ReadOnlySpan<T> _source = source;
        private readonly Span<T> _destination = destination;

        public void Invoke(int start, int end)
        {
            for (int a = start; a < end; a++)
                for (int b = 0; b < second; b++)
                    for (int c = 0; c < third; c++)
                        _source.Slice(((a * second + b) * third + c) * inner, inner)
                            .CopyTo(_destination.Slice(((c * second + b) * first + a) * inner, inner));
        }
    }

    /// <summary>stacked[r][i][j] += concatenated[i][r·columns + j].</summary>
    private static void AddConcatenated(ReadOnlySpan<T> concatenated, Span<T> stacked, int rank, int rows, int columns)
    {
        for (int r = 0; r < rank; r++)
            for (int i = 0; i < rows; i++)
            {
                ReadOnlySpan<T> from = concatenated.Slice((i * rank + r) * columns, columns);
                Span<T> to = stacked.Slice((r * rows + i) * columns, columns);
                for (int j = 0; j < columns; j++) to[j] += from[j];
            }
    }

    /// <summary>The factors as the products read them: L_r = A_r or A_rᵀ, R_r = B_r or B_rᵀ, packed stacked or side by side.</summary>
    private readonly ref struct Factors(KroneckerShape shape, int rank, ReadOnlySpan<T> left, ReadOnlySpan<T> right, bool transposeLeft, bool transposeRight)
    {
        private readonly ReadOnlySpan<T> _left = left, _right = right;

        /// <summary>L_r for every r: stacked [(r, i), j], or side by side [i, (r, j)].</summary>
        public void PackLeft(Span<T> packed, bool concatenate) => Pack(_left, shape.M1, shape.N1, transposeLeft, concatenate, packed);

        /// <summary>R_r for every r: stacked [(r, i), j], or side by side [i, (r, j)].</summary>
        public void PackRight(Span<T> packed, bool concatenate) => Pack(_right, shape.M2, shape.N2, transposeRight, concatenate, packed);

        private void Pack(ReadOnlySpan<T> factors, int storedRows, int storedColumns, bool transpose, bool concatenate, Span<T> packed)
        {
            (int rows, int columns) = transpose ? (storedColumns, storedRows) : (storedRows, storedColumns);
            int size = storedRows * storedColumns;
            for (int r = 0; r < rank; r++)
            {
                ReadOnlySpan<T> factor = factors.Slice(r * size, size);
                for (int i = 0; i < rows; i++)
                {
                    Span<T> target = concatenate ? packed.Slice((i * rank + r) * columns, columns) : packed.Slice((r * rows + i) * columns, columns);
                    if (!transpose) factor.Slice(i * storedColumns, columns).CopyTo(target);
                    else
                        for (int j = 0; j < columns; j++) target[j] = factor[j * storedColumns + i];
                }
            }
        }
    }

    /// <summary>Three pooled buffers, each rented again at a larger size when a later stage needs more.</summary>
    private sealed class Scratch : IDisposable
    {
        private readonly T[]?[] _arrays = new T[]?[3];

        public Span<T> Rent(int slot, int length)
        {
            T[]? array = _arrays[slot];
            if (array is null || array.Length < length)
            {
                if (array is not null) ArrayPool<T>.Shared.Return(array);
                array = _arrays[slot] = ArrayPool<T>.Shared.Rent(Math.Max(length, 1));
            }
            return array.AsSpan(0, length);
        }

        public void Dispose()
        {
            for (int i = 0; i < _arrays.Length; i++)
                if (_arrays[i] is { } array) ArrayPool<T>.Shared.Return(array);
        }
    }
}
