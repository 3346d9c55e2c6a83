using Dopant.Training;

namespace Dopant.Cli.Runs;

/// <summary>The settings of a <c>dopant demo</c> run, stored in its <c>run.json</c> so that <c>--resume</c> continues alike.</summary>
internal sealed record DemoSettings(int TrainTokens, int EvalTokens, int HiddenSize, int DenseEpochs, int Epochs,
    IReadOnlyList<string> Methods, IReadOnlyList<double> Factors, int BenchTokens, int BenchRepeats, string? Source);

/// <summary>
/// One trained model of a run: what it is, its accuracy, its size, and its per-epoch history. A language model has
/// perplexities and <see cref="Epochs"/>; a tagger or classifier has <see cref="Labeling"/> instead (its perplexities are
/// null and its language-model epochs empty).
/// </summary>
internal sealed record ModelResult(string Name, string Method, double Factor, double LstmParameterFactor, double LstmByteFactor,
    long ModelBytes, long FileBytes, double? ValidPpl, double? TestPpl, IReadOnlyList<EpochResult> Epochs,
    IReadOnlyList<DivergenceEvent>? Divergences = null, LabelingResult? Labeling = null);

/// <summary>A tagger's or classifier's scores in a run: accuracy and macro-F1 on the validation and test files, and its epochs.</summary>
internal sealed record LabelingResult(double ValidAccuracy, double TestAccuracy, double ValidMacroF1, double TestMacroF1, IReadOnlyList<LabelerEpoch> Epochs);

/// <summary>One point of a training curve: position in epochs (fractional), mean training loss so far this epoch, and the pruned parts' sparsity.</summary>
internal sealed record CurvePoint(string Run, double Position, double Loss, double? Sparsity);

/// <summary>
/// Streaming speed of one model, timed against the dense model in the same process (batch 1); <see cref="Reference"/>
/// marks the runtimes a user would pick instead (the dense model at int8, ONNX Runtime running it), timed in the same
/// passes. <see cref="WeightBytes"/> is what the runtime reads for the whole model, head included (for ONNX Runtime,
/// its file's bytes).
/// </summary>
internal sealed record SpeedResult(string Name, double RecurrentMicroseconds, double TotalMicroseconds, double RecurrentSpeedup,
    double TotalSpeedup, long RecurrentWeightBytes, int Threads, long WeightBytes = 0, bool Reference = false);

/// <summary>
/// The settings of a <c>dopant train --run</c> or <c>compress --run</c> folder, its <c>run.json</c>: the command line,
/// the model's name in the run, its method and factor, and where its checkpoint is (relative to the folder if inside it).
/// </summary>
internal sealed record TrainingRunSettings(string Command, string Name, string Method, double Factor, string Checkpoint,
    IReadOnlyList<string> Arguments);
