// Training throughput of a Zaremba word LSTM LM in TorchSharp (libtorch on the CPU), the library a .NET user would pick
// instead of Dopant: the TorchSharp peer of bench/compare_training.py, beside PyTorch's bench/pytorch/word_lm.py. Run it
// through run.sh (libtorch 2.10 needs a newer C runtime than Debian 12's):
//
//   bench/peers/torchsharp/run.sh --preset medium --data ~/.cache/dopant/brown-ptb --batches 30 --threads 2
//   bench/peers/torchsharp/run.sh --preset medium --method dkp --factor 25 --doping-share 0.25 --phase annealed
//   bench/peers/torchsharp/run.sh --self-check
//
// It trains --warmup untimed windows, then --batches timed ones (batch 20, fwd + bwd + clip + SGD, the state carried
// over windows), and prints one JSON line on stdout: tokens_per_s, method, factor, phase, doping_share (doped forms),
// kernel, recurrent_parameters, recurrent_dense_parameters, recurrent_forms (compressed forms), threads,
// omp_wait_policy, preset, hidden, layers, vocab, bptt, batch_size, dropout, init, clip, data, libtorch_version,
// torchsharp_version, tokens, seconds, ms_per_window, first_loss, last_loss, elapsed_s. Anything else goes to stderr.
//
// --method compresses the LSTM's recurrent matrices (W_ih and W_hh of every layer, 4H x H each) exactly as word_lm.py
// does (its docstring defines kp, dkp, lmf, dlmf and prune, their budgets, ranks, Kronecker shapes, masks and init
// spreads; RecurrentForms.cs follows it line for line): every forward materializes each W from its parts and runs the
// LSTM on it, so only the materialization differs from dense. LstmStack.cs says how W reaches libtorch's LSTM kernel.
using System.Diagnostics;
using System.Reflection;
using System.Text.Encodings.Web;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

if (args.Contains("--help") || args.Contains("-h"))
{
    Console.WriteLine(PeerOptions.Usage);
    return 0;
}
PeerOptions options;
try
{
    options = PeerOptions.Parse(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine($"TorchSharpPeer: error: {e.Message}\n{PeerOptions.Usage}");
    return 2;
}
torch.set_num_threads(options.Threads);
if (options.SelfCheck) return SelfCheck.Run();
try
{
    // Relaxed escaping keeps the forms' "+" readable; the line is parsed, never embedded in HTML.
    var json = new JsonSerializerOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    Console.WriteLine(JsonSerializer.Serialize(ThroughputRun.Run(options), json));
    return 0;
}
catch (Exception e) when (e is ArgumentException or IOException)
{
    Console.Error.WriteLine($"TorchSharpPeer: error: {e.Message}");
    return 2;
}
catch (ArithmeticException e)
{
    Console.Error.WriteLine($"TorchSharpPeer: {e.Message}");
    return 1;
}

/// <summary>The timed training run behind the JSON line.</summary>
static class ThroughputRun
{
    public static Dictionary<string, object?> Run(PeerOptions options)
    {
        var started = Stopwatch.StartNew();
        torch.manual_seed(options.Seed);
        var windows = options.Data is { } folder
            ? TokenWindows.FromCorpus(folder, options.BatchSize)
            : TokenWindows.Random(options.Vocab, options.Warmup + options.Batches, options.Bptt, options.BatchSize,
                options.Seed);
        var forms = CreateForms(options);
        var model = new WordLanguageModel(windows.VocabularySize, options, forms);
        Console.Error.WriteLine(
            $"torchsharp {TorchSharpVersion} (libtorch {torch.__version__}), {torch.get_num_threads()} threads; data {windows.Source}: "
            + $"vocab {windows.VocabularySize}, {windows.Rows} x {options.BatchSize}; {options.Layers} x {options.Hidden}, "
            + $"bptt {options.Bptt}, dropout {options.Dropout:g}; {options.MethodName} ({options.Phase}), kernel {options.KernelName}: "
            + $"{model.Rnn.RecurrentParameters} of {model.Rnn.RecurrentDenseParameters} recurrent parameters"
            + (model.Rnn.Descriptions is { } lines ? "; " + string.Join("; ", lines) : ""));

        // word_lm.py's bench(): warm-up windows, then timed ones, cycling over the data (a fresh state on wrapping).
        var starts = windows.Starts(options.Bptt);
        var state = model.InitialState(options.BatchSize);
        var losses = new List<float>();
        long tokens = 0;
        var timer = new Stopwatch();
        for (int k = 0; k < options.Warmup + options.Batches; k++)
        {
            if (k == options.Warmup) timer.Start();
            long start = starts[k % starts.Count];
            if (k > 0 && start == 0)
            {
                state.H.Dispose();
                state.C.Dispose();
                state = model.InitialState(options.BatchSize);
            }
            using var scope = NewDisposeScope();
            var (inputs, targets) = windows.Window(start, options.Bptt);
            losses.Add(model.TrainWindow(inputs, targets, ref state, options.Kernel));
            if (k >= options.Warmup) tokens += targets.numel();
        }
        timer.Stop();
        double seconds = timer.Elapsed.TotalSeconds;
        foreach (float loss in losses)
        {
            if (!float.IsFinite(loss)) throw new ArithmeticException("a window's loss is not finite");
        }

        var result = new Dictionary<string, object?>
        {
            ["peer"] = "torchsharp",
            ["torchsharp_version"] = TorchSharpVersion,
            ["libtorch_version"] = torch.__version__,
            ["threads"] = torch.get_num_threads(),
            ["omp_wait_policy"] = Environment.GetEnvironmentVariable("OMP_WAIT_POLICY"),
            ["preset"] = options.Preset,
            ["hidden"] = options.Hidden,
            ["layers"] = options.Layers,
            ["vocab"] = windows.VocabularySize,
            ["bptt"] = options.Bptt,
            ["batch_size"] = options.BatchSize,
            ["dropout"] = options.Dropout,
            ["init"] = options.Init,
            ["clip"] = options.Clip,
            ["data"] = windows.Source,
            ["parameters"] = model.ParameterCount,
            ["method"] = options.MethodName,
            ["factor"] = options.Method == RecurrentMethod.Dense ? null
                : options.Factor == Math.Floor(options.Factor) ? (long)options.Factor : options.Factor,
            ["phase"] = options.Phase,
            ["kernel"] = options.KernelName,
            ["recurrent_parameters"] = model.Rnn.RecurrentParameters,
            ["recurrent_dense_parameters"] = model.Rnn.RecurrentDenseParameters,
        };
        if (options.Doped) result["doping_share"] = options.DopingShare;
        if (model.Rnn.Descriptions is { } descriptions) result["recurrent_forms"] = descriptions;
        result["mode"] = "bench";
        result["bench_batches"] = options.Batches;
        result["warmup"] = options.Warmup;
        result["tokens"] = tokens;
        result["seconds"] = seconds;
        result["tokens_per_s"] = tokens / seconds;
        result["ms_per_window"] = seconds * 1000 / options.Batches;
        result["first_loss"] = losses[0];
        result["last_loss"] = losses[^1];
        result["elapsed_s"] = started.Elapsed.TotalSeconds;
        return result;
    }

    /// <summary>[W_ih_l0, W_hh_l0, W_ih_l1, ...] in the method's form (masks drawn from a generator seeded with --seed),
    /// or null for dense.</summary>
    public static IReadOnlyList<IRecurrentForm>? CreateForms(PeerOptions options)
    {
        if (options.Method == RecurrentMethod.Dense) return null;
        var generator = new Generator((ulong)options.Seed);
        int rows = 4 * options.Hidden;
        return [.. Enumerable.Range(0, 2 * options.Layers).Select(_ => RecurrentForms.Create(options, rows, options.Hidden, generator))];
    }

    public static string TorchSharpVersion =>
        typeof(torch).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
        ?? typeof(torch).Assembly.GetName().Version?.ToString() ?? "unknown";
}
