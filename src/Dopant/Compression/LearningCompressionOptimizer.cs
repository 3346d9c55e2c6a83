namespace Dopant.Compression;

/// <summary>
/// The learning-compression algorithm (Carreira-Perpiñán, "Model compression as constrained optimization", 2017),
/// in the augmented-Lagrangian form Condensa uses: direct compression θ = Π(w) first; then, every iteration, an L step
/// minimizing loss(w) + μ/2·‖w − Δ(θ) − λ/μ‖², a C step θ = Π(w − λ/μ), λ ← λ − μ(w − Δ(θ)) and μ ← a·μ. The compressed
/// weights Δ(θ) with the lowest validation loss are kept and written into the weights at the end.
/// </summary>
public sealed class LearningCompressionOptimizer
{
    private readonly CompressionScheme _scheme;
    private readonly IReadOnlyList<CompressibleWeight> _weights;
    private readonly LearningCompressionOptions _options;

    /// <summary>Binds the scheme to the weights it selects among <paramref name="weights"/>.</summary>
    /// <exception cref="ArgumentException">The scheme selects none of the weights, or the options are invalid.</exception>
    public LearningCompressionOptimizer(CompressionScheme scheme, IReadOnlyList<CompressibleWeight> weights, LearningCompressionOptions options)
    {
        ArgumentNullException.ThrowIfNull(scheme);
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _scheme = scheme;
        _weights = scheme.Selected(weights);
        if (_weights.Count == 0) throw new ArgumentException("The scheme selects none of the weights: " + string.Join(", ", weights.Select(w => w.Name)) + ".");
        _options = options;
    }

    /// <summary>The weights being compressed.</summary>
    public IReadOnlyList<CompressibleWeight> Weights => _weights;

    /// <summary>
    /// Runs the remaining iterations of <paramref name="state"/> (a fresh run when null), calling
    /// <paramref name="checkpoint"/> after each (the weights then hold the trained w), and returns the final state; the
    /// weights then hold the best compressed values.
    /// </summary>
    public LearningCompressionState Run(ILearningStep learner, LearningCompressionState? state = null,
        Action<LearningCompressionState>? checkpoint = null, IProgress<LearningCompressionIteration>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(learner);
        if (state is null)
        {
            state = new LearningCompressionState { Mu = _options.Mu0 };
            float[][] direct = CompressedOf(_weights.Select(w => w.Values).ToArray());
            foreach ((CompressibleWeight w, float[] c) in _weights.Zip(direct))
            {
                state.Compressed[w.Name] = c;
                state.Multipliers[w.Name] = new float[c.Length];
            }
            Record(state, learner, 0, _options.Mu0, progress);
            checkpoint?.Invoke(state);
        }
        else if (_weights.Any(w => !Covers(state.Compressed, w) || !Covers(state.Multipliers, w) || state.Best.Count > 0 && !Covers(state.Best, w)))
        {
            throw new ArgumentException("The L-C state does not cover the scheme's weights; it belongs to another scheme or model.", nameof(state));
        }
        while (state.Iteration < _options.Iterations)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int iteration = state.Iteration + 1;
            double mu = state.Mu;
            float[][] targets = [.. _weights.Select(w => Shifted(state.Compressed[w.Name], state.Multipliers[w.Name], +1 / mu))];
            learner.Learn(iteration, new LearningCompressionPenalty(_weights, targets, mu));

            float[][] shifted = [.. _weights.Select(w => Shifted(w.Values, state.Multipliers[w.Name], -1 / mu))];
            float[][] compressed = CompressedOf(shifted);
            for (int k = 0; k < _weights.Count; k++)
            {
                float[] w = _weights[k].Values, c = compressed[k], lambda = state.Multipliers[_weights[k].Name];
                for (int i = 0; i < w.Length; i++) lambda[i] -= (float)(mu * (w[i] - c[i]));
                state.Compressed[_weights[k].Name] = c;
            }
            state.Mu = mu * _options.MuGrowth;
            Record(state, learner, iteration, mu, progress);
            checkpoint?.Invoke(state);
        }
        for (int k = 0; k < _weights.Count; k++) state.Best[_weights[k].Name].CopyTo(_weights[k].Values, 0);
        return state;
    }

    // Δ(Π(x)) of the given values, with the weights' names and shapes.
    private float[][] CompressedOf(float[][] values)
    {
        var copies = _weights.Select((w, k) => new CompressibleWeight(w.Name, w.Kind, w.Rows, w.Columns, (float[])values[k].Clone())).ToList();
        _scheme.Project(copies);
        return [.. copies.Select(c => c.Values)];
    }

    private static float[] Shifted(float[] values, float[] multipliers, double coefficient)
    {
        var result = new float[values.Length];
        for (int i = 0; i < values.Length; i++) result[i] = (float)(values[i] + coefficient * multipliers[i]);
        return result;
    }

    private static bool Covers(Dictionary<string, float[]> arrays, CompressibleWeight weight) =>
        arrays.TryGetValue(weight.Name, out float[]? values) && values.Length == weight.Values.Length;

    // Evaluates Δ(θ) in place of w, restores w, and keeps Δ(θ) if it is the best so far.
    private void Record(LearningCompressionState state, ILearningStep learner, int iteration, double mu, IProgress<LearningCompressionIteration>? progress)
    {
        var saved = _weights.Select(w => (float[])w.Values.Clone()).ToArray();
        double distance = 0;
        for (int k = 0; k < _weights.Count; k++)
        {
            float[] c = state.Compressed[_weights[k].Name];
            for (int i = 0; i < c.Length; i++)
            {
                double d = saved[k][i] - c[i];
                distance += d * d;
            }
            c.CopyTo(_weights[k].Values, 0);
        }
        double loss = learner.ValidationLoss();
        for (int k = 0; k < _weights.Count; k++) saved[k].CopyTo(_weights[k].Values, 0);
        var entry = new LearningCompressionIteration(iteration, mu, loss, Math.Sqrt(distance));
        state.History.Add(entry);
        state.Iteration = iteration;
        if (loss < state.BestLoss || state.Best.Count == 0)
        {
            state.BestLoss = loss;
            state.BestIteration = iteration;
            foreach (CompressibleWeight w in _weights) state.Best[w.Name] = (float[])state.Compressed[w.Name].Clone();
        }
        progress?.Report(entry);
    }
}
