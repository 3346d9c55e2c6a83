using System.Numerics;
using Dopant.Models;

namespace Dopant.Training;

/// <summary>
/// A trained model whose next-word probabilities a student learns from alongside the corpus targets (knowledge
/// distillation, Hinton et al. 2015, at temperature 1): the teacher reads the same windows as the student, without
/// dropout, carrying its own recurrent state from window to window.
/// </summary>
public sealed class DistillationTeacher<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private RecurrentState<T>? _state;

    /// <summary>Creates a teacher from a trained model; <paramref name="weight"/> is the share of its probabilities in the targets.</summary>
    public DistillationTeacher(LanguageModel<T> model, double weight)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (!(weight > 0 && weight <= 1)) throw new ArgumentOutOfRangeException(nameof(weight), $"The teacher's weight must be in (0, 1] (got {weight}).");
        Model = model;
        Weight = weight;
    }

    /// <summary>The teacher model (run in evaluation mode).</summary>
    public LanguageModel<T> Model { get; }

    /// <summary>The share w of the teacher's probabilities in the targets: (1 − w)·onehot + w·q.</summary>
    public double Weight { get; }

    /// <summary>Starts again from a zero state for <paramref name="batch"/> sequences, as the student does at the start of an epoch.</summary>
    public void Reset(int batch) => _state = Model.CreateState(batch);

    /// <summary>The teacher's probabilities [T·B, V] for one window, valid until its next call.</summary>
    public ReadOnlySpan<T> Probabilities(ReadOnlySpan<int> inputs, ReadOnlySpan<int> targets, int steps, int batch)
    {
        if (_state is null || _state.Batch != batch) Reset(batch);
        Model.Training = false;
        Model.Forward(inputs, targets, steps, batch, _state!);
        return Model.Output;
    }
}
