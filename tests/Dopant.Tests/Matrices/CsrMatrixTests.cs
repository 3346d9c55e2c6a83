using System.Numerics;
using Dopant.Matrices;
using Dopant.Tests.Models;

namespace Dopant.Tests.Matrices;

public class CsrMatrixTests
{
    // The float kernels sum at most 29 unit-scale products in float.
    private const double FloatTolerance = 1e-5;

    public static TheoryData<int, int, double, int, bool> Shapes()
    {
        var data = new TheoryData<int, int, double, int, bool>();
        foreach ((int m, int n, double keep) in new[] { (13, 7, 0.5), (1, 1, 1.0), (1, 1, 0.0), (37, 29, 0.2), (7, 13, 0.9) })
            foreach (int count in WeightMatrixConformance.Counts)
                foreach (bool accumulate in new[] { false, true })
                    data.Add(m, n, keep, count, accumulate);
        return data;
    }

    /// <summary>Random values and a random mask keeping about <paramref name="keep"/> of the entries; row 1 (if any) is empty.</summary>
    private static (T[] Dense, T[] Mask) RandomMasked<T>(int rows, int columns, double keep, int seed) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var random = new Random(seed);
        T[] dense = WeightMatrixConformance.RandomValues<T>(random, rows * columns);
        var mask = new T[rows * columns];
        for (int k = 0; k < mask.Length; k++)
            mask[k] = random.NextDouble() < keep && k / columns != 1 ? T.One : T.Zero;
        return (dense, mask);
    }

    private static double[] Masked<T>(T[] dense, T[] mask) where T : unmanaged, IFloatingPointIeee754<T> =>
        dense.Zip(mask, (w, m) => double.CreateChecked(w * m)).ToArray();

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Products_equal_the_masked_dense_products_in_double(int rows, int columns, double keep, int count, bool accumulate) =>
        ProductsMatch<double>(rows, columns, keep, count, accumulate, 1e-12);

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Products_equal_the_masked_dense_products_in_float(int rows, int columns, double keep, int count, bool accumulate) =>
        ProductsMatch<float>(rows, columns, keep, count, accumulate, FloatTolerance);

    private static void ProductsMatch<T>(int rows, int columns, double keep, int count, bool accumulate, double tolerance)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        (T[] dense, T[] mask) = RandomMasked<T>(rows, columns, keep, seed: rows * columns + count);
        var csr = CsrMatrix<T>.FromMasked(dense, mask, rows, columns);
        double[] w = Masked(dense, mask);
        Assert.Equal(w, WeightMatrixConformance.ToDouble(csr.ToDense()));

        var random = new Random(count);
        T[] x = WeightMatrixConformance.RandomValues<T>(random, count * columns);
        T[] y = WeightMatrixConformance.RandomValues<T>(random, count * rows);
        double[]? initialY = accumulate ? WeightMatrixConformance.ToDouble(y) : null;
        csr.MultiplyByTranspose(x, y, count, accumulate);
        WeightMatrixConformance.AssertClose("x·Sᵀ",
            WeightMatrixConformance.Product(WeightMatrixConformance.ToDouble(x), w, count, rows, columns, transposeW: true, initialY),
            WeightMatrixConformance.ToDouble(y), tolerance);

        T[] dy = WeightMatrixConformance.RandomValues<T>(random, count * rows);
        T[] dx = WeightMatrixConformance.RandomValues<T>(random, count * columns);
        double[]? initialDx = accumulate ? WeightMatrixConformance.ToDouble(dx) : null;
        csr.Multiply(dy, dx, count, accumulate);
        WeightMatrixConformance.AssertClose("dy·S",
            WeightMatrixConformance.Product(WeightMatrixConformance.ToDouble(dy), w, count, columns, rows, transposeW: false, initialDx),
            WeightMatrixConformance.ToDouble(dx), tolerance);

        // The value gradient is (dyᵀ·x) read at the stored entries, added to what was there.
        T[] gradient = Enumerable.Repeat(T.One, csr.NonZeroCount).ToArray();
        csr.AccumulateValueGradients(x, dy, count, gradient);
        var expected = new double[csr.NonZeroCount];
        for (int i = 0; i < rows; i++)
            for (int k = csr.RowPointers[i]; k < csr.RowPointers[i + 1]; k++)
            {
                double sum = 1;
                for (int b = 0; b < count; b++)
                    sum += double.CreateChecked(dy[b * rows + i]) * double.CreateChecked(x[b * columns + csr.ColumnIndices[k]]);
                expected[k] = sum;
            }
        WeightMatrixConformance.AssertClose("value gradient", expected, WeightMatrixConformance.ToDouble(gradient), tolerance);
    }

    [Fact]
    public void Value_gradients_match_finite_differences()
    {
        (double[] dense, double[] mask) = RandomMasked<double>(13, 7, 0.5, seed: 3);
        var csr = CsrMatrix<double>.FromMasked(dense, mask, 13, 7);
        int[] columnIndices = csr.ColumnIndices.ToArray(), rowPointers = csr.RowPointers.ToArray();
        double[] values = csr.Values.ToArray();
        var random = new Random(4);
        const int count = 5;
        double[] x = FiniteDifferences.RandomArray(random, count * 7);
        double[] g = FiniteDifferences.RandomArray(random, count * 13);
        var y = new double[count * 13];
        double Loss()
        {
            new CsrMatrix<double>(13, 7, values, columnIndices, rowPointers).MultiplyByTranspose(x, y, count, accumulate: false);
            return y.Zip(g, (a, b) => a * b).Sum();
        }
        var gradient = new double[values.Length];
        csr.AccumulateValueGradients(x, g, count, gradient);
        FiniteDifferences.Check("values", values, gradient, Loss);
        var dx = new double[x.Length];
        csr.Multiply(g, dx, count, accumulate: false);
        FiniteDifferences.Check("x", x, dx, Loss);
    }

    [Fact]
    public void The_structure_is_canonical_csr_of_the_mask()
    {
        double[] dense = [1, 2, 3, 4, 5, 6, 0, 8, 9];
        double[] mask = [0, 1, 1, 0, 0, 0, 1, 1, 0];
        var csr = CsrMatrix<double>.FromMasked(dense, mask, 3, 3);
        Assert.Equal([2.0, 3, 0, 8], csr.Values.ToArray()); // a kept zero is stored: the pattern is the mask's
        Assert.Equal([1, 2, 0, 1], csr.ColumnIndices.ToArray());
        Assert.Equal([0, 2, 2, 4], csr.RowPointers.ToArray());
        Assert.Equal(4, csr.NonZeroCount);
        Assert.Equal(4 * sizeof(double) + 4 * sizeof(int) + 4 * sizeof(int), csr.StorageBytes);

        var fromDense = CsrMatrix<double>.FromDense(dense, 3, 3);
        Assert.Equal(8, fromDense.NonZeroCount);
        Assert.Equal(dense, fromDense.ToDense());
    }

    [Fact]
    public void Invalid_structures_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => new CsrMatrix<float>(2, 3, [1f, 2f], [0, 1], [0, 2]));          // too few row pointers
        Assert.Throws<ArgumentException>(() => new CsrMatrix<float>(2, 3, [1f, 2f], [0, 1], [0, 2, 1]));       // decreasing / wrong end
        Assert.Throws<ArgumentException>(() => new CsrMatrix<float>(1, 3, [1f, 2f], [1, 1], [0, 2]));          // repeated column
        Assert.Throws<ArgumentOutOfRangeException>(() => new CsrMatrix<float>(1, 3, [1f], [3], [0, 1]));       // column out of range
        var csr = new CsrMatrix<float>(2, 3, [1f, 2f], [2, 0], [0, 1, 2]);
        Assert.Equal([0f, 0, 1, 2, 0, 0], csr.ToDense());
        Assert.Throws<ArgumentException>(() => csr.MultiplyByTranspose(new float[3], new float[1], 1, false));
        Assert.Throws<ArgumentException>(() => csr.AccumulateValueGradients(new float[3], new float[2], 1, new float[1]));
    }

    [Fact]
    public void Large_products_run_in_parallel_and_equal_the_same_order_serial_sums_bit_for_bit()
    {
        const int rows = 300, columns = 211, count = 17;
        (float[] dense, float[] mask) = RandomMasked<float>(rows, columns, 0.4, seed: 5);
        var csr = CsrMatrix<float>.FromMasked(dense, mask, rows, columns);
        Assert.True((long)count * csr.NonZeroCount > 1 << 15); // above the parallel threshold
        var random = new Random(6);
        float[] x = WeightMatrixConformance.RandomValues<float>(random, count * columns);
        float[] dy = WeightMatrixConformance.RandomValues<float>(random, count * rows);

        var y = new float[count * rows];
        csr.MultiplyByTranspose(x, y, count, accumulate: false);
        var dx = new float[count * columns];
        csr.Multiply(dy, dx, count, accumulate: false);
        var gradient = new float[csr.NonZeroCount];
        csr.AccumulateValueGradients(x, dy, count, gradient);

        ReadOnlySpan<float> values = csr.Values;
        ReadOnlySpan<int> cols = csr.ColumnIndices, pointers = csr.RowPointers;
        for (int b = 0; b < count; b++)
        {
            var expectedDx = new float[columns];
            for (int i = 0; i < rows; i++)
            {
                float sum = 0;
                for (int k = pointers[i]; k < pointers[i + 1]; k++)
                {
                    sum += values[k] * x[b * columns + cols[k]];
                    expectedDx[cols[k]] += values[k] * dy[b * rows + i];
                }
                Assert.Equal(sum, y[b * rows + i]);
            }
            Assert.Equal(expectedDx, dx.AsSpan(b * columns, columns).ToArray());
        }
        for (int i = 0; i < rows; i++)
            for (int k = pointers[i]; k < pointers[i + 1]; k++)
            {
                float sum = 0;
                for (int b = 0; b < count; b++) sum += dy[b * rows + i] * x[b * columns + cols[k]];
                Assert.Equal(sum, gradient[k]);
            }
    }
}
