using System.Text.Json.Serialization;
using Dopant.Matrices;
using Dopant.Models;

namespace Dopant.Training;

/// <summary>
/// Everything that defines a training run: architecture, truncated BPTT, optimizer and schedule, seed.
/// The presets are Zaremba et al. (2014)'s small, medium and large PTB configurations.
/// </summary>
public sealed record TrainingOptions
{
    /// <summary>The preset this configuration started from (informational).</summary>
    public string Preset { get; init; } = "custom";

    /// <summary>Number of recurrent layers.</summary>
    public int Layers { get; init; } = 2;

    /// <summary>Hidden size of every recurrent layer.</summary>
    public int HiddenSize { get; init; } = 200;

    /// <summary>The hidden size of each layer, bottom first, when they differ (the last is <see cref="HiddenSize"/>); empty when all equal it.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public LayerSizes LayerSizes { get; init; }

    /// <summary>The recurrent cell (default LSTM).</summary>
    public RecurrentCell Cell { get; init; } = RecurrentCell.Lstm;

    /// <summary>The embedding width; null means the hidden size.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? EmbeddingSize { get; init; }

    /// <summary>Truncated-BPTT window length in time steps.</summary>
    public int Bptt { get; init; } = 20;

    /// <summary>Sequences trained side by side.</summary>
    public int BatchSize { get; init; } = 20;

    /// <summary>Number of passes over the training data.</summary>
    public int Epochs { get; init; } = 13;

    /// <summary>Initial learning rate.</summary>
    public double LearningRate { get; init; } = 1;

    /// <summary>Factor applied to the learning rate every epoch after <see cref="DecayAfter"/>.</summary>
    public double Decay { get; init; } = 0.5;

    /// <summary>Number of epochs at the initial learning rate.</summary>
    public int DecayAfter { get; init; } = 4;

    /// <summary>Parameters start uniform in [−InitRange, InitRange].</summary>
    public double InitRange { get; init; } = 0.1;

    /// <summary>Dropout probability on non-recurrent connections.</summary>
    public double Dropout { get; init; }

    /// <summary>Maximum global gradient norm.</summary>
    public double Clip { get; init; } = 5;

    /// <summary>Whether the decoder shares the embedding's weights.</summary>
    public bool TiedWeights { get; init; }

    /// <summary>Seed of initialization and dropout.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary><c>sgd</c> or <c>adam</c>.</summary>
    public string Optimizer { get; init; } = "sgd";

    /// <summary>
    /// Whether the gradient is that of the cross-entropy summed over time and averaged over the batch (Zaremba's
    /// convention, which the presets' learning rate of 1 assumes); otherwise the mean over all tokens.
    /// </summary>
    public bool TimeSummedLoss { get; init; } = true;

    /// <summary>
    /// How many times a diverged epoch (a training window's loss not finite or above twice that of a uniform guess, or
    /// a validation perplexity or weight that is not finite) is rolled back to the end of the previous epoch and trained
    /// again at a lower learning rate before the run gives up; 0 stops at the first divergence.
    /// </summary>
    public int MaxRollbacks { get; init; } = 3;

    /// <summary>The factor applied to the learning rate after each roll-back, in (0, 1).</summary>
    public double RollbackLearningRateFactor { get; init; } = 0.5;

    /// <summary>Batch size for validation and test perplexity.</summary>
    public int EvalBatchSize { get; init; } = 10;

    /// <summary>
    /// The sparsity the pruned parts of the LSTM matrices (the doping matrices S of doped forms, and pruned forms)
    /// reach by <see cref="EffectivePruneEndEpoch"/>; 0 prunes nothing. Pruning follows Zhu and Gupta's cubic schedule.
    /// </summary>
    public double FinalSparsity { get; init; }

    /// <summary>The sparsity at which pruning starts, at <see cref="PruneStartEpoch"/> (0: S starts dense).</summary>
    public double InitialSparsity { get; init; }

    /// <summary>Epochs of training (possibly fractional) before the first pruning event.</summary>
    public double PruneStartEpoch { get; init; } = 1;

    /// <summary>Epochs of training (possibly fractional) by which the final sparsity is reached; 0 means 3/4 of the epochs.</summary>
    public double PruneEndEpoch { get; init; }

    /// <summary>The number of pruning events from the start to the end of the schedule.</summary>
    public int PruneEvents { get; init; } = 100;

    /// <summary>
    /// Whether the gradients of low-rank factors (lmf, hmd and their doped forms) are scaled by the inverse Gram
    /// matrix of the other factor before clipping and the update (<see cref="LowRankGradientScaling{T}"/>).
    /// </summary>
    public bool ScaledLowRank { get; init; }

    /// <summary>Co-matrix dropout probability on the output of the doping matrices S during training (0: none).</summary>
    public double CoMatrixDropout { get; init; }

    /// <summary>
    /// When set, the co-matrix dropout probability is annealed linearly from <see cref="CoMatrixDropout"/> at
    /// <see cref="PruneStartEpoch"/> to this value at <see cref="EffectivePruneEndEpoch"/> and held there; null keeps it constant.
    /// </summary>
    public double? CoMatrixDropoutFinal { get; init; }

    /// <summary>Co-matrix dropout probability on the output of the structured parts of doped matrices (0: none).</summary>
    public double StructureDropout { get; init; }

    /// <summary>
    /// Knowledge distillation: the share w of a teacher model's probabilities in the targets, (1 − w)·onehot + w·q
    /// (0: none, the corpus targets alone).
    /// </summary>
    public double Distillation { get; init; }

    /// <summary>
    /// The teacher model file of a distilling run (<see cref="Distillation"/> &gt; 0), recorded so that a resumed run
    /// can load it again; the trainer itself is given the model.
    /// </summary>
    public string? Teacher { get; init; }

    /// <summary>
    /// The compression the run applied to the LSTM matrices, recorded with the run (the forms themselves are described
    /// in the checkpoint); null for a dense run.
    /// </summary>
    public LstmCompression? Compression { get; init; }

    /// <summary>
    /// The compression scheme (JSON, <c>Compression.SchemeFile</c>) the run fine-tunes the result of, for a run of
    /// <c>dopant compress --scheme</c>; null otherwise.
    /// </summary>
    public string? Scheme { get; init; }

    /// <summary>The level substituted for <c>"$level"</c> in <see cref="Scheme"/>, if it has one.</summary>
    public double? SchemeLevel { get; init; }

    /// <summary>The annealing and co-matrix dropout settings of these options.</summary>
    [JsonIgnore]
    public DopingSettings Doping => new DopingSettings(FinalSparsity, InitialSparsity, PruneStartEpoch, EffectivePruneEndEpoch, PruneEvents,
        CoMatrixDropout, CoMatrixDropoutFinal, StructureDropout).For(Compression);

    /// <summary>The epoch by which the final sparsity is reached: <see cref="PruneEndEpoch"/>, or 3/4 of the epochs when it is 0.</summary>
    [JsonIgnore]
    public double EffectivePruneEndEpoch => PruneEndEpoch > 0 ? PruneEndEpoch : 0.75 * Epochs;

    /// <summary>The names <see cref="FromPreset"/> accepts.</summary>
    public static IReadOnlyList<string> PresetNames { get; } = ["small", "medium", "large", "charlm"];

    /// <summary>
    /// Zaremba et al.'s word-level configuration by name (<c>small</c>, <c>medium</c> or <c>large</c>), or <c>charlm</c>: a 2 × 256
    /// character language model with 64-wide character embeddings trained by Adam for 4 epochs.
    /// </summary>
    public static TrainingOptions FromPreset(string name) => name switch
    {
        "small" => new TrainingOptions
        {
            Preset = "small", Layers = 2, HiddenSize = 200, Bptt = 20, Epochs = 13, LearningRate = 1,
            Decay = 0.5, DecayAfter = 4, InitRange = 0.1, Dropout = 0, Clip = 5,
        },
        "medium" => new TrainingOptions
        {
            Preset = "medium", Layers = 2, HiddenSize = 650, Bptt = 35, Epochs = 39, LearningRate = 1,
            Decay = 0.8, DecayAfter = 6, InitRange = 0.05, Dropout = 0.5, Clip = 5,
        },
        "large" => new TrainingOptions
        {
            Preset = "large", Layers = 2, HiddenSize = 1500, Bptt = 35, Epochs = 55, LearningRate = 1,
            Decay = 1 / 1.15, DecayAfter = 14, InitRange = 0.04, Dropout = 0.65, Clip = 10,
        },
        "charlm" => new TrainingOptions
        {
            Preset = "charlm", Layers = 2, HiddenSize = 256, EmbeddingSize = 64, Bptt = 50, BatchSize = 32, Epochs = 4, Optimizer = "adam",
            LearningRate = 2e-3, Decay = 0.5, DecayAfter = 2, InitRange = 0.1, Dropout = 0.1, Clip = 5,
        },
        _ => throw new ArgumentException($"Unknown preset '{name}'; expected one of: {string.Join(", ", PresetNames)}."),
    };

    /// <summary>The model architecture for a vocabulary of <paramref name="vocabularySize"/> words.</summary>
    public LanguageModelConfig ModelConfig(int vocabularySize) =>
        new(vocabularySize, HiddenSize, Layers, Dropout, TiedWeights) { Cell = Cell, EmbeddingSize = EmbeddingSize ?? HiddenSize, LayerSizes = LayerSizes };

    /// <summary>These options with the architecture (layers, sizes, cell, tying) of an existing model, as when it is fine-tuned or compressed.</summary>
    public TrainingOptions WithArchitectureOf(LanguageModelConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return this with
        {
            Layers = config.Layers, HiddenSize = config.HiddenSize, LayerSizes = config.LayerSizes, TiedWeights = config.TiedWeights, Cell = config.Cell,
            EmbeddingSize = config.EmbeddingSize == config.HiddenSize ? null : config.EmbeddingSize,
        };
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid field.</summary>
    public void Validate()
    {
        static void Require(bool ok, string message)
        {
            if (!ok) throw new ArgumentException(message);
        }
        Require(Layers >= 1, $"--layers must be at least 1 (got {Layers}).");
        Require(HiddenSize >= 1, $"--hidden must be at least 1 (got {HiddenSize}).");
        Require(LayerSizes.IsEmpty || LayerSizes.Count == Layers && LayerSizes[^1] == HiddenSize && LayerSizes.All(size => size >= 1),
            $"--hidden {LayerSizes} gives {LayerSizes.Count} layer sizes, but --layers is {Layers}.");
        Require(EmbeddingSize is null or >= 1, $"--emsize must be at least 1 (got {EmbeddingSize}).");
        Require(Enum.IsDefined(Cell), $"--cell must be lstm or gru (got {(int)Cell}).");
        Require(!TiedWeights || (EmbeddingSize ?? HiddenSize) == HiddenSize,
            $"--tied needs the embedding width to equal the hidden size (--emsize {EmbeddingSize}, --hidden {HiddenSize}).");
        Require(Bptt >= 1, $"--bptt must be at least 1 (got {Bptt}).");
        Require(BatchSize >= 1, $"--batch-size must be at least 1 (got {BatchSize}).");
        Require(EvalBatchSize >= 1, $"--eval-batch-size must be at least 1 (got {EvalBatchSize}).");
        Require(Epochs >= 1, $"--epochs must be at least 1 (got {Epochs}).");
        Require(LearningRate > 0 && double.IsFinite(LearningRate), $"--lr must be positive (got {LearningRate}).");
        Require(Decay > 0 && Decay <= 1, $"--decay must be in (0, 1] (got {Decay}).");
        Require(DecayAfter >= 0, $"--decay-after must not be negative (got {DecayAfter}).");
        Require(InitRange > 0 && double.IsFinite(InitRange), $"--init must be positive (got {InitRange}).");
        Require(Dropout >= 0 && Dropout < 1, $"--dropout must be in [0, 1) (got {Dropout}).");
        Require(Clip > 0, $"--clip must be positive (got {Clip}).");
        Require(MaxRollbacks >= 0, $"--max-rollbacks must not be negative (got {MaxRollbacks}).");
        Require(RollbackLearningRateFactor > 0 && RollbackLearningRateFactor < 1,
            $"--rollback-lr-factor must be in (0, 1) (got {RollbackLearningRateFactor}).");
        Require(Optimizer is "sgd" or "adam", $"--optimizer must be sgd or adam (got '{Optimizer}').");
        Require(FinalSparsity >= 0 && FinalSparsity < 1, $"--sparsity must be in [0, 1) (got {FinalSparsity}).");
        Require(InitialSparsity >= 0 && InitialSparsity <= FinalSparsity || FinalSparsity == 0 && InitialSparsity == 0,
            $"--initial-sparsity must be in [0, --sparsity] (got {InitialSparsity}).");
        Require(PruneStartEpoch >= 0 && double.IsFinite(PruneStartEpoch), $"--prune-start must not be negative (got {PruneStartEpoch}).");
        Require(PruneEndEpoch >= 0 && PruneEndEpoch <= Epochs, $"--prune-end must be in [0, --epochs] (got {PruneEndEpoch}).");
        Require(FinalSparsity == 0 || EffectivePruneEndEpoch > PruneStartEpoch,
            $"pruning must end (epoch {EffectivePruneEndEpoch}) after it starts (epoch {PruneStartEpoch}).");
        Require(PruneEvents >= 1, $"--prune-events must be at least 1 (got {PruneEvents}).");
        Require(CoMatrixDropout >= 0 && CoMatrixDropout < 1, $"--cmr must be in [0, 1) (got {CoMatrixDropout}).");
        Require(CoMatrixDropoutFinal is not double final || final >= 0 && final < 1, $"--cmr-final must be in [0, 1) (got {CoMatrixDropoutFinal}).");
        Require(StructureDropout >= 0 && StructureDropout < 1, $"--structure-dropout must be in [0, 1) (got {StructureDropout}).");
        Require(Distillation >= 0 && Distillation <= 1, $"--distill must be in [0, 1] (got {Distillation}).");
        Compression?.Validate();
    }
}
