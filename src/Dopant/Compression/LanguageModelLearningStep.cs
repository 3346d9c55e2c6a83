using Dopant.Data;
using Dopant.Models;
using Dopant.Numerics;
using Dopant.Tasks;
using Dopant.Training;

namespace Dopant.Compression;

/// <summary>
/// The L step of learning-compression for a language model: truncated-BPTT SGD on the training text (clipped as in
/// training) plus the L-C penalty, for a number of windows, the learning rate decaying geometrically within the step
/// to <see cref="FinalLearningRateRatio"/> of its start, and a fresh optimizer and recurrent state every step. The
/// windows continue through the corpus from step to step. The validation loss is the mean cross-entropy on the
/// validation text.
/// </summary>
public sealed class LanguageModelLearningStep : ILearningStep
{
    private readonly LanguageModel<float> _model;
    private readonly PtbCorpus _corpus;
    private readonly TrainingOptions _options;
    private readonly BatchedTokenStream _train;
    private readonly int[] _inputs, _targets;

    /// <summary>Creates the learner.</summary>
    /// <param name="model">The model, trained in place.</param>
    /// <param name="corpus">The corpus, in the model's vocabulary.</param>
    /// <param name="options">Batch size, window, learning rate, clipping, seed and evaluation batch size.</param>
    /// <param name="windows">Windows of every L step after the first.</param>
    /// <param name="firstWindows">Windows of the first L step (Condensa makes it longer).</param>
    public LanguageModelLearningStep(LanguageModel<float> model, PtbCorpus corpus, TrainingOptions options, int windows, int firstWindows)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(corpus);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(windows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(firstWindows);
        _model = model;
        _corpus = corpus;
        _options = options;
        Windows = windows;
        FirstWindows = firstWindows;
        _train = new BatchedTokenStream(corpus.Train, options.BatchSize);
        if (_train.WindowCount(options.Bptt) < 1) throw new ArgumentException($"The training set ({corpus.Train.Length} tokens) is too small for batch size {options.BatchSize}.");
        _inputs = new int[options.Bptt * options.BatchSize];
        _targets = new int[_inputs.Length];
    }

    /// <summary>Windows of every L step after the first.</summary>
    public int Windows { get; }

    /// <summary>Windows of the first L step.</summary>
    public int FirstWindows { get; }

    /// <summary>The learning rate at the end of an L step as a fraction of <see cref="TrainingOptions.LearningRate"/>.</summary>
    public double FinalLearningRateRatio { get; init; } = 0.1;

    /// <summary>Receives the progress of every L step and evaluation.</summary>
    public IProgress<TrainingProgress>? Progress { get; init; }

    /// <summary>The L step's cancellation.</summary>
    public CancellationToken CancellationToken { get; init; }

    /// <inheritdoc/>
    public void Learn(int iteration, LearningCompressionPenalty penalty)
    {
        ArgumentNullException.ThrowIfNull(penalty);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(iteration);
        int windows = iteration == 1 ? FirstWindows : Windows;
        long start = iteration == 1 ? 0 : FirstWindows + (long)(iteration - 2) * Windows;
        int available = _train.WindowCount(_options.Bptt);
        // Seeded by the iteration, so that a resumed run draws the same dropout masks.
        _model.Random = new Xoshiro256(_options.Seed + 1000UL * (ulong)iteration);
        _model.Training = true;
        var step = new TbpttStep<float>(_model, new SgdOptimizer<float>(), _options.Clip, _options.TimeSummedLoss);
        RecurrentState<float> state = _model.CreateState(_options.BatchSize);
        double lossSum = 0;
        long tokens = 0;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (int k = 0; k < windows; k++)
        {
            CancellationToken.ThrowIfCancellationRequested();
            int index = (int)((start + k) % available);
            if (index == 0 && k > 0) state = _model.CreateState(_options.BatchSize);
            BpttWindow window = _train.WindowAt(index * _options.Bptt, _options.Bptt);
            int n = _train.CopyWindow(window, _inputs, _targets);
            double lr = _options.LearningRate * Math.Pow(FinalLearningRateRatio, (double)k / Math.Max(1, windows - 1));
            lossSum += step.Run(_inputs.AsSpan(0, n), _targets.AsSpan(0, n), window.Length, _options.BatchSize, state, lr,
                penalty.AddGradients).Loss;
            tokens += n;
            if (Progress is not null && ((k + 1) % Math.Max(1, windows / 50) == 0 || k + 1 == windows))
            {
                double rate = tokens / clock.Elapsed.TotalSeconds;
                Progress.Report(new TrainingProgress($"L step {iteration}", iteration, iteration, (k + 1.0) / windows, lossSum / tokens, lr, rate,
                    TimeSpan.FromSeconds((windows - k - 1) * (double)n / Math.Max(rate, 1e-9))));
            }
        }
    }

    /// <inheritdoc/>
    public double ValidationLoss()
    {
        IProgress<double>? fraction = Progress is null ? null
            : new Reporter(f => Progress.Report(new TrainingProgress("valid", 0, 0, f, double.NaN, 0, 0, TimeSpan.Zero)));
        double loss = PerplexityEvaluator.Evaluate(_model, _corpus.Valid, _options.EvalBatchSize, _options.Bptt, fraction).Loss;
        _model.Training = true;
        return loss;
    }

    private sealed class Reporter(Action<double> report) : IProgress<double>
    {
        public void Report(double value) => report(value);
    }
}
