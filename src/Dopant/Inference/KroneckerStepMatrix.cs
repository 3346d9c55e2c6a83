using Dopant.Numerics;

namespace Dopant.Inference;

/// <summary>
/// W = Σ_r A_r ⊗ B_r (A_r: M1 × N1, B_r: M2 × N2) without forming W: x read row-major as X (N1 × N2) gives
/// Y = Σ_r A_r·(X·B_rᵀ) (M1 × M2), which read row-major is y. All R terms go through two GEMMs whose fixed operands
/// are packed once at preparation: T = X·[B_1; …; B_R]ᵀ (N1 × R·M2), then, with T's blocks restacked as
/// S = [T_1; …; T_R] (R·N1 × M2), Yᵀ = Sᵀ·[A_1 … A_R]ᵀ, added into y transposed back. The packed operands free
/// their native memory when collected.
/// </summary>
internal sealed class KroneckerStepMatrix : IStepMatrix
{
    private readonly PackedMatrix _rightTransposed, _leftTransposed;
    private readonly float[] _inner, _stacked, _outputTransposed;
    private readonly int _m1, _n1, _m2, _n2, _rank;

    public KroneckerStepMatrix(ReadOnlySpan<float> left, ReadOnlySpan<float> right, int rank, int m1, int n1, int m2, int n2)
    {
        if (left.Length != (long)rank * m1 * n1 || right.Length != (long)rank * m2 * n2)
            throw new ArgumentException($"Kronecker factors must be [{rank}, {m1}, {n1}] and [{rank}, {m2}, {n2}].");
        (_rank, _m1, _n1, _m2, _n2) = (rank, m1, n1, m2, n2);
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
        WeightBytes = ((long)left.Length + right.Length) * sizeof(float);
    }

    public int Rows => _m1 * _m2;

    public int Columns => _n1 * _n2;

    public long WeightBytes { get; }

    public void MultiplyAdd(ReadOnlySpan<float> x, Span<float> y)
    {
        int wide = _rank * _m2;
        Blas.SgemmPackedCore(null, false, _n1, 1f, x, _n2, _rightTransposed, 0f, _inner, wide);
        for (int i = 0; i < _n1; i++)
            for (int r = 0; r < _rank; r++)
                _inner.AsSpan(i * wide + r * _m2, _m2).CopyTo(_stacked.AsSpan((r * _n1 + i) * _m2, _m2));
        Blas.SgemmPackedCore(null, true, _m2, 1f, _stacked, _m2, _leftTransposed, 0f, _outputTransposed, _m1);
        for (int p = 0; p < _m1; p++)
        {
            Span<float> row = y.Slice(p * _m2, _m2);
            for (int q = 0; q < _m2; q++) row[q] += _outputTransposed[q * _m1 + p];
        }
    }
}
