using Dopant.Compression;
using Dopant.IO;
using Dopant.Tests.Data;
using Dopant.Tests.IO;

namespace Dopant.Tests.Compression;

/// <summary>
/// Mutates a saved L-C state (<c>out.safetensors.lc</c>, which <c>compress --resume</c> reads) hundreds of times:
/// every load fails with <see cref="InvalidDataException"/> or gives a state that a resumed run either continues or
/// refuses with <see cref="ArgumentException"/>, never an index or key error half-way through.
/// </summary>
public sealed class LearningCompressionStateFuzzTests : IDisposable
{
    private const int Iterations = 400;
    private readonly TemporaryFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private sealed class SquaresLearner(CompressibleWeight weight) : ILearningStep
    {
        public void Learn(int iteration, LearningCompressionPenalty penalty)
        {
        }

        public double ValidationLoss() => weight.Values.Sum(v => (double)v * v);
    }

    private static CompressibleWeight Weight() => new("w", WeightKind.LstmRecurrent, 2, 4, [1, -2, 3, -4, 0.5f, 0.25f, -1, 2], new float[8]);

    [Fact]
    public void Mutated_states_load_and_resume_or_are_refused_with_a_clear_exception()
    {
        var scheme = new CompressionScheme(LayerSelector.All, new MagnitudePrune(0.5));
        var options = new LearningCompressionOptions { Iterations = 3, Mu0 = 0.1 };
        string path = Path.Combine(_folder.Path, "run.safetensors.lc");
        CompressibleWeight trained = Weight();
        new LearningCompressionOptimizer(scheme, [trained], options with { Iterations = 1 }).Run(new SquaresLearner(trained), null,
            s => s.Save(path, [("w", trained.Values, [2, 4])]));
        SafeTensorsFile seed = SafeTensorsFile.Load(path);
        var mutator = new JsonMutator(["iteration", "Iteration", "Mu", "History", "BestLoss", "Run"]);
        var random = new Random(99);

        for (int iteration = 0; iteration < Iterations; iteration++)
        {
            var tensors = seed.Tensors.ToList();
            var metadata = new Dictionary<string, string>(seed.Metadata);
            string change;
            if (random.Next(2) == 0)
            {
                (metadata["dopant.lc"], change) = mutator.Mutate(metadata["dopant.lc"], random);
            }
            else
            {
                int at = random.Next(tensors.Count);
                SafeTensor t = tensors[at];
                byte[] data = t.Data.ToArray();
                (tensors[at], change) = random.Next(3) switch
                {
                    0 => (SafeTensor.FromBytes(t.Name, SafeTensorsDType.Int32, data, [.. t.Shape]), $"{t.Name} retyped I32"),
                    1 => (SafeTensor.FromBytes(t.Name, t.DType, data[..^4], [t.ElementCount - 1]), $"{t.Name} one value short"),
                    _ => (SafeTensor.FromBytes(t.Name.Replace("/w", "/v"), t.DType, data, [.. t.Shape]), $"{t.Name} renamed"),
                };
            }
            string description = $"iteration {iteration}: {change}";
            try
            {
                new SafeTensorsFile(tensors, metadata).Save(path);
            }
            catch (ArgumentException)
            {
                continue;
            }

            CompressibleWeight resumed = Weight();
            LearningCompressionState state;
            try
            {
                state = LearningCompressionState.Load(path, [("w", resumed.Values)]);
            }
            catch (InvalidDataException e)
            {
                Assert.True(e.Message.Contains(path) && !e.Message.Contains('\n'), $"{description}: {e.Message}");
                continue;
            }
            catch (Exception e)
            {
                Assert.Fail($"{description}: loading threw {e.GetType().Name}: {e.Message}");
                throw;
            }
            try
            {
                new LearningCompressionOptimizer(scheme, [resumed], options).Run(new SquaresLearner(resumed), state);
            }
            catch (ArgumentException)
            {
                // The state does not cover the weights: the run says so.
            }
            catch (Exception e)
            {
                Assert.Fail($"{description}: resuming threw {e.GetType().Name}: {e.Message}");
            }
        }
    }
}
