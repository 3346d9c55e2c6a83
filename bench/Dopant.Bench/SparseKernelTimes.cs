using Dopant.Inference;
using Dopant.Matrices;
using Dopant.Numerics;

namespace Dopant.Bench;

/// <summary>
/// `sparse-kernels [--reps 2000]`: µs per single-vector product of the sparse streaming kernels (CSR, sliced ELL,
/// windowed ELL in fp32 and int8), one thread, side by side on the same random masks: the LSTM shapes of the small and
/// medium presets at the densities of the 25x methods (S of doped forms with share 0.25 and 0.9, magnitude pruning),
/// unstructured (uniform, or "uneven": rows and columns of unequal strength), with N:M patterns of about the same
/// density and balanced in 16 × 64 tiles (uniform or uneven). "fill" is the share of windowed ELL's step lanes that
/// hold an entry.
/// </summary>
internal static class SparseKernelTimes
{
    public static int Run(string[] args)
    {
        int reps = args.Length == 2 && args[0] == "--reps" ? int.Parse(args[1]) : 2000;
        WorkerPool.SharedThreadCount = 1;
        foreach ((int rows, int columns) in new[] { (800, 200), (2600, 650) })
            foreach ((double density, string pattern) in new[]
                { (0.01, "1x1"), (0.036, "1x1"), (0.04, "1x1"), (0.036, "1x1 uneven"), (0.036, "1x1/29"), (0.036, "1x1/59"),
                  (0.036, "1x1@16x64"), (0.036, "1x1@16x64 uneven") })
            {
                BlockShape block = BlockShape.Parse(pattern.Split(' ')[0]);
                var pruned = new PrunedMatrix<float>("w", rows, columns, block);
                var random = new Random(1);
                // "uneven": rows and columns of very different strength, as in trained weights, so that magnitude
                // pruning leaves rows of very different lengths.
                bool uneven = pattern.EndsWith("uneven", StringComparison.Ordinal);
                double[] rowScale = [.. Enumerable.Range(0, rows).Select(_ => uneven ? Math.Exp(0.5 * Normal(random)) : 1)];
                double[] columnScale = [.. Enumerable.Range(0, columns).Select(_ => uneven ? Math.Exp(0.5 * Normal(random)) : 1)];
                for (int k = 0; k < pruned.Weight.Length; k++)
                    pruned.Weight.Value[k] = (float)((random.NextDouble() - 0.5) * rowScale[k / columns] * columnScale[k % columns]);
                pruned.PruneToSparsity(1 - density);
                CsrMatrix<float> csr = pruned.ToCsr();
                IStepMatrix[] kernels = [new CsrStepMatrix<ushort>(csr), new SlicedEllStepMatrix<ushort>(csr, allowGather: false), new SlicedEllStepMatrix<ushort>(csr),
                    new WindowedEllStepMatrix<float>(csr, WindowedEllStepMatrix<float>.WindowFor(block)),
                    new WindowedEllStepMatrix<float>(csr, WindowedEllStepMatrix<float>.WindowFor(block), sortRows: true),
                    new WindowedEllStepMatrix<float>(csr, WindowedEllStepMatrix<float>.WindowFor(block), sortRows: false),
                    new WindowedEllStepMatrix<float>(csr, 32),
                    new WindowedEllStepMatrix<sbyte>(csr, WindowedEllStepMatrix<float>.WindowFor(block))];
                string[] names = ["CSR", "sliced ELL scalar", "sliced ELL gather", "windowed ELL", "windowed ELL rows sorted", "windowed ELL rows in order",
                    "windowed ELL 32 columns", "windowed ELL int8"];
                var times = new double[kernels.Length];
                for (int round = 0; round < 5; round++)
                    for (int k = 0; k < kernels.Length; k++)
                        times[k] = round == 0 ? StepMatrixTimes.MedianMicroseconds(kernels[k], reps) : Math.Min(times[k], StepMatrixTimes.MedianMicroseconds(kernels[k], reps));
                var windowed = (WindowedEllStepMatrix<float>)kernels[3];
                Console.WriteLine($"{rows}x{columns} {pattern} density {density:P1} ({csr.NonZeroCount:N0} nonzeros, fill {(double)windowed.NonZeroCount / (windowed.StepCount * WindowedEllStepMatrix<float>.SliceRows):P0}): " +
                    string.Join(", ", names.Select((name, i) => $"{name} {times[i]:F2} µs ({1e3 * times[i] / csr.NonZeroCount:F2} ns/nz)")));
            }
        return 0;
    }

    private static double Normal(Random random) => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
