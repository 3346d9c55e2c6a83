using System.Diagnostics;
using Dopant.Data;
using Dopant.Matrices;
using Dopant.Models;
using Dopant.Numerics;

namespace Dopant.Training;

/// <summary>
/// Trains a tagger or a sentence classifier (<see cref="SentenceLabeler{T}"/>) on a <see cref="LabeledCorpus"/>:
/// batches of similar-length sentences in a new random order every epoch, the mean cross-entropy per label, global-norm
/// clipping, SGD or Adam with a step decay of the learning rate; after every epoch the validation score and a
/// checkpoint from which <see cref="Resume"/> continues exactly.
/// </summary>
public sealed class LabelerTrainer
{
    private readonly List<LabelerEpoch> _history = [];
    private readonly IOptimizer<float> _optimizer;
    private readonly IReadOnlyList<Parameter<float>> _parameters;
    private readonly ParameterChunks<float> _chunks;
    private readonly DopingSchedule? _doping;
    private readonly int[] _tokens, _labels, _lengths;
    private readonly SentenceLabeler<float>? _teacher;
    private float[] _softTargets = [];
    private DivergenceRollbacks _rollbacks;

    /// <summary>
    /// Creates a trainer for a fresh model of <paramref name="options"/> on <paramref name="corpus"/>, or for
    /// <paramref name="model"/>; when <see cref="LabelerOptions.Distillation"/> is above 0, <paramref name="teacher"/>
    /// (a trained model of the same vocabulary and labels) gives the soft targets.
    /// </summary>
    /// <exception cref="ArgumentException">The options are not valid, or a teacher is missing, unwanted or of other sizes.</exception>
    public LabelerTrainer(LabelerOptions options, LabeledCorpus corpus, SentenceLabeler<float>? model = null, SentenceLabeler<float>? teacher = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(corpus);
        options.Validate();
        if (corpus.Task != options.Task) throw new ArgumentException($"The corpus is for {corpus.Task}, the options for {options.Task}.");
        Options = options;
        Corpus = corpus;
        var random = new Xoshiro256(options.Seed);
        if (model is null)
        {
            model = new SentenceLabeler<float>(options.ModelConfig(corpus.Vocabulary.Count, corpus.Labels.Count));
            model.InitializeUniform(options.InitRange, random);
        }
        Model = model;
        Model.Random = random;
        _parameters = model.Parameters;
        _chunks = new ParameterChunks<float>(_parameters);
        _optimizer = options.Optimizer == "adam" ? new AdamOptimizer<float>() : new SgdOptimizer<float>();
        TrainBatches = new SentenceBatches(corpus.Train, options.Task, options.BatchSize, options.MaxLength, Path.Combine(corpus.Folder, PtbCorpus.TrainFileName));
        _tokens = new int[Math.Max(1, TrainBatches.MaxSteps) * options.BatchSize];
        _labels = new int[_tokens.Length];
        _lengths = new int[options.BatchSize];
        _rollbacks = new DivergenceRollbacks(options.MaxRollbacks, options.RollbackLearningRateFactor, [], 1);
        // Co-matrix dropout holds one mask row per sentence of a batch, which only the recurrent products see whole.
        _doping = model.IsCompressed() ? new DopingSchedule(model, options.Doping, TrainBatches.Count, LanguageModel<float>.IsRecurrent) : null;
        if (options.Distillation == 0 && teacher is not null)
            throw new ArgumentException("A teacher model was given to a run without distillation (LabelerOptions.Distillation is 0).", nameof(teacher));
        if (options.Distillation > 0)
        {
            if (teacher is null) throw new ArgumentException($"The run distills from a teacher (weight {options.Distillation:G}) but none was given.", nameof(teacher));
            if (teacher.Config.VocabularySize != model.Config.VocabularySize || teacher.Config.LabelCount != model.Config.LabelCount || teacher.Config.Head != model.Config.Head)
                throw new ArgumentException(
                    $"The teacher has {teacher.Config.VocabularySize} words and {teacher.Config.LabelCount} labels, the student {model.Config.VocabularySize} and {model.Config.LabelCount}; " +
                    "a teacher must label the same corpus.", nameof(teacher));
            _teacher = teacher;
            _teacher.Training = false;
        }
    }

    /// <summary>The options.</summary>
    public LabelerOptions Options { get; }

    /// <summary>The corpus.</summary>
    public LabeledCorpus Corpus { get; }

    /// <summary>The model being trained.</summary>
    public SentenceLabeler<float> Model { get; }

    /// <summary>The training sentences in batches.</summary>
    public SentenceBatches TrainBatches { get; }

    /// <summary>Epochs finished.</summary>
    public int EpochsCompleted { get; private set; }

    /// <summary>Every finished epoch.</summary>
    public IReadOnlyList<LabelerEpoch> History => _history;

    /// <summary>Raised after every epoch, once its checkpoint is written.</summary>
    public event Action<LabelerEpoch>? EpochCompleted;

    /// <summary>
    /// A trainer that continues the run saved in <paramref name="checkpoint"/> exactly where its last epoch ended; a
    /// distilling run loads its teacher again from <see cref="LabelerOptions.Teacher"/>.
    /// </summary>
    public static LabelerTrainer Resume(LabelerCheckpoint checkpoint, LabeledCorpus corpus)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        LabelerOptions options = checkpoint.Options ?? throw new InvalidDataException("The file holds no training options: it is not a training checkpoint.");
        LabelerState state = checkpoint.State ?? throw new InvalidDataException("The file holds no training state: it is not a training checkpoint.");
        SentenceLabeler<float>? teacher = options.Distillation > 0 ? LabelerCheckpoint.Load(options.Teacher!).Model : null;
        var trainer = new LabelerTrainer(options, corpus, checkpoint.Model, teacher);
        trainer.EpochsCompleted = state.EpochsCompleted;
        trainer._history.AddRange(state.History);
        trainer.Model.Random = new Xoshiro256(state.RandomState);
        trainer._rollbacks = new DivergenceRollbacks(options.MaxRollbacks, options.RollbackLearningRateFactor, state.Divergences, state.LearningRateScale);
        trainer._optimizer.StepCount = state.OptimizerSteps;
        if (trainer._optimizer is AdamOptimizer<float> adam)
            foreach ((string key, float[] values) in checkpoint.OptimizerState) adam.RestoreState(key, (float[])values.Clone());
        return trainer;
    }

    /// <summary>Raised after every optimizer step of training (to re-impose constraints on the weights, such as masks).</summary>
    public event Action? OptimizerStepped;

    /// <summary>Raised when an epoch diverged and was rolled back to train again at a lower learning rate.</summary>
    public event Action<DivergenceEvent>? Diverged;

    /// <summary>
    /// Trains the remaining epochs, writing <paramref name="checkpointPath"/> after each, and returns the validation and
    /// test scores. An epoch whose batch loss is not finite or above twice a uniform guess's is rolled back to its start
    /// and trained again at <see cref="LabelerOptions.RollbackLearningRateFactor"/> times the learning rate, at most
    /// <see cref="LabelerOptions.MaxRollbacks"/> times in a run.
    /// </summary>
    /// <exception cref="TrainingDivergedException">The run diverged more often than it may roll back.</exception>
    public (LabelingScore Valid, LabelingScore Test) Run(string checkpointPath, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(checkpointPath);
        while (EpochsCompleted < Options.Epochs)
        {
            int epoch = EpochsCompleted + 1;
            TrainingSnapshot? lastGood = Options.MaxRollbacks > 0 ? TrainingSnapshot.Capture(Model, _optimizer) : null;
            double rate, lossSum, seconds;
            long labelCount;
            while (true)
            {
                rate = LearningRateSchedule.Zaremba(Options.LearningRate * _rollbacks.LearningRateScale, Options.Decay, Options.DecayAfter, epoch);
                (lossSum, labelCount, seconds, int divergedBatch, double divergedLoss) = TrainEpoch(epoch, rate, progress, cancellationToken);
                if (divergedBatch == 0) break;
                RollBack(lastGood, _rollbacks.Diverged(epoch, divergedBatch, divergedLoss));
            }
            Model.Training = false;
            LabelingScore valid = Evaluate(Model, Corpus.Valid, Corpus, Options);
            var result = new LabelerEpoch(epoch, rate, lossSum / labelCount, valid, labelCount / Math.Max(seconds, 1e-9), seconds,
                _doping is null || double.IsNaN(_doping.Sparsity) ? null : _doping.Sparsity);
            _history.Add(result);
            EpochsCompleted = epoch;
            LabelerCheckpoint.Save(checkpointPath, Model, Corpus.Vocabulary, Corpus.Labels, Options, State, _optimizer);
            EpochCompleted?.Invoke(result);
        }
        Model.Training = false;
        return (Evaluate(Model, Corpus.Valid, Corpus, Options), Evaluate(Model, Corpus.Test, Corpus, Options));
    }

    /// <summary>The run's state after its last finished epoch, as its checkpoints store it.</summary>
    public LabelerState State => new()
    {
        EpochsCompleted = EpochsCompleted, RandomState = Model.Random.GetState(), OptimizerSteps = _optimizer.StepCount, History = [.. _history],
        LearningRateScale = _rollbacks.LearningRateScale, Divergences = [.. _rollbacks.Events],
    };

    /// <summary>Every epoch that diverged and was rolled back.</summary>
    public IReadOnlyList<DivergenceEvent> Divergences => _rollbacks.Events;

    // One pass over the training batches; returns the batch (1-based) at which it diverged and that batch's loss per label, or batch 0.
    private (double LossSum, long Labels, double Seconds, int DivergedBatch, double DivergedLoss) TrainEpoch(int epoch, double rate,
        IProgress<TrainingProgress>? progress, CancellationToken cancellationToken)
    {
        Model.Training = true;
        var clock = Stopwatch.StartNew();
        double lossSum = 0;
        long labelCount = 0;
        // Twice the cross-entropy of a uniform guess: a model that far off has left any sensible region.
        double divergedLoss = 2 * Math.Log(Math.Max(Model.Config.LabelCount, 2));
        int[] order = TrainBatches.Order(Model.Random);
        for (int i = 0; i < order.Length; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            (int steps, int batch) = TrainBatches.Fill(order[i], _tokens, _lengths, _labels);
            _chunks.ZeroGradients();
            _doping?.BeforeWindow(batch, _optimizer.StepCount);
            ReadOnlySpan<int> tokens = _tokens.AsSpan(0, steps * batch), lengths = _lengths.AsSpan(0, batch),
                labels = _labels.AsSpan(0, Options.Task == LabelingTask.Tagging ? steps * batch : batch);
            if (_teacher is not null)
            {
                _teacher.Forward(tokens, lengths, labels, steps, batch);
                if (_softTargets.Length < _teacher.Probabilities.Length) _softTargets = new float[_teacher.Probabilities.Length];
                _teacher.Probabilities.CopyTo(_softTargets);
            }
            double loss = Model.Forward(tokens, lengths, labels, steps, batch);
            if (!(loss / Model.Count <= divergedLoss))
            {
                _doping?.AfterStep(_optimizer.StepCount);
                return (double.NaN, labelCount, clock.Elapsed.TotalSeconds, i + 1, loss / Model.Count);
            }
            if (_teacher is null) Model.Backward(1f / Model.Count);
            else Model.Backward(1f / Model.Count, _softTargets.AsSpan(0, Model.Count * Model.Config.LabelCount), (float)Options.Distillation);
            double coefficient = GradientClipping.Coefficient(GradientClipping.GlobalNorm(_chunks), Options.Clip);
            _optimizer.Step(_parameters, rate, coefficient);
            _doping?.AfterStep(_optimizer.StepCount);
            OptimizerStepped?.Invoke();
            lossSum += loss;
            labelCount += Model.Count;
            double elapsed = clock.Elapsed.TotalSeconds;
            progress?.Report(new TrainingProgress("train", epoch, Options.Epochs, (i + 1.0) / order.Length, lossSum / labelCount, rate,
                labelCount / Math.Max(elapsed, 1e-9), TimeSpan.FromSeconds(elapsed / (i + 1) * (order.Length - i - 1))));
        }
        return (lossSum, labelCount, clock.Elapsed.TotalSeconds, 0, 0);
    }

    private void RollBack(TrainingSnapshot? lastGood, DivergenceEvent divergence)
    {
        _rollbacks.RollBack(lastGood, divergence, $"at batch {divergence.Window}", "label");
        Diverged?.Invoke(divergence);
    }

    /// <summary>
    /// Scores <paramref name="model"/> on <paramref name="sentences"/> (read with the corpus's vocabulary and labels),
    /// in batches of <see cref="LabelerOptions.BatchSize"/>: accuracy, accuracy on tokens outside the vocabulary
    /// (read as <c>&lt;unk&gt;</c>), macro-F1 and mean loss.
    /// </summary>
    public static LabelingScore Evaluate(SentenceLabeler<float> model, IReadOnlyList<LabeledSentence> sentences, LabeledCorpus corpus, LabelerOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(sentences);
        ArgumentNullException.ThrowIfNull(corpus);
        ArgumentNullException.ThrowIfNull(options);
        var batches = new SentenceBatches(sentences, corpus.Task, options.BatchSize, int.MaxValue, "evaluation");
        int classes = model.Config.LabelCount, unknown = corpus.Vocabulary.UnknownId;
        var tokens = new int[Math.Max(1, batches.MaxSteps) * options.BatchSize];
        var labels = new int[tokens.Length];
        var lengths = new int[options.BatchSize];
        var truePositives = new long[classes];
        var predicted = new long[classes];
        var actual = new long[classes];
        long total = 0, correct = 0, unknownTotal = 0, unknownCorrect = 0;
        double lossSum = 0;
        bool training = model.Training;
        model.Training = false;
        for (int i = 0; i < batches.Count; i++)
        {
            (int steps, int batch) = batches.Fill(i, tokens, lengths, labels);
            bool tagging = corpus.Task == LabelingTask.Tagging;
            ReadOnlySpan<int> batchLabels = labels.AsSpan(0, tagging ? steps * batch : batch);
            lossSum += model.Forward(tokens.AsSpan(0, steps * batch), lengths.AsSpan(0, batch), batchLabels, steps, batch);
            ReadOnlySpan<float> p = model.Probabilities;
            int n = 0;
            for (int t = 0; t < (tagging ? steps : 1); t++)
                for (int b = 0; b < batch; b++)
                {
                    if (tagging && t >= lengths[b]) continue;
                    int truth = tagging ? labels[t * batch + b] : labels[b];
                    int guess = System.Numerics.Tensors.TensorPrimitives.IndexOfMax(p.Slice(n * classes, classes));
                    n++;
                    total++;
                    actual[truth]++;
                    predicted[guess]++;
                    if (guess == truth)
                    {
                        correct++;
                        truePositives[truth]++;
                    }
                    if (tagging && tokens[t * batch + b] == unknown)
                    {
                        unknownTotal++;
                        if (guess == truth) unknownCorrect++;
                    }
                }
        }
        model.Training = training;
        double f1Sum = 0;
        int f1Labels = 0;
        for (int c = 0; c < classes; c++)
        {
            if (actual[c] == 0 && predicted[c] == 0) continue;
            f1Labels++;
            f1Sum += 2.0 * truePositives[c] / (actual[c] + predicted[c]);
        }
        return new LabelingScore(total, (double)correct / total, unknownTotal, unknownTotal == 0 ? double.NaN : (double)unknownCorrect / unknownTotal,
            f1Labels == 0 ? 0 : f1Sum / f1Labels, lossSum / total);
    }
}
