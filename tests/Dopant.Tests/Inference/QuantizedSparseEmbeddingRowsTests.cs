using Dopant.Inference;
using Dopant.Matrices;

namespace Dopant.Tests.Inference;

public class QuantizedSparseEmbeddingRowsTests
{
    // 37 rows of 23: odd sizes, some rows left empty by the pruning.
    [Theory]
    [InlineData("""{"kind":"pruned"}""", 0.9)]
    [InlineData("""{"kind":"doped","structure":{"kind":"kronecker","shape":"37x1,1x23","rank":1}}""", 0.95)]
    [InlineData("""{"kind":"doped","structure":{"kind":"low_rank","rank":2},"block":"1x1@4x8"}""", 0.8)]
    public void Rows_are_the_form_rows_within_half_an_int8_step_of_each_sparse_entry(string json, double sparsity)
    {
        const int rows = 37, columns = 23;
        var random = new Random(5);
        float[] dense = [.. Enumerable.Range(0, rows * columns).Select(_ => (float)(random.NextDouble() - 0.5))];
        IWeightMatrix<float> form = WeightForms.FromDense<float>(WeightFormSpec.Parse(json), "encoder.weight", dense, rows, columns);
        foreach (PrunedMatrix<float> part in WeightForms.PrunedParts(form)) part.PruneToSparsity(sparsity);
        Assert.True(QuantizedSparseEmbeddingRows.Supports(form));
        var quantized = new QuantizedSparseEmbeddingRows(form, "encoder.weight");
        PrunedMatrix<float> sparse = WeightForms.PrunedParts(form).Single();
        CsrMatrix<float> csr = sparse.ToCsr();

        var expected = new float[columns];
        var actual = new float[columns];
        for (int row = 0; row < rows; row++)
        {
            form.GatherRows([row], expected);
            quantized.CopyRow(row, actual);
            ReadOnlySpan<float> values = csr.Values[csr.RowPointers[row]..csr.RowPointers[row + 1]];
            double halfStep = values.IsEmpty ? 0 : values.ToArray().Max(Math.Abs) / 127 / 2;
            for (int j = 0; j < columns; j++) Assert.InRange(actual[j] - expected[j], -halfStep - 1e-6, halfStep + 1e-6);
        }
        long structureBytes = form is DopedMatrix<float> doped ? doped.Structure.StorageBytes : 0;
        Assert.Equal(structureBytes + 3L * csr.NonZeroCount + 4L * (2 * rows + 1), quantized.TableBytes);
        Assert.True(quantized.TableBytes < form.StorageBytes, $"{quantized.TableBytes} bytes, the fp32 form {form.StorageBytes}");
    }

    [Fact]
    public void Dense_and_blocked_tables_are_not_held_this_way()
    {
        Assert.False(QuantizedSparseEmbeddingRows.Supports(new DenseMatrix<float>("encoder.weight", 5, 4)));
        IWeightMatrix<float> blocks = WeightForms.Create<float>(WeightFormSpec.Parse("""{"kind":"pruned","block":"4x2"}"""), "encoder.weight", 8, 4);
        Assert.False(QuantizedSparseEmbeddingRows.Supports(blocks));
    }
}
