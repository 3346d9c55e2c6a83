using Dopant.Matrices;

namespace Dopant.Tests.Matrices;

/// <summary>Forms that pack their operands for a run of steps give the same products, and repack when a new run begins.</summary>
public class StepPackingTests
{
    public static TheoryData<string> Forms() => new()
    {
        """{"kind":"dense"}""",
        """{"kind":"pruned"}""",
        """{"kind":"doped","structure":{"kind":"low_rank","rank":3}}""",
        """{"kind":"doped","structure":{"kind":"kronecker","shape":"5x7,6x3","rank":1}}""",
    };

    [Theory]
    [MemberData(nameof(Forms))]
    public void Products_within_a_run_of_steps_equal_the_plain_ones_and_follow_new_values_between_runs(string form)
    {
        const int rows = 30, columns = 21, batch = 7;
        var random = new Random(form.Length);
        IWeightMatrix<float> matrix = WeightForms.Create<float>(WeightFormSpec.Parse(form), "w", rows, columns);
        foreach (Parameter<float> p in matrix.Parameters)
            for (int i = 0; i < p.Length; i++) p.Value[i] = (float)(random.NextDouble() * 2 - 1);
        foreach (PrunedMatrix<float> pruned in WeightForms.PrunedParts(matrix)) pruned.PruneToSparsity(0.6);
        float[] x = Values(random, batch * columns), dy = Values(random, batch * rows);

        for (int run = 0; run < 3; run++)
        {
            (float[] y, float[] dx) expected = Products(matrix, x, dy, batch);
            matrix.BeginSteps();
            for (int step = 0; step < 3; step++)
            {
                (float[] y, float[] dx) actual = Products(matrix, x, dy, batch);
                Assert.Equal(expected.y, actual.y);
                Assert.Equal(expected.dx, actual.dx);
            }
            matrix.EndSteps();
            // The optimizer moves the weights (and the pruner the mask) between runs.
            foreach (Parameter<float> p in matrix.Parameters)
                for (int i = 0; i < p.Length; i++) p.Value[i] += 0.25f;
            foreach (PrunedMatrix<float> pruned in WeightForms.PrunedParts(matrix)) pruned.PruneToSparsity(0.6 + 0.1 * run);
        }
    }

    private static (float[] Y, float[] Dx) Products(IWeightMatrix<float> matrix, float[] x, float[] dy, int batch)
    {
        float[] y = new float[batch * matrix.Rows], dx = new float[batch * matrix.Columns];
        Array.Fill(y, 0.5f);
        matrix.Forward(x, y, batch, accumulate: true);
        matrix.BackwardInput(dy, dx, batch, accumulate: false);
        return (y, dx);
    }

    private static float[] Values(Random random, int n) => [.. Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 2 - 1))];
}
