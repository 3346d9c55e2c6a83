using System.CommandLine;
using Dopant.Matrices;
using Dopant.Cli.Runs;
using Dopant.Compression;
using Dopant.Data;
using Dopant.Models;
using Dopant.Training;

namespace Dopant.Cli.Commands;

/// <summary>
/// <c>dopant compress</c>: replaces the LSTM matrices of a dense model (or of a fresh one) by a compressed form and
/// trains it, annealing the sparsity of the doping matrices and applying co-matrix dropout.
/// </summary>
internal static class CompressCommand
{
    public static Command Create()
    {
        var command = new Command("compress",
            "Compress the LSTM layers (kp, dkp, lmf, dlmf, hmd, dhmd, prune) to a target factor and train, or compress any " +
            "weights by a scheme file with the L-C optimizer (--scheme); checkpoints after every epoch or iteration.");
        var method = new Option<string?>("--method") { Description = "kp, dkp, lmf, dlmf, hmd, dhmd or prune (required unless --resume)." };
        method.AcceptOnlyFromAmong([.. CompressionMethods.All]);
        var factor = new Option<double?>("--factor") { Description = "Target compression factor of each LSTM matrix, e.g. 25 (required unless --resume)." };
        var from = new Option<string?>("--model") { Description = "Dense model to start from (default: a fresh model, trained from scratch)." };
        var kronFactors = new Option<int?>("--kron-factors") { Description = "Kronecker factors for kp and dkp: 2 (A ⊗ B, default), 3 or 4 (chains A_1 ⊗ … ⊗ A_k)." };
        var share = new Option<double?>("--doping-share") { Description = $"Share of the parameter budget kept by the doping matrix S (default {LstmCompression.DefaultDopingShare})." };
        var cmr = new Option<double?>("--cmr") { Description = "Co-matrix dropout probability on S's output (default 0: on brown-ptb, doped KP at 25x lost 1.4% perplexity without it and 13.2% with 0.5)." };
        var block = BlockOption.Create("For prune and the doped methods: prune blocks of RxC entries whole (e.g. 16x1: 16 rows of one column); RxC/M keeps the same number of blocks in every M consecutive along a block row (N:M, e.g. 16x1/32 or 1x1/28); 1x1@RxC keeps single entries balanced in tiles, every row of a slice of R rows holding the same number in each window of C columns (1x1@16x64 runs windowed ELL with no padding); default single entries.");
        var concatenate = new Option<bool>("--concatenate") { Description = "Compress each layer's [W_ih | W_hh] as one matrix instead of the two separately." };
        var matrices = new Option<string?>("--matrices")
        {
            Description = "Regular expression over the state-dict names of the weight matrices to compress, matching the whole name, e.g. 'rnn\\..*|decoder\\.weight' (default: the recurrent matrices rnn.*; encoder.weight and decoder.weight may be selected).",
        };
        var matrixFactors = MatrixRuleOption.Factors();
        var matrixMethods = MatrixRuleOption.Methods();
        var scaledLowRank = new Option<bool>("--scaled-low-rank")
        {
            Description = "Scaled gradient descent for low-rank factors (lmf, hmd, dlmf, dhmd): each factor's gradient times the inverse Gram matrix of the other, " +
                "so that a step moves W as a dense step would in the factors' subspaces, whatever their scale (language models; default off).",
        };
        var cmrFinal = new Option<double?>("--cmr-final") { Description = "Anneal the co-matrix dropout probability linearly to this value over the pruning period (default: constant)." };
        var structureDropout = new Option<double?>("--structure-dropout") { Description = "Co-matrix dropout probability on the structured part's output (default 0)." };
        var distill = new Option<double?>("--distill") { Description = "Knowledge distillation: the share (0-1] of a teacher's next-word (or label) probabilities in the targets (default 0: none)." };
        var teacher = new Option<string?>("--teacher") { Description = "The teacher model of --distill (default: the --model compressed, before compression)." };
        var pruneStart = new Option<double?>("--prune-start") { Description = "Epoch at which pruning starts (default 1)." };
        var pruneEnd = new Option<double?>("--prune-end") { Description = "Epoch by which the final sparsity is reached (default 3/4 of the epochs)." };
        var pruneEvents = new Option<int?>("--prune-events") { Description = "Pruning events on the cubic schedule (default 100)." };
        var data = new Option<string?>("--data") { Description = "PTB-format folder; default: the cached brown-ptb." };
        var output = new Option<string?>("--out") { Description = "Compressed model file (safetensors), also the per-epoch checkpoint (required unless --run)." };
        var run = RunOption.Create();
        var resume = new Option<bool>("--resume") { Description = "Continue the run saved in --out (or in the --run folder)." };
        var force = new Option<bool>("--force") { Description = "Overwrite an existing --out file (with --run: delete that folder's run and start again)." };
        var json = new Option<bool>("--json") { Description = "Print the result as one JSON object on standard output." };
        var threads = ThreadsOption.Create();
        var scheme = new SchemeCompressOptions();
        foreach (Option o in scheme.All) command.Options.Add(o);
        var binder = new TrainingOptionsBinder();
        binder.AddTo(command);
        // The options that choose a compression; a resumed run takes them from its checkpoint.
        Option[] compressionOptions = [method, factor, kronFactors, from, share, block, concatenate, matrices, matrixFactors, matrixMethods, scaledLowRank, cmr, cmrFinal, structureDropout, distill, teacher, pruneStart, pruneEnd, pruneEvents];
        foreach (Option o in (Option[])[.. compressionOptions, data, output, run, resume, force, json, threads])
            command.Options.Add(o);

        command.SetAction((parse, cancellationToken) =>
        {
            ThreadsOption.Apply(parse, threads);
            string? outPath = parse.GetValue(output);
            if (parse.GetValue(scheme.Scheme) is not null || (parse.GetValue(resume) && outPath is not null && SchemeCompressOptions.IsSchemeRun(outPath)))
            {
                string path = outPath ?? throw new ArgumentException("--scheme needs --out, the compressed model file (--run is for --method runs).");
                if (parse.GetValue(run) is not null) throw new ArgumentException("--run is for --method runs; a --scheme run keeps its state beside --out.");
                if (parse.GetValue(method) is not null) throw new ArgumentException("--scheme and --method are alternatives; give one.");
                if (MatrixRuleOption.Get(parse, matrixFactors) is not null || MatrixRuleOption.Get(parse, matrixMethods) is not null)
                    throw new ArgumentException("--matrix-factor and --matrix-method belong to --method runs; a scheme gives each rule its own operator.");
                if (parse.GetValue(scaledLowRank))
                    throw new ArgumentException("--scaled-low-rank belongs to --method runs; the L-C optimizer trains a scheme's forms as they are.");
                string denseModel = parse.GetValue(from) ?? throw new ArgumentException("--scheme needs --model, the trained dense model to compress (also when resuming).");
                if (parse.GetValue(resume) && (parse.GetValue(scheme.Scheme) is not null || binder.AnyOverride(parse)))
                    throw new ArgumentException("--resume continues with the scheme and options stored by the run; drop --scheme and the other options.");
                bool labeler = LabelerCheckpoint.Holds(denseModel);
                string schemeData = labeler
                    ? parse.GetValue(data) ?? throw new ArgumentException("Compressing a tagger or classifier needs --data, the folder of its train.txt, valid.txt and test.txt.")
                    : DataCommand.ResolveDataFolder(parse.GetValue(data));
                SchemeRunSettings? settings = parse.GetValue(resume) ? null : labeler ? scheme.LabelerSettings(parse, binder, denseModel) : scheme.Settings(parse, binder);
                if (!parse.GetValue(resume) && parse.GetValue(force))
                {
                    File.Delete(path);
                    File.Delete(SchemeCompressionRun.StatePath(path));
                }
                if (labeler) SchemeCompressOptions.ExecuteLabeler(denseModel, schemeData, path, settings, parse.GetValue(resume), parse.GetValue(json), cancellationToken);
                else SchemeCompressOptions.Execute(denseModel, schemeData, path, settings, parse.GetValue(resume), parse.GetValue(json), cancellationToken);
                return Task.FromResult(0);
            }
            bool labelerResume = parse.GetValue(resume)
                && (parse.GetValue(run) is { } runFolder ? TrainingRunFolder.CheckpointOf(new RunFolder(runFolder)) : outPath) is { } saved && LabelerCheckpoint.Holds(saved);
            if (labelerResume || parse.GetValue(from) is { } start && LabelerCheckpoint.Holds(start))
            {
                if (parse.GetValue(concatenate))
                    throw new ArgumentException("--concatenate applies to language models' LSTM layers, not to a tagger or classifier.");
                string labeled = parse.GetValue(data) ?? throw new ArgumentException("Compressing a tagger or classifier needs --data, the folder of its train.txt, valid.txt and test.txt.");
                if (labelerResume)
                {
                    if (binder.AnyOverride(parse) || compressionOptions.Any(o => parse.GetResult(o) is { Implicit: false }))
                        throw new ArgumentException("--resume continues with the method and options stored in the checkpoint; drop the other options.");
                    (string resumed, TrainingRecorder? resumedRecorder) = RunOption.Resume(parse.GetValue(run), outPath, "compress");
                    LabelerCommands.Train(null, labeled, resumed, resume: true, force: false, parse.GetValue(json), resumedRecorder, cancellationToken);
                    return Task.FromResult(0);
                }
                if (parse.GetValue(scaledLowRank))
                    throw new ArgumentException("--scaled-low-rank applies to language models, not to a tagger or classifier.");
                var labelerCompression = new LstmCompression(
                    CompressionMethods.Parse(parse.GetValue(method) ?? throw new ArgumentException("--method is required (kp, dkp, lmf, dlmf, hmd, dhmd or prune).")),
                    parse.GetValue(factor) ?? throw new ArgumentException("--factor is required (the target compression factor, e.g. 25)."),
                    parse.GetValue(share) ?? LstmCompression.DefaultDopingShare, parse.GetValue(kronFactors) ?? 2) { Block = parse.GetValue(block), Matrices = parse.GetValue(matrices), MatrixFactors = MatrixRuleOption.Get(parse, matrixFactors), MatrixMethods = MatrixRuleOption.Get(parse, matrixMethods) };
                LabelerOptions stored = LabelerCheckpoint.Load(parse.GetValue(from)!).Options ?? LabelerOptions.FromPreset("tagger");
                LabelerOptions labelerOptions = binder.BindLabeler(parse, stored) with
                {
                    CoMatrixDropout = parse.GetValue(cmr) ?? 0,
                    Distillation = parse.GetValue(distill) ?? 0,
                    Teacher = TeacherPath(parse.GetValue(distill), parse.GetValue(teacher), parse.GetValue(from)),
                    PruneStartEpoch = parse.GetValue(pruneStart) ?? stored.PruneStartEpoch,
                    PruneEndEpoch = parse.GetValue(pruneEnd) ?? stored.PruneEndEpoch,
                    PruneEvents = parse.GetValue(pruneEvents) ?? stored.PruneEvents,
                };
                LabelerTrainer labeler = MethodCompressionRun.StartLabeler(labelerCompression, labelerOptions, parse.GetValue(from)!, labeled);
                string methodName = labelerCompression.Method.Name();
                (string path, TrainingRecorder? labelerRecorder) = RunOption.Start(parse.GetValue(run), outPath, "compress", $"{methodName}{labelerCompression.Factor:G}",
                    methodName, labelerCompression.Factor, parse.GetValue(force));
                LabelerCommands.Run(labeler, path, parse.GetValue(json), labelerRecorder, cancellationToken);
                return Task.FromResult(0);
            }
            string folder = DataCommand.ResolveDataFolder(parse.GetValue(data));
            LanguageModelTrainer trainer;
            string checkpoint;
            TrainingRecorder? recorder;
            if (parse.GetValue(resume))
            {
                if (binder.AnyOverride(parse) || compressionOptions.Any(o => parse.GetResult(o) is { Implicit: false }))
                    throw new ArgumentException("--resume continues with the method and options stored in the checkpoint; drop the other options.");
                (checkpoint, recorder) = RunOption.Resume(parse.GetValue(run), outPath, "compress");
                trainer = TrainCommand.Resume(checkpoint, folder);
            }
            else
            {
                if (parse.GetValue(run) is null && outPath is not null && File.Exists(outPath) && !parse.GetValue(force))
                    throw new ArgumentException($"'{outPath}' exists; pass --resume to continue its run or --force to overwrite it.");
                string chosen = parse.GetValue(method) ?? throw new ArgumentException("--method is required (kp, dkp, lmf, dlmf, hmd, dhmd or prune).");
                double targetFactor = parse.GetValue(factor) ?? throw new ArgumentException("--factor is required (the target compression factor, e.g. 25).");
                var compression = new LstmCompression(CompressionMethods.Parse(chosen), targetFactor,
                    parse.GetValue(share) ?? LstmCompression.DefaultDopingShare, parse.GetValue(kronFactors) ?? 2) { Concatenated = parse.GetValue(concatenate), Block = parse.GetValue(block), Matrices = parse.GetValue(matrices), MatrixFactors = MatrixRuleOption.Get(parse, matrixFactors), MatrixMethods = MatrixRuleOption.Get(parse, matrixMethods) };
                compression.Validate();
                TrainingOptions options = binder.Bind(parse) with
                {
                    ScaledLowRank = parse.GetValue(scaledLowRank),
                    CoMatrixDropout = parse.GetValue(cmr) ?? 0,
                    CoMatrixDropoutFinal = parse.GetValue(cmrFinal),
                    StructureDropout = parse.GetValue(structureDropout) ?? 0,
                    Distillation = parse.GetValue(distill) ?? 0,
                    Teacher = TeacherPath(parse.GetValue(distill), parse.GetValue(teacher), parse.GetValue(from)),
                };
                options = options with
                {
                    PruneStartEpoch = parse.GetValue(pruneStart) ?? options.PruneStartEpoch,
                    PruneEndEpoch = parse.GetValue(pruneEnd) ?? options.PruneEndEpoch,
                    PruneEvents = parse.GetValue(pruneEvents) ?? options.PruneEvents,
                };
                trainer = Start(compression, options, parse.GetValue(from), folder);
                (checkpoint, recorder) = RunOption.Start(parse.GetValue(run), outPath, "compress", $"{chosen}{targetFactor:G}", chosen, targetFactor,
                    parse.GetValue(force));
            }
            TrainCommand.Execute(trainer, folder, checkpoint, parse.GetValue(json), recorder, cancellationToken);
            return Task.FromResult(0);
        });
        return command;
    }

    // The teacher of --distill as an absolute path: the dense model compressed unless --teacher names another.
    private static string? TeacherPath(double? distill, string? teacher, string? denseModel)
    {
        if (distill is null or 0)
            return teacher is null ? null : throw new ArgumentException("--teacher is the model of --distill; give --distill too.");
        string path = teacher ?? denseModel ?? throw new ArgumentException("--distill needs a teacher: --teacher FILE, or --model (the dense model compressed).");
        return Path.GetFullPath(path);
    }

    internal static LanguageModelTrainer Start(LstmCompression compression, TrainingOptions options, string? denseModel, string folder)
    {
        (LanguageModelTrainer trainer, CompressionReport start) = MethodCompressionRun.Start(compression, options, denseModel, folder);
        Console.Error.WriteLine(compression.Describe() +
            (compression.AnnealedSparsity > 0 ? $", pruned parts annealed to {compression.AnnealedSparsity:P2} sparsity" : "") +
            $"; at the start ({(compression.IsDoped ? "S still dense" : "before pruning")}): {TrainCommand.Describe(start)}");
        return trainer;
    }
}
