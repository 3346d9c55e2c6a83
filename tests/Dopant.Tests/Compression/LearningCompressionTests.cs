using Dopant.Compression;

namespace Dopant.Tests.Compression;

public class LearningCompressionTests
{
    // L(w) = ½ Σ h_i (w_i − a_i)²: the strongly curved entries 2 and 3 matter most although 0 and 1 are larger, so
    // magnitude pruning of the trained weights (direct compression) keeps the wrong pair.
    private static readonly double[] Target = [1.0, 0.95, 0.5, 0.45, 0.3, 0.2, 0.1, 0.05];
    private static readonly double[] Curvature = [0.1, 0.1, 4, 4, 1, 1, 1, 1];

    private static double Loss(ReadOnlySpan<float> w)
    {
        double sum = 0;
        for (int i = 0; i < w.Length; i++) sum += 0.5 * Curvature[i] * (w[i] - Target[i]) * (w[i] - Target[i]);
        return sum;
    }

    // Gradient descent on L(w) + penalty through the weight's gradient array, as a trainer would run the L step.
    private sealed class QuadraticLearner(CompressibleWeight weight) : ILearningStep
    {
        public int Steps { get; private set; }

        public void Learn(int iteration, LearningCompressionPenalty penalty)
        {
            double rate = 0.5 / (Curvature.Max() + penalty.Mu);
            for (int s = 0; s < (iteration == 1 ? 2000 : 1000); s++)
            {
                for (int i = 0; i < weight.Values.Length; i++) weight.Gradient![i] = (float)(Curvature[i] * (weight.Values[i] - Target[i]));
                penalty.AddGradients();
                for (int i = 0; i < weight.Values.Length; i++) weight.Values[i] -= (float)(rate * weight.Gradient![i]);
                Steps++;
            }
        }

        public double ValidationLoss() => Loss(weight.Values);
    }

    private static CompressibleWeight Trained() =>
        new("w", WeightKind.LstmRecurrent, 2, 4, [.. Target.Select(t => (float)t)], new float[8]);

    private static double BestLossOverSupports(int keep)
    {
        double best = double.PositiveInfinity;
        for (int mask = 0; mask < 1 << Target.Length; mask++)
        {
            if (System.Numerics.BitOperations.PopCount((uint)mask) != keep) continue;
            var w = new float[Target.Length];
            for (int i = 0; i < w.Length; i++) w[i] = (mask >> i & 1) == 1 ? (float)Target[i] : 0;
            best = Math.Min(best, Loss(w));
        }
        return best;
    }

    [Fact]
    public void LC_reaches_the_compressed_optimum_where_direct_compression_misses_it()
    {
        CompressibleWeight w = Trained();
        var scheme = new CompressionScheme(LayerSelector.All, new MagnitudePrune(0.25));
        var options = new LearningCompressionOptions { Iterations = 40, Mu0 = 0.05, MuGrowth = 1.25 };
        LearningCompressionState state = new LearningCompressionOptimizer(scheme, [w], options).Run(new QuadraticLearner(w));

        double direct = state.History[0].ValidationLoss, optimum = BestLossOverSupports(2);
        Assert.True(direct > 1.5 * optimum, $"the test problem should fool direct compression: {direct} against {optimum}");
        Assert.Equal(optimum, Loss(w.Values), 5);
        Assert.Equal(2, w.Values.Count(v => v != 0));
        Assert.NotEqual(0, w.Values[2]);
        Assert.NotEqual(0, w.Values[3]);
        Assert.Equal(state.BestLoss, Loss(w.Values), 9);
        Assert.Equal(41, state.History.Count);
        Assert.True(state.History[^1].Distance < state.History[1].Distance, "w should be drawn to its compressed form");
        Assert.Equal(0.05 * Math.Pow(1.25, 40), state.Mu, 9);
    }

    [Fact]
    public void A_resumed_run_gives_the_uninterrupted_result()
    {
        var scheme = new CompressionScheme(LayerSelector.All, new MagnitudePrune(0.25));
        var options = new LearningCompressionOptions { Iterations = 8, Mu0 = 0.05, MuGrowth = 1.5 };
        CompressibleWeight straight = Trained();
        LearningCompressionState full = new LearningCompressionOptimizer(scheme, [straight], options).Run(new QuadraticLearner(straight));

        string path = Path.Combine(Path.GetTempPath(), $"dopant-lc-{Guid.NewGuid():N}.safetensors");
        try
        {
            CompressibleWeight first = Trained();
            var cancel = new CancellationTokenSource();
            var saved = new List<int>();
            void Save(LearningCompressionState s)
            {
                s.Save(path, [("w", first.Values, [2, 4])]);
                saved.Add(s.Iteration);
                if (s.Iteration == 3) cancel.Cancel();
            }
            Assert.ThrowsAny<OperationCanceledException>(() =>
                new LearningCompressionOptimizer(scheme, [first], options).Run(new QuadraticLearner(first), null, Save, null, cancel.Token));
            Assert.Equal([0, 1, 2, 3], saved);

            CompressibleWeight resumed = Trained();
            Array.Clear(resumed.Values);
            LearningCompressionState state = LearningCompressionState.Load(path, [("w", resumed.Values)]);
            Assert.Equal(3, state.Iteration);
            LearningCompressionState end = new LearningCompressionOptimizer(scheme, [resumed], options).Run(new QuadraticLearner(resumed), state);
            Assert.Equal(straight.Values, resumed.Values);
            Assert.Equal(full.History.Select(h => h.ValidationLoss), end.History.Select(h => h.ValidationLoss));
            Assert.Throws<InvalidDataException>(() => LearningCompressionState.Load(path, [("other", new float[8])]));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void The_penalty_gradient_is_the_derivative_of_its_value()
    {
        CompressibleWeight w = Trained();
        var penalty = new LearningCompressionPenalty([w], [[0.5f, 0, 0, 1, 0, 0.25f, 0, 0]], 0.7);
        penalty.AddGradients(gradientScale: 0.5);
        for (int i = 0; i < 8; i++)
        {
            const float h = 1e-3f;
            float keep = w.Values[i];
            w.Values[i] = keep + h;
            double up = penalty.Value();
            w.Values[i] = keep - h;
            double down = penalty.Value();
            w.Values[i] = keep;
            Assert.Equal((up - down) / (2 * h), w.Gradient![i] * 0.5, 3);
        }
    }
}
