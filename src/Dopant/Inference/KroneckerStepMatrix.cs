using System.Numerics.Tensors;
using Dopant.Numerics;

namespace Dopant.Inference;

/// <summary>
/// W = Σ_r A_r ⊗ B_r (A_r: M1 × N1, B_r: M2 × N2) without forming W: x read row-major as X (N1 × N2) gives
/// Y = Σ_r A_r·(X·B_rᵀ) (M1 × M2), which read row-major is y. All R terms go through two GEMMs whose fixed operands
/// are packed once at preparation: T = X·[B_1; …; B_R]ᵀ (N1 × R·M2), then, with T's blocks restacked as
/// S = [T_1; …; T_R] (R·N1 × M2), Yᵀ = Sᵀ·[A_1 … A_R]ᵀ, added into y transposed back. The packed operands free
/// their native memory when collected. Products too small to pay two GEMM calls (the factors of a small LSTM) run the
/// same two products in <see cref="SmallProduct"/> instead, on operands laid out once with zero-padded columns.
/// </summary>
internal sealed class KroneckerStepMatrix : IStepMatrix
{
    // Multiply-adds per product up to which the direct kernel is used: it beat the two GEMM calls on every shape
    // `Dopant.Bench step-matrices` times (up to rank 25 of 52×26 ⊗ 50×25, 2.7 M, where the two tied).
    internal const long DirectMultiplyAdds = 1 << 22;

    private readonly PackedMatrix? _rightTransposed, _leftTransposed;
    private readonly float[] _inner, _stacked, _outputTransposed;
    private readonly int _m1, _n1, _m2, _n2, _rank;
    private readonly DirectOperands? _direct;

    public KroneckerStepMatrix(ReadOnlySpan<float> left, ReadOnlySpan<float> right, int rank, int m1, int n1, int m2, int n2)
        : this(left, right, rank, m1, n1, m2, n2, direct: null) { }

    // direct: the small-product path (true), the GEMM path (false), or chosen by size (null).
    internal KroneckerStepMatrix(ReadOnlySpan<float> left, ReadOnlySpan<float> right, int rank, int m1, int n1, int m2, int n2, bool? direct)
    {
        if (left.Length != (long)rank * m1 * n1 || right.Length != (long)rank * m2 * n2)
            throw new ArgumentException($"Kronecker factors must be [{rank}, {m1}, {n1}] and [{rank}, {m2}, {n2}].");
        (_rank, _m1, _n1, _m2, _n2) = (rank, m1, n1, m2, n2);
        WeightBytes = ((long)left.Length + right.Length) * sizeof(float);
        if (direct ?? MultiplyAdds(rank, m1, n1, m2, n2) <= DirectMultiplyAdds)
        {
            _direct = new DirectOperands(left, right, rank, m1, n1, m2, n2);
            _inner = _stacked = _outputTransposed = [];
            return;
        }
        var sideBySide = new float[m1 * rank * n1];
        for (int r = 0; r < rank; r++)
            for (int p = 0; p < m1; p++)
                left.Slice((r * m1 + p) * n1, n1).CopyTo(sideBySide.AsSpan(p * rank * n1 + r * n1, n1));
        // op(B) of the first product is [B_1; …; B_R]ᵀ (N2 × R·M2); of the second, [A_1 … A_R]ᵀ (R·N1 × M1).
        _rightTransposed = Blas.PackB(true, n2, rank * m2, right, n2);
        _leftTransposed = Blas.PackB(true, rank * n1, m1, sideBySide, rank * n1);
        _inner = new float[n1 * rank * m2];
        _stacked = new float[rank * n1 * m2];
        _outputTransposed = new float[m2 * m1];
    }

    public int Rows => _m1 * _m2;

    public int Columns => _n1 * _n2;

    public long WeightBytes { get; }

    /// <summary>Multiply-adds of one product on the direct path (padding included).</summary>
    internal static long MultiplyAdds(int rank, int m1, int n1, int m2, int n2) =>
        (long)n1 * n2 * rank * SmallProduct.Padded(m2)
        + (long)n1 * rank * Math.Min((long)m1 * SmallProduct.Padded(m2), (long)m2 * SmallProduct.Padded(m1));

    /// <summary>Whether products run in <see cref="SmallProduct"/> rather than as two GEMM calls.</summary>
    internal bool IsDirect => _direct is not null;

    public void MultiplyAdd(ReadOnlySpan<float> x, Span<float> y)
    {
        if (_direct is not null)
        {
            _direct.MultiplyAdd(x, y);
            return;
        }
        int wide = _rank * _m2;
        Blas.SgemmPackedCore(null, false, _n1, 1f, x, _n2, _rightTransposed!, 0f, _inner, wide);
        for (int i = 0; i < _n1; i++)
            for (int r = 0; r < _rank; r++)
                _inner.AsSpan(i * wide + r * _m2, _m2).CopyTo(_stacked.AsSpan((r * _n1 + i) * _m2, _m2));
        Blas.SgemmPackedCore(null, true, _m2, 1f, _stacked, _m2, _leftTransposed!, 0f, _outputTransposed, _m1);
        for (int p = 0; p < _m1; p++)
        {
            Span<float> row = y.Slice(p * _m2, _m2);
            for (int q = 0; q < _m2; q++) row[q] += _outputTransposed[q * _m1 + p];
        }
    }

    /// <summary>
    /// The operands of the direct path. With M2' the smallest multiple of 4 ≥ M2: T (N1 × R·M2') = X·Bcat,
    /// Bcat[j, r·M2' + q] = B_r[q, j]; T read as (N1·R) × M2' has row i·R + r = X·B_rᵀ's row i, so Y = Acat·T with
    /// Acat[p, i·R + r] = A_r[p, i] needs no restacking, and when M2' = M2 it adds straight into y. When padding M2
    /// would waste most of the lanes, Yᵀ = Tᵀ·Acatᵀ instead, vectors running along M1, added into y through strided reads.
    /// </summary>
    private sealed class DirectOperands
    {
        private readonly float[] _right, _left, _inner, _output;
        private readonly int _m1, _n1, _m2, _n2, _rank, _m1Padded, _m2Padded;
        private readonly bool _transposedOutput;

        public DirectOperands(ReadOnlySpan<float> left, ReadOnlySpan<float> right, int rank, int m1, int n1, int m2, int n2)
        {
            (_rank, _m1, _n1, _m2, _n2) = (rank, m1, n1, m2, n2);
            (_m1Padded, _m2Padded) = (SmallProduct.Padded(m1), SmallProduct.Padded(m2));
            int wide = rank * _m2Padded, depth = n1 * rank;
            _right = new float[n2 * wide];
            for (int r = 0; r < rank; r++)
                for (int q = 0; q < m2; q++)
                    for (int j = 0; j < n2; j++) _right[j * wide + r * _m2Padded + q] = right[(r * m2 + q) * n2 + j];
            _inner = new float[n1 * wide];
            // The strided reads of the transposed output cost more than they save unless padding M2 would at least
            // double the multiply-adds (measured with `Dopant.Bench step-matrices`).
            _transposedOutput = 2L * m2 * _m1Padded < (long)m1 * _m2Padded;
            _left = new float[_transposedOutput ? depth * _m1Padded : m1 * depth];
            for (int r = 0; r < rank; r++)
                for (int p = 0; p < m1; p++)
                    for (int i = 0; i < n1; i++)
                    {
                        float a = left[(r * m1 + p) * n1 + i];
                        if (_transposedOutput) _left[(i * rank + r) * _m1Padded + p] = a;
                        else _left[p * depth + i * rank + r] = a;
                    }
            _output = _transposedOutput ? new float[m2 * _m1Padded] : _m2Padded == m2 ? [] : new float[m1 * _m2Padded];
        }

        public void MultiplyAdd(ReadOnlySpan<float> x, Span<float> y)
        {
            int depth = _n1 * _rank, wide = _rank * _m2Padded;
            SmallProduct.Multiply(x, _n2, 1, _right, wide, _inner, wide, _n1, _n2, wide, accumulate: false);
            if (_transposedOutput)
            {
                SmallProduct.Multiply(_inner, 1, _m2Padded, _left, _m1Padded, _output, _m1Padded, _m2, depth, _m1Padded, accumulate: false);
                for (int p = 0; p < _m1; p++)
                {
                    Span<float> row = y.Slice(p * _m2, _m2);
                    for (int q = 0; q < _m2; q++) row[q] += _output[q * _m1Padded + p];
                }
            }
            else if (_output.Length == 0)
                SmallProduct.Multiply(_left, depth, 1, _inner, _m2Padded, y, _m2, _m1, depth, _m2, accumulate: true);
            else
            {
                SmallProduct.Multiply(_left, depth, 1, _inner, _m2Padded, _output, _m2Padded, _m1, depth, _m2Padded, accumulate: false);
                for (int p = 0; p < _m1; p++)
                {
                    Span<float> row = y.Slice(p * _m2, _m2);
                    TensorPrimitives.Add(row, _output.AsSpan(p * _m2Padded, _m2), row);
                }
            }
        }
    }
}
