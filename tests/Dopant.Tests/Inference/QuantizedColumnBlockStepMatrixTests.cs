using Dopant.Inference;
using Dopant.Matrices;

namespace Dopant.Tests.Inference;

/// <summary>
/// 8-bit and 16-bit column blocks against a double product with their own dequantized values, and those against the
/// originals.
/// </summary>
public class QuantizedColumnBlockStepMatrixTests
{
    // rows, columns, block rows, sparsity, smallest magnitude (power of ten): odd sizes, a cut-short block row, and
    // magnitudes down to 1e-7, which reach the halves' subnormals.
    private static readonly object[][] Shapes =
    [
        [37, 23, 16, 0.8, -2], [8, 5, 8, 0.0, -2], [70, 9, 32, 0.6, -2], [203, 97, 16, 0.95, -2], [45, 31, 16, 0.5, -7],
    ];

    public static TheoryData<int, int, int, double, int, bool> Cases()
    {
        var cases = new TheoryData<int, int, int, double, int, bool>();
        foreach (object[] s in Shapes)
            foreach (bool half in (bool[])[false, true])
                cases.Add((int)s[0], (int)s[1], (int)s[2], (double)s[3], (int)s[4], half);
        return cases;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Products_match_a_double_reference_and_values_stay_within_their_rounding(int rows, int columns, int blockRows, double sparsity, int smallest, bool half)
    {
        // int8: half a step, 1/254 of the row's largest magnitude. fp16: a scaled value lies in [-1, 1], where a half's
        // rounding error is at most 2⁻¹² of the row's largest (2⁻²⁵ among the subnormals).
        if (half) Check<Half>(rows, columns, blockRows, sparsity, smallest, error: Math.Pow(2, -12), valueBytes: 2);
        else Check<sbyte>(rows, columns, blockRows, sparsity, smallest, error: 1.0 / 254, valueBytes: 1);
    }

    private static void Check<TValue>(int rows, int columns, int blockRows, double sparsity, int smallest, double error, int valueBytes)
        where TValue : unmanaged
    {
        if (!QuantizedColumnBlockStepMatrix<TValue>.IsSupported(new BlockShape(blockRows, 1))) return;  // no AVX2: the fp32 kernel runs instead
        var random = new Random(rows * 3 + columns);
        var pruned = new PrunedMatrix<float>("w", rows, columns, new BlockShape(blockRows, 1));
        for (int k = 0; k < pruned.Weight.Length; k++)
            pruned.Weight.Value[k] = (float)((random.NextDouble() * 2 - 1) * Math.Pow(10, random.Next(smallest, 1)));
        pruned.PruneToSparsity(sparsity);
        var step = new QuantizedColumnBlockStepMatrix<TValue>(pruned);
        float[] x = [.. Enumerable.Range(0, columns).Select(_ => (float)(random.NextDouble() * 2 - 1))];
        float[] y = [.. Enumerable.Range(0, rows).Select(i => (float)i)];
        step.MultiplyAdd(x, y);
        for (int i = 0; i < rows; i++)
        {
            double largest = Enumerable.Range(0, columns).Max(j => Math.Abs((double)pruned.Weight.Value[i * columns + j] * pruned.Mask[i * columns + j]));
            double expected = i, magnitude = Math.Abs(i);
            for (int j = 0; j < columns; j++)
            {
                double original = pruned.Weight.Value[i * columns + j] * pruned.Mask[i * columns + j];
                Assert.True(Math.Abs(step[i, j] - original) <= largest * error * (1 + 1e-6), $"[{i},{j}]: {step[i, j]} vs {original}");
                expected += (double)step[i, j] * x[j];
                magnitude += Math.Abs((double)step[i, j] * x[j]);
            }
            Assert.True(Math.Abs(y[i] - expected) <= 1e-6 * (1 + magnitude), $"row {i}: {y[i]} vs {expected}");
        }
        // The value bytes of the fp32 block kernel shrunk to valueBytes each, the same indices, plus a scale a row.
        var fp32 = new BlockSparseStepMatrix(pruned);
        int groups = (rows + blockRows - 1) / blockRows, blocks = (int)pruned.KeptBlocks();
        Assert.Equal(fp32.WeightBytes - (4L - valueBytes) * blocks * blockRows + groups * blockRows * 4L, step.WeightBytes);
    }

    [Fact]
    public void Only_column_blocks_of_8_16_or_32_rows_are_taken()
    {
        Assert.False(QuantizedColumnBlockStepMatrix<sbyte>.IsSupported(new BlockShape(4, 4)));
        Assert.False(QuantizedColumnBlockStepMatrix<Half>.IsSupported(new BlockShape(12, 1)));
        Assert.Throws<ArgumentException>(() => new QuantizedColumnBlockStepMatrix<sbyte>(new PrunedMatrix<float>("w", 8, 8, new BlockShape(4, 4))));
        Assert.Throws<NotSupportedException>(() => new QuantizedColumnBlockStepMatrix<short>(new PrunedMatrix<float>("w", 8, 8, new BlockShape(8, 1))));
    }
}
