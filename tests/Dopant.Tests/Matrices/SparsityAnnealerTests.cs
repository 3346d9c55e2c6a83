using Dopant.Matrices;

namespace Dopant.Tests.Matrices;

public class SparsityAnnealerTests
{
    public static TheoryData<double, double, long, int, long> Schedules() => new()
    {
        { 0.1, 0.9, 100, 10, 50 },    // s_f + (s_i − s_f) is 0.09999999999999998 in double, not 0.1
        { 0.0, 0.8, 0, 1, 1 },
        { 0.0, 1.0, 7, 100, 3 },
        { 0.3, 0.3, 5, 4, 2 },
        { 0.05, 0.95, 1000, 30, 997 },
    };

    [Theory]
    [MemberData(nameof(Schedules))]
    public void Endpoints_are_exact_and_the_schedule_never_decreases(double initial, double final, long start, int events, long frequency)
    {
        var annealer = new SparsityAnnealer(initial, final, start, events, frequency);
        Assert.Equal(start + events * frequency, annealer.EndStep);
        Assert.Equal(initial, annealer.SparsityAt(start));
        Assert.Equal(final, annealer.SparsityAt(annealer.EndStep));
        Assert.Equal(initial, annealer.SparsityAt(0));
        Assert.Equal(initial, annealer.SparsityAt(start - 1));
        Assert.Equal(final, annealer.SparsityAt(annealer.EndStep + 1));
        Assert.Equal(final, annealer.SparsityAt(long.MaxValue));

        double previous = double.NegativeInfinity;
        for (long t = Math.Max(0, start - 3); t <= annealer.EndStep + 3; t++)
        {
            double s = annealer.SparsityAt(t);
            Assert.True(s >= previous, $"s({t}) = {s:R} < s({t - 1}) = {previous:R}.");
            Assert.InRange(s, initial, final);
            previous = s;
        }
    }

    [Theory]
    [MemberData(nameof(Schedules))]
    public void Interior_values_follow_the_cubic_of_Zhu_and_Gupta(double initial, double final, long start, int events, long frequency)
    {
        var annealer = new SparsityAnnealer(initial, final, start, events, frequency);
        long span = events * frequency;
        for (long t = start; t <= annealer.EndStep; t++)
        {
            double remaining = 1 - (double)(t - start) / span;
            double expected = final + (initial - final) * Math.Pow(remaining, 3);
            Assert.Equal(expected, annealer.SparsityAt(t), 1e-15);
        }
    }

    [Fact]
    public void Pruning_steps_are_every_frequency_steps_from_start_to_end()
    {
        var annealer = new SparsityAnnealer(0, 0.9, 10, 4, 5);
        long[] steps = Enumerable.Range(0, 60).Select(t => (long)t).Where(annealer.IsPruningStep).ToArray();
        Assert.Equal([10L, 15, 20, 25, 30], steps);
    }

    [Fact]
    public void Apply_prunes_a_matrix_at_pruning_steps_only()
    {
        var annealer = new SparsityAnnealer(0, 0.75, 2, 3, 2); // pruning steps 2, 4, 6, 8
        var matrix = new PrunedMatrix<float>("w", 8, 10);
        WeightMatrixConformance.Randomize(matrix, seed: 1);
        long lastEvent = -1;
        for (long step = 0; step <= 10; step++)
        {
            annealer.Apply(matrix, step);
            if (annealer.IsPruningStep(step)) lastEvent = step;
            long expected = lastEvent < 0 ? 0 : (long)Math.Round(annealer.SparsityAt(lastEvent) * 80, MidpointRounding.AwayFromZero);
            Assert.Equal(expected, matrix.PrunedCount);
        }
        Assert.Equal(0.75, matrix.Sparsity);
    }

    [Fact]
    public void Invalid_arguments_are_rejected_with_their_names()
    {
        void Throws(string name, Action create)
        {
            var ex = Assert.Throws<ArgumentOutOfRangeException>(create);
            Assert.Equal(name, ex.ParamName);
            Assert.False(string.IsNullOrWhiteSpace(ex.Message));
        }
        Throws("initialSparsity", () => _ = new SparsityAnnealer(-0.1, 0.5, 0, 1, 1));
        Throws("initialSparsity", () => _ = new SparsityAnnealer(double.NaN, 0.5, 0, 1, 1));
        Throws("finalSparsity", () => _ = new SparsityAnnealer(0.5, 0.4, 0, 1, 1));
        Throws("finalSparsity", () => _ = new SparsityAnnealer(0, 1.01, 0, 1, 1));
        Throws("startStep", () => _ = new SparsityAnnealer(0, 0.5, -1, 1, 1));
        Throws("pruningEvents", () => _ = new SparsityAnnealer(0, 0.5, 0, 0, 1));
        Throws("frequency", () => _ = new SparsityAnnealer(0, 0.5, 0, 1, 0));
        Throws("frequency", () => _ = new SparsityAnnealer(0, 0.5, long.MaxValue - 5, 2, 3));
        Assert.Contains("un-prune", Assert.Throws<ArgumentOutOfRangeException>(() => new SparsityAnnealer(0.5, 0.4, 0, 1, 1)).Message);
    }
}
