using Dopant.Numerics;

namespace Dopant.Inference;

/// <summary>
/// W = Σ_r A_r ⊗ B_r (A_r: M1 × N1, B_r: M2 × N2) without forming W: x read row-major as X (N1 × N2) gives
/// Y = Σ_r A_r·(X·B_rᵀ) (M1 × M2), which read row-major is y. All R terms go through two GEMMs: T = X·[B_1; …; B_R]ᵀ
/// (N1 × R·M2, the stored B's as they lie), then Y += [A_1 … A_R]·[T_1; …; T_R] with the A's laid side by side once
/// at preparation and T's blocks restacked per product.
/// </summary>
internal sealed class KroneckerStepMatrix : IStepMatrix
{
    private readonly float[] _leftSideBySide, _right, _inner, _stacked;
    private readonly int _m1, _n1, _m2, _n2, _rank;

    public KroneckerStepMatrix(ReadOnlySpan<float> left, ReadOnlySpan<float> right, int rank, int m1, int n1, int m2, int n2)
    {
        if (left.Length != (long)rank * m1 * n1 || right.Length != (long)rank * m2 * n2)
            throw new ArgumentException($"Kronecker factors must be [{rank}, {m1}, {n1}] and [{rank}, {m2}, {n2}].");
        (_rank, _m1, _n1, _m2, _n2) = (rank, m1, n1, m2, n2);
        _leftSideBySide = new float[m1 * rank * n1];
        for (int r = 0; r < rank; r++)
            for (int p = 0; p < m1; p++)
                left.Slice((r * m1 + p) * n1, n1).CopyTo(_leftSideBySide.AsSpan(p * rank * n1 + r * n1, n1));
        _right = right.ToArray();
        _inner = new float[n1 * rank * m2];
        _stacked = new float[rank * n1 * m2];
    }

    public int Rows => _m1 * _m2;

    public int Columns => _n1 * _n2;

    public long WeightBytes => ((long)_leftSideBySide.Length + _right.Length) * sizeof(float);

    public void MultiplyAdd(ReadOnlySpan<float> x, Span<float> y)
    {
        int wide = _rank * _m2;
        Blas.SgemmCore(Blas.ActiveKernel, null, false, true, _n1, wide, _n2, 1f, x, _n2, _right, _n2, 0f, _inner, wide);
        for (int i = 0; i < _n1; i++)
            for (int r = 0; r < _rank; r++)
                _inner.AsSpan(i * wide + r * _m2, _m2).CopyTo(_stacked.AsSpan((r * _n1 + i) * _m2, _m2));
        Blas.SgemmCore(Blas.ActiveKernel, null, false, false, _m1, _m2, _rank * _n1, 1f, _leftSideBySide, _rank * _n1, _stacked, _m2, 1f, y, _m2);
    }
}
