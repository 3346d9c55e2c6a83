using Dopant.Matrices;
using Dopant.Models;
using Dopant.Numerics;

namespace Dopant.Training;

/// <summary>
/// A copy, in memory, of everything a training step changes: parameter values, the masks of pruned parts, the
/// optimizer's state and step count, and the model's random stream. Restoring it puts the run back exactly where the
/// copy was taken, so that a diverged epoch can be trained again.
/// </summary>
internal sealed class TrainingSnapshot
{
    private readonly ICompressibleModel<float> _model;
    private readonly IOptimizer<float> _optimizer;
    private readonly float[][] _values;
    private readonly (PrunedMatrix<float> Matrix, float[] Mask)[] _masks;
    private readonly (string Key, float[] Values)[] _optimizerState;
    private readonly long _steps;
    private readonly ulong[] _random;

    private TrainingSnapshot(ICompressibleModel<float> model, IOptimizer<float> optimizer)
    {
        _model = model;
        _optimizer = optimizer;
        _values = [.. model.Parameters.Select(p => (float[])p.Value.Clone())];
        _masks = [.. PrunedParts(model).Select(m => (m, m.Mask.ToArray()))];
        _optimizerState = [.. optimizer.State.Select(kv => (kv.Key, (float[])kv.Value.Clone()))];
        _steps = optimizer.StepCount;
        _random = model.Random.GetState();
    }

    /// <summary>Copies the current state of <paramref name="model"/> and <paramref name="optimizer"/>.</summary>
    public static TrainingSnapshot Capture(ICompressibleModel<float> model, IOptimizer<float> optimizer) => new(model, optimizer);

    /// <summary>Puts the model and optimizer back as they were when the snapshot was taken.</summary>
    public void Restore()
    {
        IReadOnlyList<Parameter<float>> parameters = _model.Parameters;
        for (int i = 0; i < parameters.Count; i++) _values[i].CopyTo(parameters[i].Value, 0);
        foreach ((PrunedMatrix<float> matrix, float[] mask) in _masks) matrix.RestoreMask(mask);
        if (_optimizer is AdamOptimizer<float> adam)
        {
            adam.ClearState();
            foreach ((string key, float[] values) in _optimizerState) adam.RestoreState(key, (float[])values.Clone());
        }
        _optimizer.StepCount = _steps;
        _model.Random = new Xoshiro256(_random);
        _model.ZeroGradients();
    }

    private static IEnumerable<PrunedMatrix<float>> PrunedParts(ICompressibleModel<float> model) =>
        model.WeightMatrices.SelectMany(named => WeightForms.PrunedParts(named.Matrix));
}
