using System.CommandLine;
using System.Text.Json;
using Dopant.Compression;
using Dopant.Data;
using Dopant.Inference;
using Dopant.Matrices;
using Dopant.Models;
using Dopant.Numerics;
using Dopant.Training;

namespace Dopant.Cli.Commands;

/// <summary><c>dopant bench train</c>: training throughput of the presets; <c>dopant bench infer</c>: streaming inference cost.</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var bench = new Command("bench", "Measure speed.");
        var train = new Command("train", "Training throughput (target tokens per second) of presets on a PTB-format folder, dense and in compressed forms, beside the machine's FMA peak.");
        var presets = new Option<string[]>("--preset") { Description = "Presets to measure (repeatable).", DefaultValueFactory = _ => ["small", "medium"], AllowMultipleArgumentsPerToken = true };
        presets.AcceptOnlyFromAmong([.. TrainingOptions.PresetNames]);
        var data = new Option<string?>("--data") { Description = "PTB-format folder; default: the cached brown-ptb." };
        var windows = new Option<int>("--windows") { Description = "Timed windows per preset (after 3 warm-up windows).", DefaultValueFactory = _ => 30 };
        var repeats = new Option<int>("--repeats") { Description = "Timed runs per preset; the median is reported.", DefaultValueFactory = _ => 3 };
        var methods = new Option<string[]>("--method")
        {
            Description = $"Also time these compression methods ({string.Join(", ", CompressionMethods.All)}) of the recurrent matrices at --factor, " +
                "each in two phases: at the anneal's start (S and pruned parts still dense) and annealed (cut to their final sparsity); the runs alternate with dense's.",
            AllowMultipleArgumentsPerToken = true,
        };
        var factor = new Option<double>("--factor") { Description = "With --method: the compression factor.", DefaultValueFactory = _ => 25 };
        var share = new Option<double>("--doping-share") { Description = "With doped methods: the share of the budget that S keeps.", DefaultValueFactory = _ => LstmCompression.DefaultDopingShare };
        var block = BlockOption.Create("With prune and doped --method: prune in blocks of RxC (e.g. 16x1), or tiles (e.g. 1x1@16x64).");
        var matrices = new Option<string?>("--matrices") { Description = "With --method: a regular expression over the weight matrices' names to compress, e.g. '.*' for the whole model (default: the recurrent ones)." };
        var matrixFactors = MatrixRuleOption.Factors();
        var matrixMethods = MatrixRuleOption.Methods();
        var tied = new Option<bool>("--tied") { Description = "With --method: the compressed models' decoder tied to the embedding (one matrix, compressed once); dense stays untied." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object per preset and form." };
        var threads = ThreadsOption.Create();
        foreach (Option o in new Option[] { presets, data, windows, repeats, methods, factor, share, block, matrices, matrixFactors, matrixMethods, tied, json, threads }) train.Options.Add(o);
        train.SetAction(parse =>
        {
            ThreadsOption.Apply(parse, threads);
            int timed = parse.GetValue(windows), runs = parse.GetValue(repeats);
            if (timed < 1 || runs < 1) throw new ArgumentException("--windows and --repeats must be at least 1.");
            string folder = DataCommand.ResolveDataFolder(parse.GetValue(data));
            PtbCorpus corpus = PtbCorpus.Load(folder);
            LstmCompression[] compressions = [.. (parse.GetValue(methods) ?? []).Distinct().Select(m => new LstmCompression(CompressionMethods.Parse(m), parse.GetValue(factor), parse.GetValue(share))
                { Matrices = parse.GetValue(matrices), MatrixFactors = MatrixRuleOption.Get(parse, matrixFactors), MatrixMethods = MatrixRuleOption.Get(parse, matrixMethods) }
                is var c && c.TakesBlocks ? c with { Block = parse.GetValue(block) } : c)];
            foreach (LstmCompression c in compressions) c.Validate();
            if (compressions.Length == 0 && (parse.GetValue(tied) || parse.GetValue(matrices) is not null || MatrixRuleOption.Get(parse, matrixFactors) is not null
                || MatrixRuleOption.Get(parse, matrixMethods) is not null))
                throw new ArgumentException("--matrices, --matrix-factor, --matrix-method and --tied shape the compressed forms; give --method too.");
            double peak = FmaPeak.GigaflopsPerSecond(WorkerPool.SharedThreadCount);
            foreach (string preset in parse.GetValue(presets)!)
            {
                TrainingOptions options = TrainingOptions.FromPreset(preset);
                var forms = new List<(string Form, string Phase, LanguageModelTrainer Trainer)> { ("dense", "dense", new LanguageModelTrainer(options, corpus)) };
                foreach (LstmCompression c in compressions)
                {
                    string form = (parse.GetValue(tied) ? "tied " : "") + Describe(c);
                    // Pruning held off to the last epoch, so that a small corpus's few windows per epoch do not reach it.
                    TrainingOptions start = options with { PruneStartEpoch = 0.99 * options.Epochs, PruneEndEpoch = options.Epochs, TiedWeights = parse.GetValue(tied) };
                    forms.Add((form, "start", MethodCompressionRun.Start(c, start, null, folder).Trainer));
                    if (c.FinalSparsity > 0)
                    {
                        // Pruned straight to the final sparsity at the first step, inside the warm-up windows.
                        TrainingOptions annealed = start with { PruneStartEpoch = 0, PruneEndEpoch = 1e-9, PruneEvents = 1 };
                        forms.Add((form, "annealed", MethodCompressionRun.Start(c, annealed, null, folder).Trainer));
                    }
                }
                var samples = forms.Select(_ => new double[runs]).ToArray();
                for (int r = 0; r < runs; r++)
                    for (int f = 0; f < forms.Count; f++) samples[f][r] = forms[f].Trainer.MeasureThroughput(r == 0 ? 3 : 1, timed);
                double flops = forms[0].Trainer.Model.Config.DenseTrainingFlopsPerToken();
                double denseMedian = Median(samples[0]);
                for (int f = 0; f < forms.Count; f++)
                {
                    double median = Median(samples[f]);
                    (string form, string phase, _) = forms[f];
                    if (parse.GetValue(json))
                        Console.WriteLine(JsonSerializer.Serialize(new
                        {
                            bench = "train", preset, form, phase, sparsity = forms[f].Trainer.Sparsity, tokens_per_s = median, samples = samples[f], windows = timed, threads = WorkerPool.SharedThreadCount,
                            vs_dense = f == 0 ? (double?)null : median / denseMedian, fma_peak_gflops = peak,
                            dense_gflops = f == 0 ? median * flops / 1e9 : (double?)null, share_of_peak = f == 0 ? median * flops / 1e9 / peak : (double?)null,
                            sgemm_kernel = Blas.KernelName,
                        }));
                    else if (f == 0)
                        Console.WriteLine($"{preset,-8} {"dense",-28} {median,10:N0} tokens/s ({median * flops / 1e9:F1} GFLOP/s, {median * flops / 1e9 / peak:P0} of the {peak:F0} GFLOP/s FMA peak; " +
                            $"median of {runs} runs of {timed} windows; {WorkerPool.SharedThreadCount} threads, {Blas.KernelName} SGEMM)");
                    else
                        Console.WriteLine($"{preset,-8} {$"{form}, {phase}",-28} {median,10:N0} tokens/s ({median / denseMedian:F2}x dense)");
                }
            }
            return 0;
        });
        bench.Subcommands.Add(train);
        bench.Subcommands.Add(CreateInfer());
        return bench;
    }

    // "dkp 25x blocks 1x1@16x64 matrices .* encoder\.weight=20": the method and every setting that changes the form.
    private static string Describe(LstmCompression c) =>
        $"{c.Method.Name()} {c.Factor:0.##}x" + (c.Block is null ? "" : $" blocks {c.Block}") + (c.Concatenated ? " [W_ih|W_hh]" : "") +
        (c.Matrices is null ? "" : $" matrices {c.Matrices}") + string.Concat((c.MatrixFactors ?? []).Select(f => $" {f}")) +
        string.Concat((c.MatrixMethods ?? []).Select(m => $" {m}"));

    private static Command CreateInfer()
    {
        var infer = new Command("infer", "Streaming (batch 1) inference cost per token of a model, and its speed-up against another measured side by side.");
        var model = new Option<string?>("--model") { Description = "Model file (safetensors): a language model, or a unidirectional tagger or classifier (timed streaming, a label decided every token); or --preset." };
        var preset = new Option<string?>("--preset") { Description = "Time untrained models of this preset's architecture instead: dense, and each --method at --factor (timing depends on the shapes and nonzero counts, not the values)." };
        var methods = new Option<string[]>("--method") { Description = $"With --preset: compression methods to time against dense ({string.Join(", ", CompressionMethods.All)}; 'dense' adds the dense model at --precision); the pruned parts are cut straight to their final sparsity.", AllowMultipleArgumentsPerToken = true };
        preset.AcceptOnlyFromAmong([.. TrainingOptions.PresetNames]);
        methods.AcceptOnlyFromAmong(["dense", .. CompressionMethods.All]);
        var factor = new Option<double>("--factor") { Description = "With --method: the compression factor of each LSTM matrix.", DefaultValueFactory = _ => 25 };
        var share = new Option<double>("--doping-share") { Description = "With doped methods: the share of the budget that S keeps.", DefaultValueFactory = _ => LstmCompression.DefaultDopingShare };
        var block = BlockOption.Create("With prune and doped --method: prune in blocks of RxC (e.g. 16x1).");
        var concatenate = new Option<bool>("--concatenate") { Description = "With --method: compress each layer's [W_ih | W_hh] as one matrix." };
        var matrices = new Option<string?>("--matrices") { Description = "With --method: a regular expression over the weight matrices' names to compress, e.g. '.*' for the whole model (default: the recurrent ones)." };
        var matrixFactors = MatrixRuleOption.Factors();
        var matrixMethods = MatrixRuleOption.Methods();
        var tied = new Option<bool>("--tied") { Description = "With --preset: the compressed models' decoder tied to the embedding (one matrix, compressed once); the dense ones stay untied." };
        var against = new Option<string?>("--against") { Description = "A second model (e.g. the dense one) timed alternately in the same run." };
        var onnx = new Option<bool>("--onnx") { Description = "Also time ONNX Runtime running the reference model (the preset's dense model, or --against, else --model) exported by 'dopant export --format onnx' in fp32, with and without its head, in the same run." };
        var againstOnnx = new Option<string?>("--against-onnx") { Description = "Also time ONNX Runtime running this ONNX step file (Dopant's or PyTorch's export: an int64 token, float states fed back, logits) in the same run." };
        var againstOnnxRecurrent = new Option<string?>("--against-onnx-recurrent") { Description = "With --against-onnx: the same step without its head, timed for the recurrent part." };
        var data = new Option<string?>("--data") { Description = "PTB-format folder whose validation text is fed (default: the cached brown-ptb); for a tagger or classifier, its labeled corpus, whose validation sentences are fed one after another." };
        var tokens = new Option<int>("--tokens") { Description = "Tokens per timed pass.", DefaultValueFactory = _ => 2000 };
        var repeats = new Option<int>("--repeats") { Description = "Timed passes per model; medians are reported.", DefaultValueFactory = _ => 7 };
        var json = new Option<bool>("--json") { Description = "Print one JSON object per model." };
        var threads = ThreadsOption.Create();
        var precision = PrecisionOption.Create("How the runtime stores the dense matrices of --model (or of the --preset's compressed models, and of a second dense one when no --method is given); the reference stays fp32");
        var scoreTokens = new Option<int>("--score-tokens") { Description = "Tokens of validation text for batched scoring (tokens/s, fp32 only); 0 skips it.", DefaultValueFactory = _ => 20000 };
        var batchSize = new Option<int>("--batch-size") { Description = "Streams of batched scoring.", DefaultValueFactory = _ => 10 };
        foreach (Option o in new Option[] { model, preset, methods, factor, share, block, concatenate, matrices, matrixFactors, matrixMethods, tied, against, onnx, againstOnnx, againstOnnxRecurrent, precision, data, tokens, repeats, scoreTokens, batchSize, json, threads }) infer.Options.Add(o);
        infer.SetAction(parse =>
        {
            ThreadsOption.Apply(parse, threads);
            int count = parse.GetValue(tokens), runs = parse.GetValue(repeats);
            if (count < 1 || runs < 1) throw new ArgumentException("--tokens and --repeats must be at least 1.");
            string folder = DataCommand.ResolveDataFolder(parse.GetValue(data));
            WeightPrecision weights = PrecisionOption.Get(parse, precision);
            string suffix = weights == WeightPrecision.Float32 ? "" : $" {parse.GetValue(precision)}";
            string[] names;
            int[] text;
            IStreamingModel[] runtimes;
            LanguageModel<float>[]? models;
            int reference;
            if (parse.GetValue(preset) is string name)
            {
                if (parse.GetValue(model) is not null || parse.GetValue(against) is not null)
                    throw new ArgumentException("--preset times fresh models of the preset; drop --model and --against.");
                if (!TrainingOptions.PresetNames.Contains(name)) throw new ArgumentException($"--preset must be one of: {string.Join(", ", TrainingOptions.PresetNames)} (got '{name}').");
                string[] chosen = parse.GetValue(methods) is { Length: > 0 } given ? given : weights == WeightPrecision.Float32 ? [] : ["dense"];
                LstmCompression?[] compressions = [.. chosen.Distinct()
                    .Where(m => m != "dense" || weights != WeightPrecision.Float32)
                    .Select(m => m == "dense" ? null : new LstmCompression(CompressionMethods.Parse(m), parse.GetValue(factor), parse.GetValue(share)) { Concatenated = parse.GetValue(concatenate), Matrices = parse.GetValue(matrices), MatrixFactors = MatrixRuleOption.Get(parse, matrixFactors), MatrixMethods = MatrixRuleOption.Get(parse, matrixMethods) } is var c
                        && c.TakesBlocks ? c with { Block = parse.GetValue(block) } : c)];
                foreach (LstmCompression? c in compressions) c?.Validate();
                PtbCorpus corpus = PtbCorpus.Load(folder);
                text = corpus.Valid.ToArray();
                // The dense models stay untied: the reference a tied compressed model is measured against is the usual dense one.
                TrainingOptions options = TrainingOptions.FromPreset(name);
                TrainingOptions compressedOptions = options with { TiedWeights = parse.GetValue(tied) };
                compressedOptions.Validate();
                string tiedName = parse.GetValue(tied) ? " tied" : "";
                names = [$"{name} dense", .. compressions.Select(c => (c is null ? $"{name} dense" : $"{name}{tiedName} {Describe(c)}") + suffix)];
                runtimes = new StreamingLanguageModel[names.Length];
                models = new LanguageModel<float>[names.Length];
                for (int m = 0; m < names.Length; m++)
                {
                    LstmCompression? compression = m > 0 ? compressions[m - 1] : null;
                    LanguageModel<float> fresh = LanguageModelTrainer.CreateModel(compression is null ? options : compressedOptions, corpus.Vocabulary.Count);
                    compression?.ApplyFinal(fresh);
                    runtimes[m] = StreamingLanguageModel.From(fresh, m > 0 ? weights : WeightPrecision.Float32);
                    models[m] = fresh;
                }
                reference = 0;
            }
            else
            {
                if (parse.GetValue(methods) is { Length: > 0 }) throw new ArgumentException("--method needs --preset; a --model is timed as it is.");
                names = [parse.GetValue(model) ?? throw new ArgumentException("--model (or --preset) is required."),
                    .. parse.GetValue(against) is string other ? new[] { other } : []];
                if (names.Any(LabelerCheckpoint.Holds))
                {
                    (text, runtimes) = LabelingStreams(names, weights, parse.GetValue(data));
                    models = null;
                }
                else
                {
                    ModelCheckpoint[] checkpoints = [.. names.Select(name => ModelCheckpoint.Load(name))];
                    if (checkpoints.Any(c => c.Vocabulary.Count != checkpoints[0].Vocabulary.Count))
                        throw new ArgumentException("--model and --against have different vocabularies.");
                    text = PtbCorpus.Load(folder, checkpoints[0].Vocabulary).Valid.ToArray();
                    runtimes = [.. checkpoints.Select((c, i) => StreamingLanguageModel.From(c.Model, i == 0 ? weights : WeightPrecision.Float32))];
                    models = [.. checkpoints.Select(c => c.Model)];
                }
                names[0] += suffix;
                reference = names.Length - 1;
            }
            if (models is null && (parse.GetValue(onnx) || parse.GetValue(againstOnnx) is not null))
                throw new ArgumentException("--onnx and --against-onnx time language models; a tagger or classifier has no ONNX step file.");
            int[] validText = text;
            text = text[..Math.Min(count, text.Length)];
            if (parse.GetValue(againstOnnxRecurrent) is not null && parse.GetValue(againstOnnx) is null)
                throw new ArgumentException("--against-onnx-recurrent goes with --against-onnx.");
            using var peers = new OnnxPeers();
            if (parse.GetValue(onnx)) peers.Export(models![reference], $"ONNX Runtime {names[reference]} fp32");
            if (parse.GetValue(againstOnnx) is string file) peers.Open(file, parse.GetValue(againstOnnxRecurrent), $"ONNX Runtime {file}");
            foreach ((string peerName, IStreamingModel peer) in peers.Models)
                if (peer.VocabularySize != runtimes[0].VocabularySize)
                    throw new ArgumentException($"{peerName} has {peer.VocabularySize} logits; the model has a vocabulary of {runtimes[0].VocabularySize}.");
            IReadOnlyList<InferenceTiming> all = InferenceBenchmark.Compare([.. runtimes, .. peers.Models.Select(p => p.Model)], text, runs);
            IReadOnlyList<InferenceTiming> timings = [.. all.Take(runtimes.Length)];
            int scored = parse.GetValue(scoreTokens), streams = parse.GetValue(batchSize);
            if (scored < 0 || streams < 1) throw new ArgumentException("--score-tokens must be at least 0 and --batch-size at least 1.");
            // Batched scoring runs the fp32 training forms: it is timed only when fp32 is asked for.
            IReadOnlyList<double>? scoring = scored > 0 && weights == WeightPrecision.Float32 && models is not null
                ? InferenceBenchmark.CompareScoring(models, validText[..Math.Min(scored, validText.Length)], streams, 35, Math.Min(runs, 3))
                : null;
            for (int m = 0; m < timings.Count; m++)
            {
                InferenceTiming t = timings[m];
                bool compared = m != reference;
                double? speedup = compared ? timings[reference].RecurrentMicroseconds / t.RecurrentMicroseconds : null;
                double? totalSpeedup = compared ? timings[reference].TotalMicroseconds / t.TotalMicroseconds : null;
                long weightBytes = t.ModelWeightBytes;
                double? byteFactor = compared ? (double)timings[reference].ModelWeightBytes / weightBytes : null;
                if (parse.GetValue(json))
                    Console.WriteLine(JsonSerializer.Serialize(new
                    {
                        bench = "infer", model = names[m], mode = "streaming", tokens = text.Length, threads = WorkerPool.SharedThreadCount,
                        recurrent_us_per_token = t.RecurrentMicroseconds, total_us_per_token = t.TotalMicroseconds,
                        recurrent_weight_bytes = t.RecurrentWeightBytes, decoder_weight_bytes = t.DecoderWeightBytes,
                        weight_bytes = weightBytes, weight_byte_factor = byteFactor,
                        recurrent_gb_per_s = t.RecurrentGigabytesPerSecond, recurrent_speedup = speedup, total_speedup = totalSpeedup,
                        against = compared ? names[reference] : null,
                        scoring_tokens_per_s = scoring?[m], scoring_speedup = compared && scoring is not null ? scoring[m] / scoring[reference] : (double?)null,
                        scoring_batch_size = scoring is null ? (int?)null : streams,
                        recurrent_samples = t.RecurrentSamples, total_samples = t.TotalSamples, sgemm_kernel = Blas.KernelName,
                    }));
                else
                    Console.WriteLine($"{names[m]}: recurrent {t.RecurrentMicroseconds:F2} µs/token ({t.RecurrentWeightBytes:N0} weight bytes, {t.RecurrentGigabytesPerSecond:F1} GB/s), " +
                        $"with decoder {t.TotalMicroseconds:F2} µs/token" + (scoring is null ? "" : $", batched scoring {scoring[m]:N0} tokens/s") +
                        $"; whole model {weightBytes:N0} weight bytes" + (byteFactor is double f ? $" ({f:F1}x fewer)" : "") +
                        (speedup is double s ? $"; {s:F2}x (recurrent) and {totalSpeedup:F2}x (with decoder) against {names[reference]}" : "") +
                        (compared && scoring is not null ? $", {scoring[m] / scoring[reference]:F2}x scoring" : ""));
            }
            for (int p = 0; p < peers.Models.Count; p++)
            {
                InferenceTiming t = all[runtimes.Length + p];
                string peerName = peers.Models[p].Name;
                if (parse.GetValue(json))
                    Console.WriteLine(JsonSerializer.Serialize(new
                    {
                        bench = "infer", model = peerName, runtime = "onnxruntime", mode = "streaming", tokens = text.Length, threads = WorkerPool.SharedThreadCount,
                        recurrent_us_per_token = t.RecurrentMicroseconds, total_us_per_token = t.TotalMicroseconds,
                        recurrent_samples = t.RecurrentSamples, total_samples = t.TotalSamples,
                        dopant_recurrent_speedups = timings.Select(d => t.RecurrentMicroseconds / d.RecurrentMicroseconds).ToArray(),
                        dopant_total_speedups = timings.Select(d => t.TotalMicroseconds / d.TotalMicroseconds).ToArray(),
                        dopant_models = names,
                    }));
                else
                {
                    Console.WriteLine($"{peerName}: recurrent {t.RecurrentMicroseconds:F2} µs/token, with decoder {t.TotalMicroseconds:F2} µs/token");
                    for (int m = 0; m < timings.Count; m++)
                        Console.WriteLine($"  {names[m]} against it: {t.RecurrentMicroseconds / timings[m].RecurrentMicroseconds:F2}x (recurrent), {t.TotalMicroseconds / timings[m].TotalMicroseconds:F2}x (with decoder)");
                }
            }
            return 0;
        });
        return infer;
    }

    // Unidirectional taggers or classifiers streamed token by token over the validation sentences of their labeled
    // corpus, one after another; the first at the asked precision, the others in fp32.
    private static (int[] Text, IStreamingModel[] Runtimes) LabelingStreams(string[] files, WeightPrecision weights, string? folder)
    {
        if (!files.All(LabelerCheckpoint.Holds)) throw new ArgumentException("--model and --against must both be language models, or both taggers or classifiers.");
        string labeled = folder ?? throw new ArgumentException("Timing a tagger or classifier needs --data, the folder of its labeled corpus.");
        LabelerCheckpoint[] checkpoints = [.. files.Select(file => LabelerCheckpoint.Load(file))];
        if (checkpoints.Any(c => c.Vocabulary.Count != checkpoints[0].Vocabulary.Count))
            throw new ArgumentException("--model and --against have different vocabularies.");
        SentenceModelConfig config = checkpoints[0].Model.Config;
        LabeledCorpus corpus = LabeledCorpus.Load(labeled, config.Head == LabelHead.TokenLabels ? LabelingTask.Tagging : LabelingTask.Classification,
            checkpoints[0].Vocabulary, checkpoints[0].Labels);
        IStreamingModel[] runtimes = [.. checkpoints.Select((c, i) => new LabelingStream(StreamingLabeler.From(c.Model, i == 0 ? weights : WeightPrecision.Float32)))];
        return ([.. corpus.Valid.SelectMany(sentence => sentence.Tokens)], runtimes);
    }

    private static double Median(double[] samples)
    {
        double[] sorted = [.. samples];
        Array.Sort(sorted);
        return sorted[sorted.Length / 2];
    }
}
