using System.Globalization;

/// <summary>Which form the LSTM's recurrent matrices take (bench/pytorch/word_lm.py's --method).</summary>
enum RecurrentMethod { Dense, Kp, Dkp, Lmf, Dlmf, Prune }

/// <summary>How the LSTM runs on its weight matrices.</summary>
enum LstmKernel
{
    /// <summary>TorchSharp's nn.LSTM, i.e. libtorch's own LSTM kernel (forward and backward).</summary>
    Native,

    /// <summary>A hand-written cell loop of TorchSharp tensor operations, differentiated by autograd.</summary>
    Loop,
}

/// <summary>
/// The peer's settings, parsed once from the command line. A preset supplies Zaremba's configuration as Dopant and
/// word_lm.py define it (small: 2 x 200, bptt 20, no dropout, init 0.1; medium: 2 x 650, bptt 35, dropout 0.5, init 0.05;
/// large: 2 x 1500, bptt 35, dropout 0.65, init 0.04, clip 10; all batch 20, clip 5 unless said, SGD at lr 1); the other
/// options override single fields.
/// </summary>
sealed record PeerOptions
{
    public const string Usage = """
        TorchSharpPeer: training throughput of a Zaremba word LSTM LM in TorchSharp, as one JSON line on stdout.
          [--preset small|medium|large] [--hidden H] [--layers L] [--bptt T] [--dropout P] [--init A] [--batch-size B]
          [--data DIR | --vocab V] [--threads N] [--batches N] [--warmup N] [--seed S]
          [--method dense|kp|dkp|lmf|dlmf|prune] [--factor F] [--doping-share S] [--phase start|annealed]
          [--kernel native|loop] | --self-check
        --data: a PTB-format folder (train/valid/test.txt; the vocabulary of all three, windows of train.txt); without it,
        random tokens of a --vocab-word vocabulary (default 10000). --batches: timed windows (default 30), after --warmup
        untimed ones (default 3). --method other than dense: the recurrent matrices in that compressed form at --factor
        (default 25), --doping-share (dkp, dlmf; default 0.25), masks at --phase (dkp, dlmf, prune; default annealed).
        --kernel: native (default) runs libtorch's LSTM on the materialized weights, loop a hand-written cell loop.
        --self-check: checks the forms and both kernels on a tiny model and exits.
        """;

    public string Preset { get; init; } = "small";
    public int Hidden { get; init; }
    public int Layers { get; init; }
    public int Bptt { get; init; }
    public double Dropout { get; init; }
    public double Init { get; init; }
    public int BatchSize { get; init; } = 20;
    public double Clip { get; init; } = 5.0;
    public double LearningRate { get; init; } = 1.0;
    public string? Data { get; init; }
    public int Vocab { get; init; } = 10000;
    public int Threads { get; init; } = 2;
    public int Batches { get; init; } = 30;
    public int Warmup { get; init; } = 3;
    public long Seed { get; init; } = 1;
    public RecurrentMethod Method { get; init; } = RecurrentMethod.Dense;
    public double Factor { get; init; } = 25.0;
    public double DopingShare { get; init; } = 0.25;
    public bool Annealed { get; init; } = true;
    public LstmKernel Kernel { get; init; } = LstmKernel.Native;
    public bool SelfCheck { get; init; }

    /// <summary>The method as word_lm.py spells it.</summary>
    public string MethodName => Method.ToString().ToLowerInvariant();

    /// <summary>The kernel as --kernel spells it.</summary>
    public string KernelName => Kernel.ToString().ToLowerInvariant();

    /// <summary>dkp and dlmf: a Kronecker or low-rank product plus a masked sparse part.</summary>
    public bool Doped => Method is RecurrentMethod.Dkp or RecurrentMethod.Dlmf;

    /// <summary>The phase the JSON line reports, as word_lm.py's effective_phase: "dense" for dense, "start" for kp and
    /// lmf (nothing to anneal), otherwise --phase.</summary>
    public string Phase => Method switch
    {
        RecurrentMethod.Dense => "dense",
        RecurrentMethod.Kp or RecurrentMethod.Lmf => "start",
        _ => Annealed ? "annealed" : "start",
    };

    /// <summary>Parses the command line; throws <see cref="ArgumentException"/> with a one-line message on bad input.</summary>
    public static PeerOptions Parse(IReadOnlyList<string> args)
    {
        var values = new Dictionary<string, string>();
        bool selfCheck = false;
        for (int i = 0; i < args.Count; i++)
        {
            string name = args[i];
            if (name == "--self-check") { selfCheck = true; continue; }
            if (!name.StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Count)
                throw new ArgumentException($"unexpected argument '{name}' (options take one value each)");
            values[name[2..]] = args[++i];
        }

        string preset = Take(values, "preset") ?? "small";
        var options = preset switch
        {
            "small" => new PeerOptions { Preset = "small", Hidden = 200, Layers = 2, Bptt = 20, Dropout = 0.0, Init = 0.1 },
            "medium" => new PeerOptions { Preset = "medium", Hidden = 650, Layers = 2, Bptt = 35, Dropout = 0.5, Init = 0.05 },
            "large" => new PeerOptions { Preset = "large", Hidden = 1500, Layers = 2, Bptt = 35, Dropout = 0.65, Init = 0.04, Clip = 10 },
            _ => throw new ArgumentException($"--preset must be small, medium or large (got '{preset}')"),
        };
        string? method = Take(values, "method");
        string? phase = Take(values, "phase");
        string? kernel = Take(values, "kernel");
        options = options with
        {
            Hidden = TakeInt(values, "hidden", options.Hidden),
            Layers = TakeInt(values, "layers", options.Layers),
            Bptt = TakeInt(values, "bptt", options.Bptt),
            Dropout = TakeDouble(values, "dropout", options.Dropout),
            Init = TakeDouble(values, "init", options.Init),
            BatchSize = TakeInt(values, "batch-size", options.BatchSize),
            Data = Take(values, "data"),
            Vocab = TakeInt(values, "vocab", options.Vocab),
            Threads = TakeInt(values, "threads", options.Threads),
            Batches = TakeInt(values, "batches", options.Batches),
            Warmup = TakeInt(values, "warmup", options.Warmup),
            Seed = TakeInt(values, "seed", (int)options.Seed),
            Factor = TakeDouble(values, "factor", options.Factor),
            DopingShare = TakeDouble(values, "doping-share", options.DopingShare),
            Method = method is null ? RecurrentMethod.Dense
                : Enum.TryParse(method, ignoreCase: true, out RecurrentMethod m) && method.All(char.IsLetter) ? m
                : throw new ArgumentException($"--method must be dense, kp, dkp, lmf, dlmf or prune (got '{method}')"),
            Annealed = phase switch
            {
                null or "annealed" => true,
                "start" => false,
                _ => throw new ArgumentException($"--phase must be start or annealed (got '{phase}')"),
            },
            Kernel = kernel switch
            {
                null or "native" => LstmKernel.Native,
                "loop" => LstmKernel.Loop,
                _ => throw new ArgumentException($"--kernel must be native or loop (got '{kernel}')"),
            },
            SelfCheck = selfCheck,
        };
        if (values.Count > 0) throw new ArgumentException($"unknown option --{values.Keys.First()}");
        if (options.Data is not null && args.Contains("--vocab"))
            throw new ArgumentException("--vocab and --data exclude each other (the data sets the vocabulary)");
        if (options.Hidden < 1 || options.Layers < 1 || options.Bptt < 1 || options.BatchSize < 1 || options.Vocab < 2)
            throw new ArgumentException("--hidden, --layers, --bptt and --batch-size must be positive, --vocab at least 2");
        if (options.Threads < 1 || options.Batches < 1 || options.Warmup < 0)
            throw new ArgumentException("--threads and --batches must be positive, --warmup not negative");
        if (options.Dropout is < 0 or >= 1) throw new ArgumentException($"--dropout must be in [0, 1) (got {options.Dropout:g})");
        if (options.Method != RecurrentMethod.Dense && !(options.Factor > 1))
            throw new ArgumentException($"--factor must be above 1 (got {options.Factor:g})");
        if (options.Doped && options.DopingShare is <= 0 or >= 1)
            throw new ArgumentException($"--doping-share must be between 0 and 1 (got {options.DopingShare:g})");
        return options;
    }

    static string? Take(Dictionary<string, string> values, string name) =>
        values.Remove(name, out string? value) ? value : null;

    static int TakeInt(Dictionary<string, string> values, string name, int fallback) =>
        Take(values, name) is not { } text ? fallback
        : int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) ? value
        : throw new ArgumentException($"--{name} takes an integer (got '{text}')");

    static double TakeDouble(Dictionary<string, string> values, string name, double fallback) =>
        Take(values, name) is not { } text ? fallback
        : double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) ? value
        : throw new ArgumentException($"--{name} takes a number (got '{text}')");
}
