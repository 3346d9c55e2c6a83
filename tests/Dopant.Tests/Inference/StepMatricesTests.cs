using System.Runtime.Intrinsics.X86;
using Dopant.Inference;
using Dopant.Matrices;

namespace Dopant.Tests.Inference;

/// <summary>Every form's streaming kernel against a plain double-precision product with its dense matrix.</summary>
public class StepMatricesTests
{
    public static TheoryData<string, int, int, double> Forms() => new()
    {
        { """{"kind":"dense"}""", 37, 23, 0 },
        { """{"kind":"dense"}""", 1, 1, 0 },
        { """{"kind":"low_rank","rank":5}""", 37, 23, 0 },
        { """{"kind":"hybrid","rank":3,"dense_rows":7}""", 37, 23, 0 },
        { """{"kind":"kronecker","shape":"5x7,3x3","rank":2}""", 15, 21, 0 },
        { """{"kind":"kronecker","shape":"1x1,13x17","rank":1}""", 13, 17, 0 },
        { """{"kind":"pruned"}""", 37, 23, 0.8 },
        { """{"kind":"pruned"}""", 9, 70000, 0.999 },
        { """{"kind":"doped","structure":{"kind":"kronecker","shape":"5x7,3x3","rank":1}}""", 15, 21, 0.9 },
        { """{"kind":"doped","structure":{"kind":"low_rank","rank":2}}""", 31, 19, 0.95 },
        { """{"kind":"pruned","block":"16x1"}""", 37, 23, 0.8 },
        { """{"kind":"pruned","block":"8x1"}""", 37, 23, 0.5 },
        { """{"kind":"pruned","block":"32x1"}""", 70, 9, 0.6 },
        { """{"kind":"pruned","block":"4x4"}""", 37, 23, 0.7 },
        { """{"kind":"pruned","block":"1x8"}""", 37, 23, 0.7 },
        { """{"kind":"pruned","block":"3x8"}""", 37, 23, 0.5 },
        { """{"kind":"pruned","block":"2x4"}""", 37, 23, 0.6 },
        { """{"kind":"pruned","block":"3x3"}""", 37, 23, 0.6 },
        { """{"kind":"doped","structure":{"kind":"low_rank","rank":2},"block":"16x1"}""", 31, 19, 0.9 },
        // Grids that fit the matrix exactly: the kernels add into y in place, without scratch.
        { """{"kind":"pruned","block":"16x1"}""", 48, 23, 0.3 },
        { """{"kind":"pruned","block":"16x1"}""", 160, 203, 0.97 },
        { """{"kind":"pruned","block":"32x1"}""", 64, 9, 0.5 },
        { """{"kind":"pruned","block":"8x1"}""", 40, 7, 0.4 },
        { """{"kind":"pruned","block":"4x4"}""", 36, 24, 0.6 },
        { """{"kind":"pruned","block":"1x8"}""", 37, 24, 0.6 },
        { """{"kind":"pruned","block":"3x3"}""", 36, 24, 0.5 },
        { """{"kind":"doped","structure":{"kind":"kronecker","shape":"5x7,4x3","rank":1},"block":"16x1"}""", 20, 21, 0.8 },
        { """{"kind":"kronecker_chain","shape":"3x2*5x3*2x3","rank":1}""", 30, 18, 0 },
        // Whole blocks plus loose entries: block CSR (or the column-block kernel) and sliced ELL summed.
        { """{"kind":"pruned","block":"4x4+10%"}""", 37, 23, 0.7 },
        { """{"kind":"pruned","block":"4x4+40%"}""", 36, 24, 0.9 },
        { """{"kind":"pruned","block":"16x1+20%"}""", 37, 23, 0.8 },
        { """{"kind":"doped","structure":{"kind":"kronecker","shape":"5x7,4x3","rank":1},"block":"4x4+25%"}""", 20, 21, 0.8 },
        // N:M patterns over single entries: windows of whole groups.
        { """{"kind":"pruned","block":"1x1/29"}""", 37, 650, 0.964 },
        { """{"kind":"pruned","block":"1x1/59"}""", 33, 130, 0.964 },
        { """{"kind":"pruned","block":"1x1/4"}""", 17, 23, 0.5 },
        { """{"kind":"doped","structure":{"kind":"kronecker","shape":"5x7,4x3","rank":1},"block":"1x1/7"}""", 20, 21, 0.8 },
        // Single entries balanced in tiles: rows grouped by their counts per window.
        { """{"kind":"pruned","block":"1x1@16x64"}""", 37, 650, 0.964 },
        { """{"kind":"pruned","block":"1x1@16x64"}""", 64, 130, 0.9 },
        { """{"kind":"doped","structure":{"kind":"kronecker","shape":"5x7,4x3","rank":1},"block":"1x1@4x8"}""", 20, 21, 0.8 },
    };

    [Theory]
    [MemberData(nameof(Forms))]
    public void A_step_product_adds_w_times_x_as_a_double_reference_does(string json, int rows, int columns, double sparsity)
    {
        var random = new Random(rows * 31 + columns);
        IWeightMatrix<float> form = WeightForms.Create<float>(WeightFormSpec.Parse(json), "w", rows, columns);
        foreach (Parameter<float> p in form.Parameters)
            for (int k = 0; k < p.Length; k++) p.Value[k] = (float)(random.NextDouble() * 2 - 1);
        foreach (PrunedMatrix<float> pruned in WeightForms.PrunedParts(form)) pruned.PruneToSparsity(sparsity);
        IStepMatrix step = StepMatrices.From(form);
        Assert.Equal((rows, columns), (step.Rows, step.Columns));

        float[] w = form.ToDense();
        float[] x = [.. Enumerable.Range(0, columns).Select(_ => (float)(random.NextDouble() * 2 - 1))];
        float[] y = [.. Enumerable.Range(0, rows).Select(_ => (float)random.NextDouble())];
        double[] expected = [.. y.Select(v => (double)v)];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < columns; j++) expected[i] += (double)w[(long)i * columns + j] * x[j];

        step.MultiplyAdd(x, y);
        for (int i = 0; i < rows; i++)
            Assert.True(Math.Abs(y[i] - expected[i]) <= 1e-5 * (1 + Math.Abs(expected[i])), $"row {i}: {y[i]} vs {expected[i]}");
    }

    [Fact]
    public void Single_entries_are_stored_in_windowed_ell_with_avx512_and_else_in_sliced_ell_with_16_bit_indices_when_they_fit()
    {
        var pruned = new PrunedMatrix<float>("w", 20, 30);
        for (int k = 0; k < pruned.Weight.Length; k++) pruned.Weight.Value[k] = k + 1;
        pruned.PruneToSparsity(0.9);
        var wide = new PrunedMatrix<float>("w", 2, 70000);
        IStepMatrix step = StepMatrices.From(pruned);
        if (Avx512F.IsSupported)
        {
            Assert.IsType<WindowedEllStepMatrix<float>>(step);
            // The 60 largest are rows 18 and 19 (30 entries each): slice 1 (rows 16 to 35) takes 30 steps of 16 lanes
            // in its one window; 4-byte values and 1-byte offsets, and the step starts of 2 slices × 1 window.
            Assert.Equal(30L * 16 * (4 + 1) + 3L * 4, step.WeightBytes);
            Assert.IsType<WindowedEllStepMatrix<float>>(StepMatrices.From(wide));
            Assert.IsType<WindowedEllStepMatrix<sbyte>>(StepMatrices.From(pruned, WeightPrecision.Int8));
            Assert.IsType<WindowedEllStepMatrix<float>>(StepMatrices.From(pruned, WeightPrecision.Float16));
            return;
        }
        Assert.IsType<SlicedEllStepMatrix<ushort>>(step);
        // One slice of 8 lanes × 30 entries, padding included.
        Assert.Equal(8L * 30 * (4 + 2) + (8L + 2) * 4, step.WeightBytes);
        Assert.IsType<SlicedEllStepMatrix<int>>(StepMatrices.From(wide));
    }

    [Theory]
    [InlineData(37, 23, 0.8, 64, true)]
    [InlineData(37, 23, 0.8, 64, false)]
    [InlineData(1, 1, 0.0, 64, true)]
    [InlineData(1, 1, 0.0, 1, false)]
    [InlineData(203, 97, 0.95, 32, true)]
    [InlineData(203, 97, 0.95, 33, true)]
    [InlineData(203, 97, 0.95, 33, false)]
    [InlineData(17, 130, 0.5, 58, true)]
    [InlineData(16, 64, 0.0, 64, true)]
    [InlineData(35, 200, 0.99, 7, true)]
    [InlineData(35, 200, 0.99, 7, false)]
    public void Windowed_ell_adds_w_times_x_as_a_double_reference_does(int rows, int columns, double sparsity, int window, bool vector)
    {
        var random = new Random(rows * 7 + columns + window);
        PrunedMatrix<float> pruned = PrunedWithEmptyRows(random, rows, columns, sparsity, k => 1);
        // Row 0 full, so that row lengths differ widely.
        for (int j = 0; j < columns; j++) pruned.Weight.Value[j] = 1f / (j + 1);
        CsrMatrix<float> csr = CsrMatrix<float>.FromDense(pruned.Weight.Value, rows, columns);
        float[] w = pruned.Weight.Value;
        float[] x = [.. Enumerable.Range(0, columns).Select(_ => (float)(random.NextDouble() * 2 - 1))];
        foreach (bool? sortRows in new bool?[] { null, true, false })
        {
            var kernel = new WindowedEllStepMatrix<float>(csr, window, vector, sortRows);
            Assert.Equal(csr.NonZeroCount, kernel.NonZeroCount);
            for (int pass = 0; pass < 2; pass++)
            {
                float[] y = [.. Enumerable.Range(0, rows).Select(i => (float)i)];
                kernel.MultiplyAdd(x, y);
                for (int i = 0; i < rows; i++)
                {
                    double expected = i;
                    for (int j = 0; j < columns; j++) expected += (double)w[(long)i * columns + j] * x[j];
                    Assert.True(Math.Abs(y[i] - expected) <= 1e-5 * (1 + Math.Abs(expected)), $"rows sorted {sortRows}, pass {pass}, row {i}: {y[i]} vs {expected}");
                }
                x.AsSpan().Reverse();
            }
        }
    }

    [Fact]
    public void Windowed_ell_sorts_rows_of_very_different_lengths_and_keeps_alike_rows_in_order()
    {
        // Rows 0 … 15 hold one entry each, rows 16 … 31 sixteen: sorting cannot save steps (16 + 1 × 16 by windows).
        float[] alike = new float[32 * 64];
        for (int i = 0; i < 32; i++)
            for (int j = 0; j < (i < 16 ? 1 : 16); j++) alike[i * 64 + j] = 1;
        var kept = new WindowedEllStepMatrix<float>(CsrMatrix<float>.FromDense(alike, 32, 64));
        Assert.Equal(17, kept.StepCount);
        Assert.Equal(17L * 16 * 5 + 3L * 4, kept.WeightBytes);

        // Odd rows hold 16 entries, even rows one: in order, each slice pays 16 steps; sorted, 16 + 1.
        float[] mixed = new float[32 * 64];
        for (int i = 0; i < 32; i++)
            for (int j = 0; j < (i % 2 == 1 ? 16 : 1); j++) mixed[i * 64 + j] = 1;
        var sorted = new WindowedEllStepMatrix<float>(CsrMatrix<float>.FromDense(mixed, 32, 64));
        Assert.Equal(17, sorted.StepCount);
        Assert.Equal(32, new WindowedEllStepMatrix<float>(CsrMatrix<float>.FromDense(mixed, 32, 64), sortRows: false).StepCount);
    }

    [Theory]
    [InlineData(37, 23, 0.8, 64, true)]
    [InlineData(37, 23, 0.8, 64, false)]
    [InlineData(203, 97, 0.95, 33, true)]
    [InlineData(35, 200, 0.99, 7, false)]
    [InlineData(48, 650, 0.964, 58, true)]
    public void Windowed_ell_with_8_bit_values_adds_the_row_quantized_w_times_x(int rows, int columns, double sparsity, int window, bool vector)
    {
        var random = new Random(rows * 5 + columns + window);
        PrunedMatrix<float> pruned = PrunedWithEmptyRows(random, rows, columns, sparsity, k => 1 + k / columns % 4);
        CsrMatrix<float> csr = CsrMatrix<float>.FromDense(pruned.Weight.Value, rows, columns);
        float[] w = pruned.Weight.Value;
        float[] x = [.. Enumerable.Range(0, columns).Select(_ => (float)(random.NextDouble() * 2 - 1))];
        foreach (bool? sortRows in new bool?[] { null, true, false })
        {
            var kernel = new WindowedEllStepMatrix<sbyte>(csr, window, vector, sortRows);
            Assert.True(kernel.WeightBytes < new WindowedEllStepMatrix<float>(csr, window, vector, sortRows).WeightBytes);
            float[] y = [.. Enumerable.Range(0, rows).Select(i => (float)i)];
            kernel.MultiplyAdd(x, y);
            for (int i = 0; i < rows; i++)
            {
                // Each row against its largest magnitude: 127 steps of max/127, rounded to the nearest.
                double largest = Enumerable.Range(0, columns).Max(j => Math.Abs((double)w[i * columns + j]));
                double scale = largest / 127, expected = i;
                for (int j = 0; j < columns; j++)
                    if (scale > 0) expected += scale * Math.Round(w[i * columns + j] / scale, MidpointRounding.ToEven) * x[j];
                Assert.True(Math.Abs(y[i] - expected) <= 1e-4 * (1 + Math.Abs(expected)), $"rows sorted {sortRows}, row {i}: {y[i]} vs {expected}");
            }
        }
    }

    // Random values scaled by scale(k) (k row-major), magnitude-pruned to sparsity, then every third row from row 3 on
    // cleared, so that some rows are empty.
    private static PrunedMatrix<float> PrunedWithEmptyRows(Random random, int rows, int columns, double sparsity, Func<int, int> scale)
    {
        var pruned = new PrunedMatrix<float>("w", rows, columns);
        for (int k = 0; k < pruned.Weight.Length; k++) pruned.Weight.Value[k] = (float)(random.NextDouble() * 2 - 1) * scale(k);
        pruned.PruneToSparsity(sparsity);
        for (int i = 3; i < rows; i += 3) pruned.Weight.Value.AsSpan(i * columns, columns).Clear();
        return pruned;
    }

    [Fact]
    public void Windowed_ell_rejects_a_window_wider_than_64_columns_and_short_vectors()
    {
        CsrMatrix<float> csr = CsrMatrix<float>.FromDense([1f, 2f, 3f, 4f], 2, 2);
        Assert.Throws<ArgumentOutOfRangeException>(() => new WindowedEllStepMatrix<float>(csr, 65));
        Assert.Throws<ArgumentOutOfRangeException>(() => new WindowedEllStepMatrix<float>(csr, 0));
        Assert.Throws<ArgumentException>(() => new WindowedEllStepMatrix<float>(csr).MultiplyAdd(new float[1], new float[2]));
        Assert.Throws<NotSupportedException>(() => new WindowedEllStepMatrix<double>(csr));
    }

    [Theory]
    [InlineData(29, 58)]
    [InlineData(59, 59)]
    [InlineData(4, 64)]
    [InlineData(100, 64)]
    public void An_n_m_pattern_gets_windows_of_whole_groups_and_no_padding(int group, int window)
    {
        var block = new BlockShape(1, 1, group);
        Assert.Equal(window, WindowedEllStepMatrix<float>.WindowFor(block));
        if (group > WindowedEllStepMatrix<float>.MaxWindow) return;
        var pruned = new PrunedMatrix<float>("w", 48, 650, block);
        var random = new Random(group);
        for (int k = 0; k < pruned.Weight.Length; k++) pruned.Weight.Value[k] = (float)(random.NextDouble() * 2 - 1);
        pruned.PruneToSparsity(0.964);
        var kernel = new WindowedEllStepMatrix<float>(pruned.ToCsr(), window);
        // Every row of a slice has the same entries per window, so the steps hold exactly the entries.
        Assert.Equal(kernel.NonZeroCount, kernel.StepCount * WindowedEllStepMatrix<float>.SliceRows);
    }

    [Theory]
    [InlineData(37, 23, 0.8, true)]
    [InlineData(37, 23, 0.8, false)]
    [InlineData(8, 5, 0.0, true)]
    [InlineData(1, 1, 0.0, false)]
    [InlineData(61, 70001, 0.9995, true)]
    [InlineData(61, 70001, 0.9995, false)]
    [InlineData(203, 97, 0.99, true)]
    [InlineData(203, 97, 0.99, false)]
    public void Sliced_ell_and_csr_kernels_add_w_times_x_as_a_double_reference_does(int rows, int columns, double sparsity, bool gather)
    {
        var random = new Random(rows + columns);
        var pruned = new PrunedMatrix<float>("w", rows, columns);
        for (int k = 0; k < pruned.Weight.Length; k++) pruned.Weight.Value[k] = (float)(random.NextDouble() * 2 - 1);
        pruned.PruneToSparsity(sparsity);
        // Rows of very different lengths (and empty ones): every third row cleared, row 0 full.
        for (int i = 0; i < rows; i += 3) pruned.Weight.Value.AsSpan(i * columns, columns).Clear();
        for (int j = 0; j < columns; j++) pruned.Weight.Value[j] = 1f / (j + 1);
        CsrMatrix<float> csr = CsrMatrix<float>.FromDense(pruned.Weight.Value, rows, columns);
        float[] w = pruned.Weight.Value;
        float[] x = [.. Enumerable.Range(0, columns).Select(_ => (float)(random.NextDouble() * 2 - 1))];
        double[] expected = new double[rows];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < columns; j++) expected[i] += (double)w[(long)i * columns + j] * x[j];
        IStepMatrix[] kernels = columns <= ushort.MaxValue + 1
            ? [new SlicedEllStepMatrix<ushort>(csr, gather), new CsrStepMatrix<ushort>(csr)]
            : [new SlicedEllStepMatrix<int>(csr, gather), new CsrStepMatrix<int>(csr)];
        foreach (IStepMatrix kernel in kernels)
        {
            float[] y = [.. Enumerable.Range(0, rows).Select(i => (float)i)];
            kernel.MultiplyAdd(x, y);
            for (int i = 0; i < rows; i++)
                Assert.True(Math.Abs(y[i] - (i + expected[i])) <= 1e-5 * (1 + Math.Abs(i + expected[i])), $"{kernel.GetType().Name} row {i}: {y[i]} vs {i + expected[i]}");
        }
    }
}
