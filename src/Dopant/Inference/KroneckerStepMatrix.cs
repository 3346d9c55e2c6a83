using Dopant.Numerics;

namespace Dopant.Inference;

/// <summary>
/// W = Σ_r A_r ⊗ B_r (A_r: M1 × N1, B_r: M2 × N2) without forming W: x read row-major as X (N1 × N2) gives
/// Y = Σ_r A_r·(X·B_rᵀ) (M1 × M2), which read row-major is y. Two small single-threaded GEMMs per term.
/// </summary>
internal sealed class KroneckerStepMatrix : IStepMatrix
{
    private readonly float[] _left, _right, _inner;
    private readonly int _m1, _n1, _m2, _n2, _rank;

    public KroneckerStepMatrix(ReadOnlySpan<float> left, ReadOnlySpan<float> right, int rank, int m1, int n1, int m2, int n2)
    {
        if (left.Length != (long)rank * m1 * n1 || right.Length != (long)rank * m2 * n2)
            throw new ArgumentException($"Kronecker factors must be [{rank}, {m1}, {n1}] and [{rank}, {m2}, {n2}].");
        _left = left.ToArray();
        _right = right.ToArray();
        (_rank, _m1, _n1, _m2, _n2) = (rank, m1, n1, m2, n2);
        _inner = new float[n1 * m2];
    }

    public int Rows => _m1 * _m2;

    public int Columns => _n1 * _n2;

    public long WeightBytes => ((long)_left.Length + _right.Length) * sizeof(float);

    public void MultiplyAdd(ReadOnlySpan<float> x, Span<float> y)
    {
        for (int r = 0; r < _rank; r++)
        {
            ReadOnlySpan<float> a = _left.AsSpan(r * _m1 * _n1, _m1 * _n1), b = _right.AsSpan(r * _m2 * _n2, _m2 * _n2);
            Blas.SgemmCore(Blas.ActiveKernel, null, false, true, _n1, _m2, _n2, 1f, x, _n2, b, _n2, 0f, _inner, _m2);
            Blas.SgemmCore(Blas.ActiveKernel, null, false, false, _m1, _m2, _n1, 1f, a, _n1, _inner, _m2, 1f, y, _m2);
        }
    }
}
