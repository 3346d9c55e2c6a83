using Dopant.Search;

namespace Dopant.Tests.Search;

/// <summary>
/// The Gaussian-process posterior from the textbook formulas, written without the library: μ = k*ᵀ(K + σ²I)⁻¹y and
/// var = k** − k*ᵀ(K + σ²I)⁻¹k* (Rasmussen and Williams 2006, eqs. 2.25–2.26) with the inverse by Gauss–Jordan
/// elimination, and the inputs scaled and outputs standardized as <see cref="GaussianProcess"/> documents.
/// </summary>
internal sealed class GaussJordanReference
{
    private readonly double[] _unit;
    private readonly double[,] _inverse;
    private readonly double[] _working;
    private readonly double _lower, _width, _lengthScale, _signalVariance;

    public GaussJordanReference(double lower, double upper, double[] x, double[] y, GaussianProcessHyperparameters h, bool standardize)
    {
        _lower = lower;
        _width = upper - lower;
        _lengthScale = h.LengthScale;
        _signalVariance = h.SignalVariance;
        int n = x.Length;
        _unit = [.. x.Select(v => (v - lower) / _width)];
        Mean = standardize ? y.Average() : 0;
        double spread = Math.Sqrt(y.Select(v => (v - Mean) * (v - Mean)).Sum() / n);
        Scale = !standardize ? 1 : spread > 0 ? spread : Mean != 0 ? Math.Abs(Mean) : 1;
        _working = [.. y.Select(v => (v - Mean) / Scale)];
        var k = new double[n, n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                k[i, j] = Kernel(_unit[i] - _unit[j]) + (i == j ? h.NoiseVariance : 0);
        (_inverse, double logDeterminant) = Invert(k);
        double fit = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) fit += _working[i] * _inverse[i, j] * _working[j];
        LogMarginalLikelihood = -0.5 * fit - 0.5 * logDeterminant - 0.5 * n * Math.Log(2 * Math.PI);
    }

    public double Mean { get; }

    public double Scale { get; }

    public double LogMarginalLikelihood { get; }

    public (double Mean, double Variance) Predict(double x)
    {
        double u = (x - _lower) / _width;
        int n = _unit.Length;
        double[] kStar = [.. _unit.Select(ui => Kernel(u - ui))];
        double mean = 0, reduction = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                mean += kStar[i] * _inverse[i, j] * _working[j];
                reduction += kStar[i] * _inverse[i, j] * kStar[j];
            }
        return (Mean + Scale * mean, Scale * Scale * (_signalVariance - reduction));
    }

    private double Kernel(double r)
    {
        double z = Math.Sqrt(5) * Math.Abs(r) / _lengthScale;
        return _signalVariance * (1 + z + z * z / 3) * Math.Exp(-z);
    }

    /// <summary>A⁻¹ and log det A by Gauss–Jordan elimination with partial pivoting (A positive definite).</summary>
    private static (double[,] Inverse, double LogDeterminant) Invert(double[,] a)
    {
        int n = a.GetLength(0);
        var m = (double[,])a.Clone();
        var inverse = new double[n, n];
        for (int i = 0; i < n; i++) inverse[i, i] = 1;
        double logDeterminant = 0;
        for (int column = 0; column < n; column++)
        {
            int pivot = column;
            for (int r = column + 1; r < n; r++)
                if (Math.Abs(m[r, column]) > Math.Abs(m[pivot, column])) pivot = r;
            if (pivot != column)
                for (int c = 0; c < n; c++)
                {
                    (m[column, c], m[pivot, c]) = (m[pivot, c], m[column, c]);
                    (inverse[column, c], inverse[pivot, c]) = (inverse[pivot, c], inverse[column, c]);
                }
            // A positive definite matrix has a positive determinant, so the row swaps' signs cancel out.
            double p = m[column, column];
            logDeterminant += Math.Log(Math.Abs(p));
            for (int c = 0; c < n; c++)
            {
                m[column, c] /= p;
                inverse[column, c] /= p;
            }
            for (int r = 0; r < n; r++)
            {
                if (r == column) continue;
                double factor = m[r, column];
                for (int c = 0; c < n; c++)
                {
                    m[r, c] -= factor * m[column, c];
                    inverse[r, c] -= factor * inverse[column, c];
                }
            }
        }
        return (inverse, logDeterminant);
    }
}
