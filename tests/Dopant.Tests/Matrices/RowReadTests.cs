using Dopant.Matrices;
using Dopant.Tests.Models;

namespace Dopant.Tests.Matrices;

/// <summary>
/// An embedding reads rows of its table in whatever form: <see cref="IWeightMatrix{T}.GatherRows"/> against the form's
/// own dense view, and <see cref="IWeightMatrix{T}.AccumulateRowGradients"/> against finite differences, on odd sizes.
/// </summary>
public class RowReadTests
{
    public static TheoryData<string, int, int> Forms() => new()
    {
        { """{"kind":"dense"}""", 23, 7 },
        { """{"kind":"pruned"}""", 23, 7 },
        { """{"kind":"pruned","block":"4x2"}""", 23, 7 },
        { """{"kind":"low_rank","rank":3}""", 23, 7 },
        { """{"kind":"kronecker","shape":"4x2,6x3","rank":2}""", 24, 6 },
        { """{"kind":"kronecker_chain","shape":"2x2*3x1*4x3","rank":1}""", 24, 6 },
        { """{"kind":"hybrid","rank":2,"dense_rows":5}""", 23, 7 },
        { """{"kind":"doped","structure":{"kind":"low_rank","rank":2}}""", 23, 7 },
        { """{"kind":"doped","structure":{"kind":"kronecker","shape":"4x2,6x3","rank":1},"block":"2x1"}""", 24, 6 },
    };

    private static IWeightMatrix<double> Form(string json, int rows, int columns)
    {
        IWeightMatrix<double> matrix = WeightForms.Create<double>(WeightFormSpec.Parse(json), "encoder.weight", rows, columns);
        WeightMatrixConformance.Randomize(matrix, seed: json.Length + rows);
        foreach (PrunedMatrix<double> part in WeightForms.PrunedParts(matrix)) part.PruneToSparsity(0.6);
        return matrix;
    }

    // Repeated rows, the first and the last, and an odd count.
    private static readonly int[] Tokens = [3, 0, 3, 22, 11, 5, 3];

    [Theory]
    [MemberData(nameof(Forms))]
    public void Gathered_rows_equal_the_dense_view(string json, int rows, int columns)
    {
        IWeightMatrix<double> matrix = Form(json, rows, columns);
        int[] tokens = [.. Tokens.Select(t => Math.Min(t, rows - 1))];
        double[] dense = matrix.ToDense();
        var output = new double[tokens.Length * columns];
        matrix.GatherRows(tokens, output);
        for (int k = 0; k < tokens.Length; k++)
            for (int j = 0; j < columns; j++)
                Assert.Equal(dense[tokens[k] * columns + j], output[k * columns + j], 12);
        matrix.GatherRows([], []);
        Assert.Throws<ArgumentOutOfRangeException>(() => matrix.GatherRows([rows], new double[columns]));
    }

    [Theory]
    [MemberData(nameof(Forms))]
    public void Row_gradients_match_finite_differences(string json, int rows, int columns)
    {
        IWeightMatrix<double> matrix = Form(json, rows, columns);
        int[] tokens = [.. Tokens.Select(t => Math.Min(t, rows - 1))];
        double[] g = FiniteDifferences.RandomArray(new Random(5), tokens.Length * columns);
        var output = new double[g.Length];
        double Loss()
        {
            matrix.GatherRows(tokens, output);
            double sum = 0;
            for (int k = 0; k < g.Length; k++) sum += g[k] * output[k];
            return sum;
        }

        foreach (Parameter<double> p in matrix.Parameters) p.ZeroGradient();
        matrix.AccumulateRowGradients(tokens, g);
        foreach (Parameter<double> p in matrix.Parameters.Where(p => p.Length > 0))
            FiniteDifferences.Check(p.Name, p.Value, (double[])p.Gradient.Clone(), Loss, tolerance: 1e-6);
    }

    [Fact]
    public void Float_rows_of_a_low_rank_table_equal_the_double_reference_on_a_table_wider_than_a_vector()
    {
        var matrix = new LowRankMatrix<float>("encoder.weight", 101, 37, 5);
        WeightMatrixConformance.Randomize(matrix, seed: 3);
        double[] u = [.. matrix.Left.Value.Select(v => (double)v)], v = [.. matrix.Right.Value.Select(x => (double)x)];
        int[] tokens = [100, 0, 57, 57];
        var output = new float[tokens.Length * 37];
        matrix.GatherRows(tokens, output);
        for (int k = 0; k < tokens.Length; k++)
            for (int j = 0; j < 37; j++)
            {
                double expected = 0;
                for (int r = 0; r < 5; r++) expected += u[tokens[k] * 5 + r] * v[r * 37 + j];
                Assert.True(Math.Abs(expected - output[k * 37 + j]) <= 1e-5, $"row {tokens[k]}, column {j}: {output[k * 37 + j]} against {expected}");
            }
    }
}
