using Dopant.Matrices;

namespace Dopant.Tests.Matrices;

/// <summary>
/// A mostly pruned matrix's training passes equal the masked dense products, in double to rounding and in float to
/// single precision, on odd sizes, block and tile patterns, and batches that leave vector tails.
/// </summary>
public class PrunedMatrixPassTests
{
    public static TheoryData<string, double, int> Cases()
    {
        var data = new TheoryData<string, double, int>();
        foreach (int count in new[] { 1, 13, 20, 45, 70 })
        {
            data.Add("1x1", 0.9, count);
            data.Add("4x2", 0.8, count);
            data.Add("1x1@4x8", 0.85, count);
        }
        return data;
    }

    private static PrunedMatrix<T> Pruned<T>(string block, double sparsity) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var matrix = new PrunedMatrix<T>("w", 37, 23, BlockShape.Parse(block));
        var random = new Random(11);
        for (int k = 0; k < matrix.Weight.Length; k++) matrix.Weight.Value[k] = T.CreateChecked(random.NextDouble() - 0.5);
        matrix.PruneToSparsity(sparsity);
        return matrix;
    }

    private static double[] Masked(PrunedMatrix<double> m) => [.. m.Weight.Value.Zip(m.Mask.ToArray(), (w, k) => w * k)];

    [Theory]
    [MemberData(nameof(Cases))]
    public void Double_passes_equal_the_masked_dense_products(string block, double sparsity, int count)
    {
        PrunedMatrix<double> matrix = Pruned<double>(block, sparsity);
        int rows = matrix.Rows, columns = matrix.Columns;
        double[] w = Masked(matrix);
        var random = new Random(count);
        double[] x = FiniteDifferencesArray(random, count * columns), dy = FiniteDifferencesArray(random, count * rows);
        double[] y0 = FiniteDifferencesArray(random, count * rows), dx0 = FiniteDifferencesArray(random, count * columns);

        foreach (bool accumulate in new[] { false, true })
        {
            double[] y = (double[])y0.Clone(), dx = (double[])dx0.Clone();
            matrix.Forward(x, y, count, accumulate);
            matrix.BackwardInput(dy, dx, count, accumulate);
            for (int b = 0; b < count; b++)
            {
                for (int i = 0; i < rows; i++)
                {
                    double sum = accumulate ? y0[b * rows + i] : 0;
                    for (int j = 0; j < columns; j++) sum += w[i * columns + j] * x[b * columns + j];
                    Assert.Equal(sum, y[b * rows + i], 1e-12);
                }
                for (int j = 0; j < columns; j++)
                {
                    double sum = accumulate ? dx0[b * columns + j] : 0;
                    for (int i = 0; i < rows; i++) sum += w[i * columns + j] * dy[b * rows + i];
                    Assert.Equal(sum, dx[b * columns + j], 1e-12);
                }
            }
        }

        var before = new double[matrix.Weight.Length];
        for (int k = 0; k < before.Length; k++) before[k] = matrix.Mask[k] * (k % 7 - 3) * 0.1;
        before.CopyTo(matrix.Weight.Gradient, 0);
        matrix.AccumulateGradients(x, dy, count);
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < columns; j++)
            {
                int k = i * columns + j;
                double expected = before[k];
                if (matrix.Mask[k] != 0)
                    for (int b = 0; b < count; b++) expected += dy[b * rows + i] * x[b * columns + j];
                Assert.Equal(expected, matrix.Weight.Gradient[k], 1e-12);
            }
    }

    [Theory]
    [InlineData(33)]
    [InlineData(45)]
    public void Float_passes_match_the_double_reference(int count)
    {
        PrunedMatrix<double> reference = Pruned<double>("1x1", 0.9);
        PrunedMatrix<float> matrix = Pruned<float>("1x1", 0.9);
        Assert.Equal(reference.Mask.ToArray().Select(m => (float)m), matrix.Mask.ToArray());
        var random = new Random(3);
        double[] x = FiniteDifferencesArray(random, count * 23), dy = FiniteDifferencesArray(random, count * 37);
        double[] y = new double[count * 37], dx = new double[count * 23];
        float[] yf = new float[y.Length], dxf = new float[dx.Length];
        reference.Forward(x, y, count, false);
        reference.BackwardInput(dy, dx, count, false);
        matrix.Forward([.. x.Select(v => (float)v)], yf, count, false);
        matrix.BackwardInput([.. dy.Select(v => (float)v)], dxf, count, false);
        for (int k = 0; k < y.Length; k++) Assert.Equal(y[k], yf[k], 1e-5);
        for (int k = 0; k < dx.Length; k++) Assert.Equal(dx[k], dxf[k], 1e-5);
        reference.AccumulateGradients(x, dy, count);
        matrix.AccumulateGradients([.. x.Select(v => (float)v)], [.. dy.Select(v => (float)v)], count);
        for (int k = 0; k < matrix.Weight.Length; k++) Assert.Equal(reference.Weight.Gradient[k], matrix.Weight.Gradient[k], 1e-4);
    }

    [Fact]
    public void A_restored_mask_with_the_same_count_is_followed()
    {
        PrunedMatrix<double> matrix = Pruned<double>("1x1", 0.9);
        var x = new double[23];
        x[0] = 1;
        var y = new double[37];
        matrix.Forward(x, y, 1, false);
        // Move one kept entry of column 0 to another pruned place: same number kept, another pattern.
        double[] mask = matrix.Mask.ToArray();
        int kept = Enumerable.Range(0, 37).First(i => mask[i * 23] == 1), pruned = Enumerable.Range(0, 37).First(i => mask[i * 23] == 0);
        (mask[kept * 23], mask[pruned * 23]) = (0, 1);
        matrix.Weight.Value[pruned * 23] = 5;
        matrix.RestoreMask(mask);
        matrix.Forward(x, y, 1, false);
        Assert.Equal(0, y[kept]);
        Assert.Equal(5, y[pruned]);
    }

    [Theory]
    [InlineData("1x1", 0.95, 1, false)]
    [InlineData("1x1", 0.95, 20, true)]
    [InlineData("4x2", 0.92, 19, false)]
    [InlineData("1x1@4x8", 0.93, 70, true)]
    public void Float_passes_on_the_kept_entries_alone_match_the_double_reference_accumulating_and_in_steps(string block, double sparsity, int count, bool steps)
    {
        PrunedMatrix<double> reference = Pruned<double>(block, sparsity);
        PrunedMatrix<float> matrix = Pruned<float>(block, sparsity);
        Assert.True(matrix.ParameterCount <= PrunedMatrix<float>.SparseTrainingDensity * matrix.Weight.Length, "the kept entries are few enough to train sparse");
        var random = new Random(count);
        double[] x = FiniteDifferencesArray(random, count * 23), dy = FiniteDifferencesArray(random, count * 37);
        double[] y0 = FiniteDifferencesArray(random, count * 37), dx0 = FiniteDifferencesArray(random, count * 23);
        if (steps) matrix.BeginSteps();
        foreach (bool accumulate in new[] { false, true })
        {
            double[] y = (double[])y0.Clone(), dx = (double[])dx0.Clone();
            float[] yf = [.. y0.Select(v => (float)v)], dxf = [.. dx0.Select(v => (float)v)];
            reference.Forward(x, y, count, accumulate);
            reference.BackwardInput(dy, dx, count, accumulate);
            matrix.Forward([.. x.Select(v => (float)v)], yf, count, accumulate);
            matrix.BackwardInput([.. dy.Select(v => (float)v)], dxf, count, accumulate);
            for (int k = 0; k < y.Length; k++) Assert.Equal(y[k], yf[k], 1e-5);
            for (int k = 0; k < dx.Length; k++) Assert.Equal(dx[k], dxf[k], 1e-5);
        }
        if (steps) matrix.EndSteps();
        for (int k = 0; k < matrix.Weight.Length; k++) (reference.Weight.Gradient[k], matrix.Weight.Gradient[k]) = (reference.Mask[k] * 0.25, matrix.Mask[k] * 0.25f);
        reference.AccumulateGradients(x, dy, count);
        matrix.AccumulateGradients([.. x.Select(v => (float)v)], [.. dy.Select(v => (float)v)], count);
        for (int k = 0; k < matrix.Weight.Length; k++) Assert.Equal(reference.Weight.Gradient[k], matrix.Weight.Gradient[k], 1e-4);
    }

    [Fact]
    public void A_float_matrix_follows_its_mask_as_pruning_goes_on_and_as_a_restored_mask_moves_entries()
    {
        PrunedMatrix<float> matrix = Pruned<float>("1x1", 0.95);
        var x = new float[23];
        x[0] = 1;
        var y = new float[37];
        matrix.Forward(x, y, 1, false);
        float[] mask = matrix.Mask.ToArray();
        int kept = Enumerable.Range(0, 37).First(i => mask[i * 23] == 1), pruned = Enumerable.Range(0, 37).First(i => mask[i * 23] == 0);
        Assert.Equal(matrix.Weight.Value[kept * 23], y[kept]);
        (mask[kept * 23], mask[pruned * 23]) = (0, 1);
        matrix.Weight.Value[pruned * 23] = 5;
        matrix.RestoreMask(mask);
        matrix.Forward(x, y, 1, false);
        Assert.Equal(0, y[kept]);
        Assert.Equal(5, y[pruned]);
        matrix.PruneToSparsity(0.999);
        matrix.Forward(x, y, 1, false);
        float[] dense = matrix.ToDense();
        for (int i = 0; i < 37; i++) Assert.Equal(dense[i * 23], y[i]);
    }

    private static double[] FiniteDifferencesArray(Random random, int length) => [.. Enumerable.Range(0, length).Select(_ => random.NextDouble() - 0.5)];
}
