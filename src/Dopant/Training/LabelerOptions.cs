using System.Text.Json.Serialization;
using Dopant.Data;
using Dopant.Matrices;
using Dopant.Models;

namespace Dopant.Training;

/// <summary>
/// Everything that defines the training of a tagger or a sentence classifier (<see cref="LabelerTrainer"/>):
/// architecture, batching, optimizer and schedule, seed. The presets are <c>tagger</c> (a 2-layer bidirectional LSTM)
/// and <c>classifier</c> (a 2-layer LSTM read at its final state).
/// </summary>
public sealed record LabelerOptions
{
    /// <summary>Tagging or classification.</summary>
    [JsonConverter(typeof(JsonStringEnumConverter<LabelingTask>))]
    public LabelingTask Task { get; init; }

    /// <summary>The preset this configuration started from (informational).</summary>
    public string Preset { get; init; } = "custom";

    /// <summary>Recurrent layers.</summary>
    public int Layers { get; init; } = 2;

    /// <summary>Hidden size of each direction.</summary>
    public int HiddenSize { get; init; } = 128;

    /// <summary>The hidden size of each layer, bottom first, when they differ (the last is <see cref="HiddenSize"/>); empty when all equal it.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public LayerSizes LayerSizes { get; init; }

    /// <summary>Embedding width.</summary>
    public int EmbeddingSize { get; init; } = 100;

    /// <summary>The recurrent cell.</summary>
    public RecurrentCell Cell { get; init; } = RecurrentCell.Lstm;

    /// <summary>Whether every layer also reads the sentence backwards.</summary>
    public bool Bidirectional { get; init; }

    /// <summary>How a classifier pools its top layer over the sentence.</summary>
    public SentencePooling Pooling { get; init; } = SentencePooling.Final;

    /// <summary>Sentences per batch.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Passes over the training sentences.</summary>
    public int Epochs { get; init; } = 8;

    /// <summary>Initial learning rate.</summary>
    public double LearningRate { get; init; } = 2e-3;

    /// <summary>Factor applied to the learning rate every epoch after <see cref="DecayAfter"/>.</summary>
    public double Decay { get; init; } = 0.7;

    /// <summary>Epochs at the initial learning rate.</summary>
    public int DecayAfter { get; init; } = 4;

    /// <summary>Parameters start uniform in [−InitRange, InitRange].</summary>
    public double InitRange { get; init; } = 0.1;

    /// <summary>Dropout on the embedding and every layer's output.</summary>
    public double Dropout { get; init; } = 0.3;

    /// <summary>Maximum global gradient norm.</summary>
    public double Clip { get; init; } = 5;

    /// <summary>Seed of initialization, batch order and dropout.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary><c>sgd</c> or <c>adam</c>.</summary>
    public string Optimizer { get; init; } = "adam";

    /// <summary>Training words seen fewer times than this read as <c>&lt;unk&gt;</c>.</summary>
    public int MinCount { get; init; } = 2;

    /// <summary>The longest sentence a batch takes; a longer one in the data is refused.</summary>
    public int MaxLength { get; init; } = 250;

    /// <summary>The compression method of a compressing run (its forms replace the selected matrices before training); null for dense training.</summary>
    public LstmCompression? Compression { get; init; }

    /// <summary>
    /// The compression scheme (JSON, <c>Compression.SchemeFile</c>) the run fine-tunes the result of, for a run of
    /// <c>dopant compress --scheme</c>; null otherwise.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Scheme { get; init; }

    /// <summary>The level substituted for <c>"$level"</c> in <see cref="Scheme"/>, if it has one.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? SchemeLevel { get; init; }

    /// <summary>The sparsity the pruned parts reach (set from <see cref="Compression"/>); 0 prunes nothing.</summary>
    public double FinalSparsity { get; init; }

    /// <summary>The epoch (fractional) where pruning starts.</summary>
    public double PruneStartEpoch { get; init; } = 1;

    /// <summary>The epoch where the final sparsity is reached; 0 means 3/4 of the epochs.</summary>
    public double PruneEndEpoch { get; init; }

    /// <summary>Pruning events between start and end.</summary>
    public int PruneEvents { get; init; } = 100;

    /// <summary>Co-matrix dropout on S's output (recurrent matrices).</summary>
    public double CoMatrixDropout { get; init; }

    /// <summary>
    /// Knowledge distillation: the share w of a teacher model's label probabilities in the targets, (1 − w)·onehot + w·q
    /// (0: none, the corpus labels alone).
    /// </summary>
    public double Distillation { get; init; }

    /// <summary>
    /// The teacher model file of a distilling run (<see cref="Distillation"/> &gt; 0), recorded so that a resumed run
    /// can load it again; the trainer itself is given the model.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Teacher { get; init; }

    /// <summary>The annealing and co-matrix dropout settings of these options.</summary>
    [JsonIgnore]
    public DopingSettings Doping => new DopingSettings(FinalSparsity, 0, PruneStartEpoch, PruneEndEpoch > 0 ? PruneEndEpoch : 0.75 * Epochs, PruneEvents,
        CoMatrixDropout, null, 0).For(Compression);

    /// <summary>How often a diverged epoch is rolled back and trained again at a lower learning rate before the run stops.</summary>
    public int MaxRollbacks { get; init; } = 3;

    /// <summary>The learning-rate factor applied at each roll-back.</summary>
    public double RollbackLearningRateFactor { get; init; } = 0.5;

    /// <summary>The preset names.</summary>
    public static IReadOnlyList<string> PresetNames { get; } = ["tagger", "classifier"];

    /// <summary>A preset by name: <c>tagger</c> or <c>classifier</c>.</summary>
    public static LabelerOptions FromPreset(string name) => name switch
    {
        "tagger" => new LabelerOptions { Preset = "tagger", Task = LabelingTask.Tagging, Bidirectional = true },
        "classifier" => new LabelerOptions { Preset = "classifier", Task = LabelingTask.Classification, Epochs = 10, LearningRate = 1e-3, MaxLength = 1000 },
        _ => throw new ArgumentException($"Unknown preset '{name}'; expected one of: {string.Join(", ", PresetNames)}."),
    };

    /// <summary>These options with the architecture of an existing model (and its task), as when it is compressed.</summary>
    public LabelerOptions WithArchitectureOf(SentenceModelConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return this with
        {
            Task = config.Head == LabelHead.TokenLabels ? LabelingTask.Tagging : LabelingTask.Classification,
            Layers = config.Layers, HiddenSize = config.HiddenSize, LayerSizes = config.LayerSizes, EmbeddingSize = config.EmbeddingSize, Cell = config.Cell,
            Bidirectional = config.Bidirectional, Pooling = config.Pooling,
        };
    }

    /// <summary>The model's architecture for a vocabulary and a label set of these sizes.</summary>
    public SentenceModelConfig ModelConfig(int vocabularySize, int labelCount) =>
        new(vocabularySize, EmbeddingSize, HiddenSize, Layers, labelCount, Task == LabelingTask.Tagging ? LabelHead.TokenLabels : LabelHead.SequenceLabel)
        {
            Cell = Cell, Bidirectional = Bidirectional, Pooling = Pooling, Dropout = Dropout, LayerSizes = LayerSizes,
        };

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid field as its option.</summary>
    public void Validate()
    {
        static void Require(bool ok, string message)
        {
            if (!ok) throw new ArgumentException(message);
        }
        Require(Enum.IsDefined(Task), $"--task must be tag or classify (got {(int)Task}).");
        Require(Layers >= 1, $"--layers must be at least 1 (got {Layers}).");
        Require(HiddenSize >= 1, $"--hidden must be at least 1 (got {HiddenSize}).");
        Require(LayerSizes.IsEmpty || LayerSizes.Count == Layers && LayerSizes[^1] == HiddenSize && LayerSizes.All(size => size >= 1),
            $"--hidden {LayerSizes} gives {LayerSizes.Count} layer sizes, but --layers is {Layers}.");
        Require(EmbeddingSize >= 1, $"--emsize must be at least 1 (got {EmbeddingSize}).");
        Require(BatchSize >= 1, $"--batch-size must be at least 1 (got {BatchSize}).");
        Require(Epochs >= 1, $"--epochs must be at least 1 (got {Epochs}).");
        Require(LearningRate > 0 && double.IsFinite(LearningRate), $"--lr must be positive (got {LearningRate}).");
        Require(Decay > 0 && Decay <= 1, $"--decay must be in (0, 1] (got {Decay}).");
        Require(DecayAfter >= 0, $"--decay-after must not be negative (got {DecayAfter}).");
        Require(InitRange > 0 && double.IsFinite(InitRange), $"--init must be positive (got {InitRange}).");
        Require(Dropout >= 0 && Dropout < 1, $"--dropout must be in [0, 1) (got {Dropout}).");
        Require(Clip > 0, $"--clip must be positive (got {Clip}).");
        Require(Optimizer is "sgd" or "adam", $"--optimizer must be sgd or adam (got '{Optimizer}').");
        Require(MinCount >= 1, $"--min-count must be at least 1 (got {MinCount}).");
        Require(MaxLength >= 1, $"--max-length must be at least 1 (got {MaxLength}).");
        Require(FinalSparsity >= 0 && FinalSparsity < 1, $"the final sparsity must be in [0, 1) (got {FinalSparsity}).");
        Require(PruneStartEpoch >= 0 && double.IsFinite(PruneStartEpoch), $"--prune-start must not be negative (got {PruneStartEpoch}).");
        Require(PruneEndEpoch >= 0 && PruneEndEpoch <= Epochs, $"--prune-end must be in [0, --epochs] (got {PruneEndEpoch}).");
        Require(FinalSparsity == 0 || Doping.PruneEndEpoch > PruneStartEpoch,
            $"pruning must end (epoch {Doping.PruneEndEpoch:G}) after it starts (epoch {PruneStartEpoch:G}).");
        Require(PruneEvents >= 1, $"--prune-events must be at least 1 (got {PruneEvents}).");
        Require(CoMatrixDropout >= 0 && CoMatrixDropout < 1, $"--cmr must be in [0, 1) (got {CoMatrixDropout}).");
        Require(Distillation >= 0 && Distillation <= 1, $"--distill must be in [0, 1] (got {Distillation}).");
        Require(Distillation == 0 || Teacher is not null, $"--distill {Distillation:G} needs a teacher model (--teacher or --model).");
        Require(MaxRollbacks >= 0, $"--max-rollbacks must not be negative (got {MaxRollbacks}).");
        Require(RollbackLearningRateFactor > 0 && RollbackLearningRateFactor < 1, $"--rollback-lr-factor must be in (0, 1) (got {RollbackLearningRateFactor}).");
        Compression?.Validate();
    }
}
