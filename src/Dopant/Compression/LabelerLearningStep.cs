using Dopant.Data;
using Dopant.Matrices;
using Dopant.Models;
using Dopant.Numerics;
using Dopant.Training;

namespace Dopant.Compression;

/// <summary>
/// The L step of learning-compression for a tagger or classifier: SGD on batches of the training sentences (the mean
/// cross-entropy per label, clipped as in training) plus the L-C penalty, for a number of batches, the learning rate
/// decaying geometrically within the step to <see cref="FinalLearningRateRatio"/> of its start, and a fresh optimizer
/// every step. The batches continue through a seeded order from step to step. The validation loss is the mean
/// cross-entropy per label on the validation sentences.
/// </summary>
public sealed class LabelerLearningStep : ILearningStep
{
    private readonly SentenceLabeler<float> _model;
    private readonly LabeledCorpus _corpus;
    private readonly LabelerOptions _options;
    private readonly SentenceBatches _train;
    private readonly int[] _order;
    private readonly int[] _tokens, _labels, _lengths;

    /// <summary>Creates the learner.</summary>
    /// <param name="model">The model, trained in place.</param>
    /// <param name="corpus">The corpus, in the model's vocabulary and labels.</param>
    /// <param name="options">Batch size, learning rate, clipping and seed.</param>
    /// <param name="batches">Batches of every L step after the first.</param>
    /// <param name="firstBatches">Batches of the first L step (Condensa makes it longer).</param>
    public LabelerLearningStep(SentenceLabeler<float> model, LabeledCorpus corpus, LabelerOptions options, int batches, int firstBatches)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(corpus);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batches);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(firstBatches);
        _model = model;
        _corpus = corpus;
        _options = options;
        Batches = batches;
        FirstBatches = firstBatches;
        _train = new SentenceBatches(corpus.Train, options.Task, options.BatchSize, options.MaxLength, Path.Combine(corpus.Folder, PtbCorpus.TrainFileName));
        if (_train.Count < 1) throw new ArgumentException($"'{corpus.Folder}' has no training sentences.");
        _order = _train.Order(new Xoshiro256(options.Seed));
        _tokens = new int[Math.Max(1, _train.MaxSteps) * options.BatchSize];
        _labels = new int[_tokens.Length];
        _lengths = new int[options.BatchSize];
    }

    /// <summary>Batches of every L step after the first.</summary>
    public int Batches { get; }

    /// <summary>Batches of the first L step.</summary>
    public int FirstBatches { get; }

    /// <summary>The learning rate at the end of an L step as a fraction of <see cref="LabelerOptions.LearningRate"/>.</summary>
    public double FinalLearningRateRatio { get; init; } = 0.1;

    /// <summary>Receives the progress of every L step.</summary>
    public IProgress<TrainingProgress>? Progress { get; init; }

    /// <summary>The L step's cancellation.</summary>
    public CancellationToken CancellationToken { get; init; }

    /// <inheritdoc/>
    public void Learn(int iteration, LearningCompressionPenalty penalty)
    {
        ArgumentNullException.ThrowIfNull(penalty);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(iteration);
        int batches = iteration == 1 ? FirstBatches : Batches;
        long start = iteration == 1 ? 0 : FirstBatches + (long)(iteration - 2) * Batches;
        // Seeded by the iteration, so that a resumed run draws the same dropout masks.
        _model.Random = new Xoshiro256(_options.Seed + 1000UL * (ulong)iteration);
        _model.Training = true;
        IReadOnlyList<Parameter<float>> parameters = _model.Parameters;
        var chunks = new ParameterChunks<float>(parameters);
        var optimizer = new SgdOptimizer<float>();
        double lossSum = 0;
        long labels = 0;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (int k = 0; k < batches; k++)
        {
            CancellationToken.ThrowIfCancellationRequested();
            (int steps, int batch) = _train.Fill(_order[(int)((start + k) % _order.Length)], _tokens, _lengths, _labels);
            chunks.ZeroGradients();
            lossSum += _model.Forward(_tokens.AsSpan(0, steps * batch), _lengths.AsSpan(0, batch),
                _labels.AsSpan(0, _options.Task == LabelingTask.Tagging ? steps * batch : batch), steps, batch);
            labels += _model.Count;
            _model.Backward(1f / _model.Count);
            double coefficient = GradientClipping.Coefficient(GradientClipping.GlobalNorm(chunks), _options.Clip);
            penalty.AddGradients(coefficient);
            double lr = _options.LearningRate * Math.Pow(FinalLearningRateRatio, (double)k / Math.Max(1, batches - 1));
            optimizer.Step(parameters, lr, coefficient);
            if (Progress is not null && ((k + 1) % Math.Max(1, batches / 50) == 0 || k + 1 == batches))
            {
                double seconds = clock.Elapsed.TotalSeconds;
                Progress.Report(new TrainingProgress($"L step {iteration}", iteration, iteration, (k + 1.0) / batches, lossSum / labels, lr,
                    labels / Math.Max(seconds, 1e-9), TimeSpan.FromSeconds(seconds / (k + 1) * (batches - k - 1))));
            }
        }
    }

    /// <inheritdoc/>
    public double ValidationLoss()
    {
        double loss = LabelerTrainer.Evaluate(_model, _corpus.Valid, _corpus, _options).Loss;
        _model.Training = true;
        return loss;
    }
}
