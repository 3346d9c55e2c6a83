using Dopant.Training;

namespace Dopant.Compression;

/// <summary>Everything that defines a scheme compression run (<see cref="SchemeCompressionRun"/>).</summary>
/// <param name="Scheme">The scheme's JSON text (<see cref="SchemeFile"/>).</param>
/// <param name="Level">The level substituted for <c>"$level"</c>, when the scheme has one.</param>
/// <param name="LearningCompression">The L-C iterations and penalty schedule.</param>
/// <param name="LStepWindows">Training windows of every L step after the first.</param>
/// <param name="FirstLStepWindows">Training windows of the first L step.</param>
/// <param name="FineTuneEpochs">Epochs of masked fine-tuning after L-C (0: none).</param>
/// <param name="Training">Batch, window, learning rate, clipping, seed; the architecture must be the dense model's. A
/// tagger's or classifier's run trains by <see cref="Labeler"/> instead.</param>
public sealed record SchemeRunSettings(string Scheme, double? Level, LearningCompressionOptions LearningCompression,
    int LStepWindows, int FirstLStepWindows, int FineTuneEpochs, TrainingOptions Training)
{
    /// <summary>
    /// For a tagger or classifier: its batch size, learning rate, clipping and seed (the architecture must be the dense
    /// model's); the L steps count batches instead of windows. Null for a language model.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public LabelerOptions? Labeler { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        LearningCompression.Validate();
        if (LStepWindows < 1 || FirstLStepWindows < 1) throw new ArgumentException($"L steps need at least one window (got {FirstLStepWindows} and {LStepWindows}).");
        if (FineTuneEpochs < 0) throw new ArgumentException($"Fine-tuning epochs cannot be negative (got {FineTuneEpochs}).");
        if (Labeler is null) Training.Validate();
        else Labeler.Validate();
    }
}
