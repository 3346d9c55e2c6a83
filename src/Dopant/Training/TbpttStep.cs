using System.Numerics;
using Dopant.Matrices;
using Dopant.Models;

namespace Dopant.Training;

/// <summary>What one training step measured.</summary>
/// <param name="Loss">Summed cross-entropy of the window's targets.</param>
/// <param name="GradientNorm">Global gradient norm before clipping.</param>
public readonly record struct StepResult(double Loss, double GradientNorm);

/// <summary>
/// One step of truncated back-propagation through time: forward a window from the carried state, backward,
/// clip the global gradient norm, update. The gradient is that of the cross-entropy summed over time and averaged
/// over the batch (Zaremba et al.'s convention) or, if <c>timeSummedLoss</c> is false, of its mean over all tokens.
/// </summary>
public sealed class TbpttStep<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly LanguageModel<T> _model;
    private readonly IOptimizer<T> _optimizer;
    private readonly IReadOnlyList<Parameter<T>> _parameters;
    private readonly ParameterChunks<T> _chunks;
    private readonly double _clip;
    private readonly bool _timeSummedLoss;
    private readonly DistillationTeacher<T>? _teacher;
    private readonly LowRankGradientScaling<T>? _scaling;

    /// <summary>
    /// Creates the step for a model and optimizer; with a <paramref name="teacher"/>, the targets mix in its
    /// probabilities; with <paramref name="scaledLowRank"/>, low-rank factors take scaled gradients (<see cref="LowRankGradientScaling{T}"/>).
    /// </summary>
    public TbpttStep(LanguageModel<T> model, IOptimizer<T> optimizer, double clip, bool timeSummedLoss, DistillationTeacher<T>? teacher = null,
        bool scaledLowRank = false)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(clip);
        _model = model;
        _optimizer = optimizer;
        _parameters = model.Parameters;
        _chunks = new ParameterChunks<T>(_parameters);
        _clip = clip;
        _timeSummedLoss = timeSummedLoss;
        _teacher = teacher;
        _scaling = scaledLowRank ? LowRankGradientScaling<T>.For(model.WeightMatrices.Select(m => m.Matrix).Distinct()) : null;
    }

    /// <summary>
    /// Trains on one window of <paramref name="steps"/> × <paramref name="batch"/> tokens, updating <paramref name="state"/>
    /// (and the teacher's own state). The loss returned is the cross-entropy against the corpus targets alone.
    /// </summary>
    /// <param name="inputs">The window's input tokens, time-major.</param>
    /// <param name="targets">The window's target tokens.</param>
    /// <param name="steps">Time steps.</param>
    /// <param name="batch">Parallel streams.</param>
    /// <param name="state">The carried recurrent state, updated.</param>
    /// <param name="learningRate">The step's learning rate.</param>
    /// <param name="addGradients">
    /// Called after clipping is decided with the clipping coefficient, to add terms to the gradients that clipping must
    /// not scale (divide them by the coefficient, as <c>LearningCompressionPenalty.AddGradients</c> does).
    /// </param>
    public StepResult Run(ReadOnlySpan<int> inputs, ReadOnlySpan<int> targets, int steps, int batch, RecurrentState<T> state, double learningRate,
        Action<double>? addGradients = null)
    {
        _chunks.ZeroGradients();
        T scale = T.CreateChecked(_timeSummedLoss ? 1.0 / batch : 1.0 / (steps * batch));
        if (_teacher is null)
        {
            double hardLoss = _model.Forward(inputs, targets, steps, batch, state);
            _model.Backward(scale);
            return Finish(hardLoss, learningRate, addGradients);
        }
        ReadOnlySpan<T> teacher = _teacher.Probabilities(inputs, targets, steps, batch);
        double loss = _model.Forward(inputs, targets, steps, batch, state);
        _model.Backward(scale, teacher, T.CreateChecked(_teacher.Weight));
        return Finish(loss, learningRate, addGradients);
    }

    private StepResult Finish(double loss, double learningRate, Action<double>? addGradients)
    {
        _scaling?.Apply();
        double norm = GradientClipping.GlobalNorm(_chunks);
        double coefficient = GradientClipping.Coefficient(norm, _clip);
        addGradients?.Invoke(coefficient);
        _optimizer.Step(_parameters, learningRate, coefficient);
        return new StepResult(loss, norm);
    }
}
