using Dopant.Compression;
using Dopant.Inference;
using Dopant.Matrices;
using Dopant.Numerics;

namespace Dopant.Tests.Compression;

public class CompressionOperatorTests
{
    private static CompressibleWeight Weight(string name, int rows, int columns, ulong seed, WeightKind kind = WeightKind.LstmRecurrent, float scale = 1)
    {
        var random = new Xoshiro256(seed);
        var values = new float[rows * columns];
        for (int i = 0; i < values.Length; i++) values[i] = scale * (float)(2 * random.NextDouble() - 1);
        return new CompressibleWeight(name, kind, rows, columns, values);
    }

    private static CompressibleWeight Of(float[] values, int rows, int columns, string name = "w") =>
        new(name, WeightKind.LstmRecurrent, rows, columns, values);

    private static int NonZeros(CompressibleWeight w) => w.Values.Count(v => v != 0);

    [Theory]
    [InlineData(0.1)]
    [InlineData(0.37)]
    [InlineData(1.0)]
    public void Global_prune_keeps_exactly_the_largest_magnitudes_over_all_matrices(double density)
    {
        // The second matrix is ten times smaller, so a global threshold takes most of its weights.
        CompressibleWeight a = Weight("a", 13, 29, 1), b = Weight("b", 7, 31, 2, scale: 0.1f);
        double[] all = [.. a.Values.Concat(b.Values).Select(v => (double)Math.Abs(v)).OrderDescending()];
        int keep = (int)Math.Round(density * all.Length);
        double threshold = all[keep - 1];
        float[] before = [.. a.Values.Concat(b.Values)];
        new MagnitudePrune(density).Project([a, b]);
        float[] after = [.. a.Values.Concat(b.Values)];
        Assert.Equal(keep, after.Count(v => v != 0));
        for (int i = 0; i < after.Length; i++)
            Assert.Equal(Math.Abs(before[i]) >= threshold ? before[i] : 0f, after[i]);
        Assert.True(NonZeros(b) < density * b.Values.Length || density == 1, "the small matrix should lose more than its share");
    }

    [Fact]
    public void Per_matrix_prune_keeps_the_density_of_every_matrix()
    {
        CompressibleWeight a = Weight("a", 10, 20, 3), b = Weight("b", 10, 10, 4, scale: 0.01f);
        new MagnitudePrune(0.25, perMatrix: true).Project([a, b]);
        Assert.Equal(50, NonZeros(a));
        Assert.Equal(25, NonZeros(b));
    }

    [Fact]
    public void Ties_keep_exactly_the_promised_count_lowest_index_first()
    {
        CompressibleWeight w = Of([.. Enumerable.Repeat(0.5f, 10)], 2, 5);
        new MagnitudePrune(0.3).Project([w]);
        Assert.Equal([0.5f, 0.5f, 0.5f, 0, 0, 0, 0, 0, 0, 0], w.Values);
    }

    [Fact]
    public void Row_criteria_score_as_documented()
    {
        // Row 0 = [3, 0, 0, 0]: rms 1.5, max 3, min 0, mean 0.75, sum 3. Row 1 = [1, 1, 1, 1]: rms 1, max 1, min 1, mean 1, sum 4.
        foreach ((StructureCriterion criterion, int keptRow) in new[]
                 {
                     (StructureCriterion.L2, 0), (StructureCriterion.Max, 0), (StructureCriterion.Min, 1),
                     (StructureCriterion.Mean, 1), (StructureCriterion.Sum, 1),
                 })
        {
            CompressibleWeight w = Of([3, 0, 0, 0, 1, 1, 1, 1], 2, 4);
            new StructurePrune(0.5, StructureAxis.Rows, criterion).Project([w]);
            Assert.True(w.Values.AsSpan(keptRow * 4, 4).ContainsAnyExcept(0f), $"{criterion} should keep row {keptRow}");
            Assert.False(w.Values.AsSpan((1 - keptRow) * 4, 4).ContainsAnyExcept(0f), $"{criterion} should remove row {1 - keptRow}");
        }
    }

    [Fact]
    public void Row_prune_agrees_with_a_reference_ranking_and_aligns_kept_rows()
    {
        CompressibleWeight a = Weight("a", 37, 11, 5), b = Weight("b", 23, 11, 6, scale: 0.8f);
        var rms = new List<(double Score, string Name, int Row)>();
        foreach (CompressibleWeight w in new[] { a, b })
            for (int i = 0; i < w.Rows; i++)
                rms.Add((Math.Sqrt(w.Values.Skip(i * 11).Take(11).Sum(v => (double)v * v) / 11), w.Name, i));
        var expected = rms.OrderByDescending(r => r.Score).Take(30).Select(r => (r.Name, r.Row)).ToHashSet();
        CompressibleWeight a2 = a.Clone(), b2 = b.Clone();
        new StructurePrune(0.5, StructureAxis.Rows).Project([a, b]);
        foreach (CompressibleWeight w in new[] { a, b })
            for (int i = 0; i < w.Rows; i++)
                Assert.Equal(expected.Contains((w.Name, i)), w.Values.AsSpan(i * 11, 11).ContainsAnyExcept(0f));

        new StructurePrune(0.5, StructureAxis.Rows, align: 8).Project([a2, b2]);
        foreach (CompressibleWeight w in new[] { a2, b2 })
        {
            int kept = Enumerable.Range(0, w.Rows).Count(i => w.Values.AsSpan(i * 11, 11).ContainsAnyExcept(0f));
            Assert.True(kept % 8 == 0 || kept == w.Rows, $"{w.Name}: {kept} rows kept, not a multiple of 8");
        }
    }

    [Fact]
    public void Structure_prune_removes_rows_and_columns_under_one_threshold()
    {
        // Column 2 and row 1 are the weakest structures.
        float[] values = [4, 4, 0.1f, 4, 0.2f, 0.2f, 0.1f, 0.2f, 4, 4, 0.1f, 4];
        CompressibleWeight w = Of(values, 3, 4);
        new StructurePrune(5.0 / 7, StructureAxis.Both).Project([w]);
        Assert.Equal([4, 4, 0, 4, 0, 0, 0, 0, 4, 4, 0, 4], w.Values);
        StorageEstimate s = new StructurePrune(5.0 / 7, StructureAxis.Both).Account(w, StorageEstimate.Dense(w));
        Assert.Equal(2 * 3, s.Values);
    }

    [Fact]
    public void Block_prune_normalizes_scores_so_edge_blocks_compete_fairly()
    {
        // 5 rows, 4x1 blocks: column 0 has a full block of 1.5s and an edge block (row 4) of one 2.
        // RMS: 1.5 against 2, so the edge block wins; an unnormalized l2 norm (3 against 2) would keep the full block.
        float[] values = [1.5f, 0, 1.5f, 0, 1.5f, 0, 1.5f, 0, 2, 0];
        CompressibleWeight w = Of(values, 5, 2);
        new BlockPrune(0.25, new BlockShape(4, 1)).Project([w]);
        Assert.Equal([0, 0, 0, 0, 0, 0, 0, 0, 2, 0], w.Values);
    }

    [Theory]
    [InlineData(16, 1)]
    [InlineData(4, 4)]
    [InlineData(1, 8)]
    public void Block_prune_keeps_whole_blocks_and_counts_one_index_per_block(int blockRows, int blockColumns)
    {
        CompressibleWeight w = Weight("w", 64, 40, 7);
        var block = new BlockShape(blockRows, blockColumns);
        var op = new BlockPrune(0.1, block);
        op.Project([w]);
        (int gr, int gc) = block.GridFor(64, 40);
        int kept = 0;
        for (int bi = 0; bi < gr; bi++)
            for (int bj = 0; bj < gc; bj++)
            {
                int nz = 0;
                for (int i = bi * blockRows; i < Math.Min(64, (bi + 1) * blockRows); i++)
                    for (int j = bj * blockColumns; j < Math.Min(40, (bj + 1) * blockColumns); j++)
                        if (w.Values[i * 40 + j] != 0) nz++;
                Assert.True(nz == 0 || nz == blockRows * blockColumns, $"block ({bi}, {bj}) is partly pruned");
                if (nz > 0) kept++;
            }
        Assert.Equal((int)Math.Round(0.1 * gr * gc), kept);
        StorageEstimate s = op.Account(w, StorageEstimate.Dense(w));
        Assert.Equal(kept * blockRows * blockColumns, s.Values);
        Assert.Equal(kept * 2 + (gr + 1) * 4, s.IndexBytes);
    }

    [Fact]
    public void NM_prune_keeps_n_of_every_m_per_row()
    {
        CompressibleWeight w = Of([1, -4, 3, 2, /**/ 5, 5, 5, 5, /**/ 1, 2, /**/ 0, 0, -9, 8, /**/ 7, 6, 9, 1, /**/ 3, 1], 2, 10);
        new NMPrune(2, 4).Project([w]);
        Assert.Equal([0, -4, 3, 0, /**/ 5, 5, 0, 0, /**/ 1, 2, /**/ 0, 0, -9, 8, /**/ 7, 0, 9, 0, /**/ 3, 1], w.Values);
        CompressibleWeight random = Weight("r", 9, 33, 8);
        new NMPrune(2, 4).Project([random]);
        for (int i = 0; i < 9; i++)
            for (int g = 0; g < 33; g += 4)
                Assert.True(random.Values.Skip(i * 33 + g).Take(Math.Min(4, 33 - g)).Count(v => v != 0) <= 2);
    }

    [Theory]
    [InlineData(WeightPrecision.Int8)]
    [InlineData(WeightPrecision.Float16)]
    public void Quantize_puts_every_row_on_its_grid_and_is_idempotent(WeightPrecision precision)
    {
        CompressibleWeight w = Weight("w", 17, 45, 9);
        w.Values[3] = 0;
        float[] original = (float[])w.Values.Clone();
        var op = new Quantize(precision);
        op.Project([w]);
        for (int i = 0; i < 17; i++)
        {
            double largest = original.Skip(i * 45).Take(45).Max(v => Math.Abs((double)v));
            double step = precision == WeightPrecision.Int8 ? largest / 127 : largest * Math.Pow(2, -11);
            for (int j = 0; j < 45; j++)
            {
                double q = w.Values[i * 45 + j], o = original[i * 45 + j];
                Assert.True(Math.Abs(q - o) <= step / (precision == WeightPrecision.Int8 ? 2 : 1) * 1.0001 + 1e-7, $"row {i}: {o} became {q}");
                if (precision == WeightPrecision.Int8) Assert.Equal(Math.Round(q / (largest / 127)), q / (largest / 127), 3);
            }
        }
        Assert.Equal(0, w.Values[3]);
        float[] once = (float[])w.Values.Clone();
        op.Project([w]);
        Assert.Equal(once, w.Values);
        StorageEstimate s = op.Account(w, StorageEstimate.Dense(w));
        Assert.Equal(precision == WeightPrecision.Int8 ? 1 : 2, s.BytesPerValue);
        Assert.Equal(17 * 4, s.ScaleBytes);
    }

    [Fact]
    public void Compose_applies_in_order_and_accounts_in_order()
    {
        CompressibleWeight w = Weight("w", 40, 30, 10), expected = w.Clone();
        var prune = new MagnitudePrune(0.2);
        var quantize = new Quantize(WeightPrecision.Int8);
        new ComposedOperator([prune, quantize]).Project([w]);
        prune.Project([expected]);
        quantize.Project([expected]);
        Assert.Equal(expected.Values, w.Values);
        StorageEstimate s = new ComposedOperator([prune, quantize]).Account(w, StorageEstimate.Dense(w));
        long nonzeros = NonZeros(w);
        Assert.Equal(240, nonzeros);
        Assert.Equal(nonzeros * 1 + nonzeros * 2 + 41 * 4 + 40 * 4, s.Bytes);
        Assert.Equal("prune(density=0.2) → quantize(int8)", new ComposedOperator([prune, quantize]).Description);
    }

    [Theory]
    [InlineData(typeof(MagnitudePrune))]
    [InlineData(typeof(StructurePrune))]
    [InlineData(typeof(BlockPrune))]
    [InlineData(typeof(NMPrune))]
    [InlineData(typeof(FormProjection))]
    public void Projection_is_idempotent(Type kind)
    {
        ICompressionOperator op = kind.Name switch
        {
            nameof(MagnitudePrune) => new MagnitudePrune(0.3),
            nameof(StructurePrune) => new StructurePrune(0.6, StructureAxis.Both),
            nameof(BlockPrune) => new BlockPrune(0.3, new BlockShape(4, 4)),
            nameof(NMPrune) => new NMPrune(1, 4),
            _ => new FormProjection(new LstmCompression(CompressionMethod.Lmf, 5)),
        };
        CompressibleWeight w = Weight("rnn.weight_hh_l0", 40, 24, 11);
        op.Project([w]);
        float[] once = (float[])w.Values.Clone();
        op.Project([w]);
        for (int i = 0; i < once.Length; i++) Assert.Equal(once[i], w.Values[i], 4);
    }

    [Theory]
    [InlineData("kp", 10)]
    [InlineData("lmf", 10)]
    [InlineData("hmd", 10)]
    [InlineData("dkp", 10)]
    public void Form_projection_equals_the_form_fitted_to_the_matrix_and_meets_the_factor(string method, double factor)
    {
        CompressibleWeight w = Weight("rnn.weight_hh_l0", 80, 20, 12);
        var compression = new LstmCompression(CompressionMethods.Parse(method), factor);
        IWeightMatrix<float> form = new FormProjection(compression).Fit(w.Clone());
        var op = new FormProjection(compression);
        op.Project([w]);
        Assert.Equal(form.ToDense(), w.Values);
        StorageEstimate s = op.Account(w, StorageEstimate.Dense(w));
        Assert.Equal(form.ParameterCount, s.Values);
        Assert.Equal(form.StorageBytes, s.Bytes);
        Assert.True(s.Values * factor <= 80 * 20 * 1.001, $"{method}: {s.Values} parameters for {factor}x");
    }

    [Fact]
    public void Operators_reject_bad_settings_with_the_setting_named()
    {
        Assert.Contains("density", Assert.Throws<ArgumentOutOfRangeException>(() => new MagnitudePrune(0)).Message);
        Assert.Contains("density", Assert.Throws<ArgumentOutOfRangeException>(() => new BlockPrune(1.5, new BlockShape(4, 1))).Message);
        Assert.Contains("loose entries", Assert.Throws<ArgumentException>(() => new BlockPrune(0.5, BlockShape.Parse("4x4+10%"))).Message);
        Assert.Contains("balanced in tiles", Assert.Throws<ArgumentException>(() => new BlockPrune(0.5, BlockShape.Parse("1x1@16x64"))).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new NMPrune(5, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Quantize(WeightPrecision.Float32));
        Assert.Throws<ArgumentException>(() => new FormProjection(new LstmCompression(CompressionMethod.Prune, 10)));
        Assert.Throws<ArgumentException>(() => new MagnitudePrune(0.5).Project([Of([float.NaN, 1], 1, 2)]));
    }
}
