using System.Diagnostics;
using Dopant.Numerics;

namespace Dopant.Bench;

/// <summary>
/// `sgemm-compare [--reps N] [--shapes a,b]`: times our SGEMM/SGEMV and OpenBLAS (through bench/peers/sgemm_openblas.sh)
/// on the same shapes with 1 and 2 threads, and prints median GFLOP/s and the ratio ours/OpenBLAS.
/// </summary>
internal static class SgemmCompare
{
    public static int Run(string[] args)
    {
        int reps = 15;
        string[]? only = null;
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--reps") reps = int.Parse(args[++i]);
            else if (args[i] == "--shapes") only = args[++i].Split(',');
            else { Console.Error.WriteLine($"unknown option {args[i]}"); return 2; }
        }
        string? script = FindPeerScript();
        Console.WriteLine($"kernel {Blas.ActiveKernel}, {Environment.ProcessorCount} cores, {reps} timed calls per cell (median)");
        Console.WriteLine($"{"shape",-44} {"thr",3} {"ours",8} {"OpenBLAS",9} {"ratio",6}");
        var pools = new Dictionary<int, WorkerPool> { [1] = new WorkerPool(1), [2] = new WorkerPool(2) };
        foreach (GemmShape shape in GemmShape.Gemms.Concat(GemmShape.Gemvs))
        {
            if (only is not null && !only.Contains(shape.Name)) continue;
            var (a, b, c) = Operands.Create(shape);
            foreach (int threads in new[] { 1, 2 })
            {
                double ours = MedianGflops(shape, () => Operands.Sgemm(shape, pools[threads], a, b, c), reps);
                double? peer = script is null ? null : Peer(script, shape, threads, reps);
                Console.WriteLine($"{shape,-44} {threads,3} {ours,8:F1} {(peer is null ? "n/a" : peer.Value.ToString("F1")),9} " +
                    $"{(peer is null ? "" : (ours / peer.Value).ToString("F2")),6}");
                if (shape.Name.StartsWith("lstm-step", StringComparison.Ordinal))
                {
                    // As the LSTM runs its recurrent steps: op(B) = W_hh or W_hhᵀ packed once per window, not per call.
                    using PackedMatrix packed = Blas.PackBCore(Blas.ActiveKernel, pools[threads], shape.TransB, shape.K, shape.N, b, shape.TransB ? shape.K : shape.N);
                    double prepacked = MedianGflops(shape, () => Blas.SgemmPackedCore(pools[threads], false, shape.M, 1f, a, shape.K, packed, 0f, c, shape.N), reps);
                    Console.WriteLine($"{shape + " (B prepacked)",-44} {threads,3} {prepacked,8:F1} {(peer is null ? "n/a" : peer.Value.ToString("F1")),9} " +
                        $"{(peer is null ? "" : (prepacked / peer.Value).ToString("F2")),6}");
                }
            }
        }
        foreach (WorkerPool pool in pools.Values) pool.Dispose();
        return 0;
    }

    private static double MedianGflops(GemmShape shape, Action call, int reps)
    {
        // Warm up until the JIT has promoted the kernels (tiered compilation) and the pack buffers have grown.
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < 3 || sw.Elapsed.TotalSeconds < 0.5; i++) call();
        var times = new double[reps];
        for (int r = 0; r < reps; r++)
        {
            long t0 = Stopwatch.GetTimestamp();
            call();
            times[r] = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        }
        Array.Sort(times);
        return shape.Flops / times[reps / 2] / 1e9;
    }

    private static double? Peer(string script, GemmShape s, int threads, int reps)
    {
        string args = s.IsGemv
            ? $"{threads} gemv {s.M} {s.N} {(s.TransA ? 'T' : 'N')} {reps * 20}"
            : $"{threads} gemm {s.M} {s.N} {s.K} {(s.TransA ? 'T' : 'N')} {(s.TransB ? 'T' : 'N')} {reps}";
        var psi = new ProcessStartInfo("bash", $"{script} {args}") { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        string output = p.StandardOutput.ReadToEnd();
        string error = p.StandardError.ReadToEnd();
        p.WaitForExit();
        const string key = "median_gflops=";
        int at = output.IndexOf(key, StringComparison.Ordinal);
        if (p.ExitCode != 0 || at < 0)
        {
            Console.Error.WriteLine($"peer failed ({p.ExitCode}): {error.Trim()}");
            return null;
        }
        return double.Parse(output[(at + key.Length)..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static string? FindPeerScript()
    {
        for (string? dir = AppContext.BaseDirectory; dir is not null; dir = Path.GetDirectoryName(dir))
        {
            string candidate = Path.Combine(dir, "bench", "peers", "sgemm_openblas.sh");
            if (File.Exists(candidate)) return candidate;
        }
        Console.Error.WriteLine("bench/peers/sgemm_openblas.sh not found; printing our numbers only");
        return null;
    }
}
