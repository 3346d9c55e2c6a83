using System.Diagnostics;
using System.Numerics.Tensors;
using Dopant.Data;
using Dopant.Matrices;
using Dopant.Models;
using Dopant.Numerics;
using Dopant.Tasks;

namespace Dopant.Training;

/// <summary>
/// Trains a <see cref="LanguageModel{T}"/> by truncated back-propagation through time: the corpus is laid out in
/// <see cref="TrainingOptions.BatchSize"/> parallel streams, cut into windows of <see cref="TrainingOptions.Bptt"/> steps,
/// and the recurrent state is carried from one window to the next (reset each epoch). Each window: forward, backward,
/// global-norm clipping, one optimizer step. Validation perplexity after every epoch; a checkpoint after every epoch
/// from which <see cref="Resume(ModelCheckpoint, PtbCorpus)"/> continues exactly. An epoch that diverges (a window's loss not finite or above twice
/// that of a uniform guess; a validation perplexity or weight that is not finite) is rolled back to the end of the
/// previous epoch and trained again at a lower learning rate (<see cref="TrainingOptions.MaxRollbacks"/> times at most),
/// and reported through <see cref="Diverged"/>.
/// </summary>
public sealed class LanguageModelTrainer
{
    private readonly PtbCorpus _corpus;
    private readonly IOptimizer<float> _optimizer;
    private readonly TbpttStep<float> _step;
    private readonly DopingSchedule _doping;
    private readonly DistillationTeacher<float>? _teacher;
    private readonly List<EpochResult> _history;
    private readonly DivergenceRollbacks _rollbacks;
    private readonly double _divergedLoss;
    private int _epochsCompleted;
    private double _trainSeconds;
    private long _trainTokens;

    /// <summary>Starts a new run: a model initialized uniformly from <see cref="TrainingOptions.Seed"/>.</summary>
    public LanguageModelTrainer(TrainingOptions options, PtbCorpus corpus)
        : this(options, corpus, model: null)
    {
    }

    /// <summary>
    /// Starts a new run from <paramref name="model"/> (a trained or compressed model, trained further in place), or
    /// from a fresh model initialized uniformly from <see cref="TrainingOptions.Seed"/> when it is null. The model's
    /// architecture must match <paramref name="options"/> and the corpus vocabulary. A given model's random stream
    /// (dropout, co-matrix dropout) is seeded from Seed + 1, apart from the stream <see cref="CreateModel"/> initializes
    /// with. Replace its matrices (compress it) before this: the trainer binds its parameters here.
    /// </summary>
    public LanguageModelTrainer(TrainingOptions options, PtbCorpus corpus, LanguageModel<float>? model)
        : this(options, corpus, model, teacher: null)
    {
    }

    /// <summary>
    /// Starts a new run from <paramref name="model"/> as above; when <see cref="TrainingOptions.Distillation"/> is
    /// positive, <paramref name="teacher"/> (a trained model on the same vocabulary, left unchanged) supplies the
    /// probabilities mixed into the targets.
    /// </summary>
    public LanguageModelTrainer(TrainingOptions options, PtbCorpus corpus, LanguageModel<float>? model, LanguageModel<float>? teacher)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(corpus);
        options.Validate();
        Options = options;
        _corpus = corpus;
        var random = new Xoshiro256(options.Seed);
        LanguageModelConfig config = options.ModelConfig(corpus.Vocabulary.Count);
        if (model is null)
        {
            model = new LanguageModel<float>(config);
            model.InitializeUniform(options.InitRange, random);
        }
        else if (model.Config != config)
        {
            throw new ArgumentException($"The model ({model.Config}) does not match the options and corpus ({config}).", nameof(model));
        }
        else
        {
            random = new Xoshiro256(options.Seed + 1);
        }
        Model = model;
        Model.Training = true;
        Model.Random = random;
        _optimizer = CreateOptimizer(options.Optimizer);
        _teacher = CreateTeacher(options, corpus, Model, teacher);
        _step = new TbpttStep<float>(Model, _optimizer, options.Clip, options.TimeSummedLoss, _teacher, options.ScaledLowRank);
        _doping = CreateDopingSchedule();
        _history = [];
        _rollbacks = new DivergenceRollbacks(options.MaxRollbacks, options.RollbackLearningRateFactor, [], 1);
        _divergedLoss = DivergedLoss(corpus.Vocabulary.Count);
    }

    /// <summary>A fresh model for <paramref name="options"/>, initialized uniformly from <see cref="TrainingOptions.Seed"/>.</summary>
    public static LanguageModel<float> CreateModel(TrainingOptions options, int vocabularySize)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var model = new LanguageModel<float>(options.ModelConfig(vocabularySize));
        model.InitializeUniform(options.InitRange, new Xoshiro256(options.Seed));
        return model;
    }

    private LanguageModelTrainer(ModelCheckpoint checkpoint, PtbCorpus corpus, LanguageModel<float>? teacher)
    {
        Options = checkpoint.Options!;
        _corpus = corpus;
        Model = checkpoint.Model;
        Model.Training = true;
        TrainingState state = checkpoint.State!;
        Model.Random = new Xoshiro256(state.RandomState);
        _optimizer = CreateOptimizer(Options.Optimizer);
        _optimizer.StepCount = state.OptimizerSteps;
        _teacher = CreateTeacher(Options, corpus, Model, teacher);
        _step = new TbpttStep<float>(Model, _optimizer, Options.Clip, Options.TimeSummedLoss, _teacher, Options.ScaledLowRank);
        _doping = CreateDopingSchedule();
        if (_optimizer is AdamOptimizer<float> adam)
            foreach ((string key, float[] values) in checkpoint.OptimizerState) adam.RestoreState(key, values);
        _history = [.. state.History];
        _rollbacks = new DivergenceRollbacks(Options.MaxRollbacks, Options.RollbackLearningRateFactor, state.Divergences, state.LearningRateScale);
        _divergedLoss = DivergedLoss(corpus.Vocabulary.Count);
        _epochsCompleted = state.EpochsCompleted;
        _trainSeconds = state.TrainSeconds;
        _trainTokens = state.TrainTokens;
    }

    /// <summary>
    /// Continues the run saved in <paramref name="checkpoint"/> on <paramref name="corpus"/>, which must have been loaded
    /// with the checkpoint's vocabulary. The continued run reproduces the uninterrupted one exactly (same thread count).
    /// </summary>
    public static LanguageModelTrainer Resume(ModelCheckpoint checkpoint, PtbCorpus corpus) => Resume(checkpoint, corpus, teacher: null);

    /// <summary>
    /// Continues a run as <see cref="Resume(ModelCheckpoint, PtbCorpus)"/> does; a distilling run needs its
    /// <paramref name="teacher"/> again (the model in <see cref="TrainingOptions.Teacher"/>).
    /// </summary>
    public static LanguageModelTrainer Resume(ModelCheckpoint checkpoint, PtbCorpus corpus, LanguageModel<float>? teacher)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        ArgumentNullException.ThrowIfNull(corpus);
        if (checkpoint.Options is null || checkpoint.State is null)
            throw new InvalidDataException("The checkpoint holds no training state to resume from (it is a finished or imported model).");
        if (!checkpoint.Vocabulary.Words.SequenceEqual(corpus.Vocabulary.Words))
            throw new ArgumentException("The corpus vocabulary differs from the checkpoint's; load the corpus with the checkpoint's vocabulary.", nameof(corpus));
        return new LanguageModelTrainer(checkpoint, corpus, teacher);
    }

    /// <summary>The run's options.</summary>
    public TrainingOptions Options { get; }

    /// <summary>The model being trained.</summary>
    public LanguageModel<float> Model { get; }

    /// <summary>The corpus trained on and evaluated against.</summary>
    public PtbCorpus Corpus => _corpus;

    /// <summary>Epochs finished so far.</summary>
    public int EpochsCompleted => _epochsCompleted;

    /// <summary>The run's position, as a checkpoint stores it.</summary>
    public TrainingState State => new()
    {
        EpochsCompleted = _epochsCompleted,
        RandomState = Model.Random.GetState(),
        OptimizerSteps = _optimizer.StepCount,
        TrainSeconds = _trainSeconds,
        TrainTokens = _trainTokens,
        LearningRateScale = _rollbacks.LearningRateScale,
        Divergences = [.. _rollbacks.Events],
        History = [.. _history],
    };

    /// <summary>Raised after every optimizer step of training (to re-impose constraints on the weights, such as masks).</summary>
    public event Action? OptimizerStepped;

    /// <summary>Raised after every epoch (once its checkpoint, if any, is written) with the epoch's figures.</summary>
    public event Action<EpochResult>? EpochCompleted;

    /// <summary>Raised when an epoch diverged and was rolled back, before it is trained again.</summary>
    public event Action<DivergenceEvent>? Diverged;

    /// <summary>
    /// Trains the remaining epochs, writing a checkpoint to <paramref name="checkpointPath"/> (when given) after each,
    /// then evaluates validation and test perplexity.
    /// </summary>
    public TrainingResult Run(string? checkpointPath = null, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var train = new BatchedTokenStream(_corpus.Train, Options.BatchSize);
        if (train.Length < 2) throw new ArgumentException($"The training set ({_corpus.Train.Length} tokens) is too small for batch size {Options.BatchSize}.");
        for (int epoch = _epochsCompleted + 1; epoch <= Options.Epochs; epoch++)
        {
            TrainingSnapshot? lastGood = Options.MaxRollbacks > 0 ? TrainingSnapshot.Capture(Model, _optimizer) : null;
            double lr, trainLoss, seconds, valid;
            long tokens;
            while (true)
            {
                lr = LearningRateSchedule.Zaremba(Options.LearningRate * _rollbacks.LearningRateScale, Options.Decay, Options.DecayAfter, epoch);
                (trainLoss, tokens, seconds, int divergedWindow, double divergedLoss) = TrainEpoch(train, epoch, lr, progress, cancellationToken);
                valid = divergedWindow > 0 ? double.NaN : Evaluate(_corpus.Valid, "valid", epoch, lr, progress).Value;
                if (divergedWindow == 0 && (!double.IsFinite(valid) || !ParametersFinite())) divergedLoss = Math.Log(valid);
                else if (divergedWindow == 0) break;
                RollBack(lastGood, _rollbacks.Diverged(epoch, divergedWindow, divergedLoss));
            }
            _trainSeconds += seconds;
            _trainTokens += tokens;
            double? validWithoutSparse = _doping.HasDopedMatrices
                ? _doping.WithoutSparse(() => Evaluate(_corpus.Valid, "valid without S", epoch, lr, progress).Value)
                : null;
            double? sparsity = double.IsNaN(_doping.Sparsity) ? null : _doping.Sparsity;
            _history.Add(new EpochResult(epoch, lr, Math.Exp(trainLoss), valid, tokens / seconds, seconds, validWithoutSparse, sparsity));
            _epochsCompleted = epoch;
            if (checkpointPath is not null)
                ModelCheckpoint.Save(checkpointPath, Model, _corpus.Vocabulary, Options, State, _optimizer);
            EpochCompleted?.Invoke(_history[^1]);
        }
        double finalLr = _history.Count > 0 ? _history[^1].LearningRate : Options.LearningRate;
        double validPerplexity = _history.Count > 0 ? _history[^1].ValidPerplexity : Evaluate(_corpus.Valid, "valid", Options.Epochs, finalLr, progress).Value;
        double testPerplexity = Evaluate(_corpus.Test, "test", Options.Epochs, finalLr, progress).Value;
        return new TrainingResult([.. _history], validPerplexity, testPerplexity, _trainSeconds > 0 ? _trainTokens / _trainSeconds : 0, _trainSeconds,
            [.. _rollbacks.Events]);
    }

    // Twice the cross-entropy of a uniform guess: a model that far off has left any sensible region.
    private static DistillationTeacher<float>? CreateTeacher(TrainingOptions options, PtbCorpus corpus, LanguageModel<float> model, LanguageModel<float>? teacher)
    {
        if (options.Distillation == 0)
        {
            if (teacher is not null) throw new ArgumentException("A teacher model was given to a run without distillation (TrainingOptions.Distillation is 0).", nameof(teacher));
            return null;
        }
        if (teacher is null) throw new ArgumentException($"The run distills from a teacher (weight {options.Distillation:G}) but none was given.", nameof(teacher));
        if (ReferenceEquals(teacher, model)) throw new ArgumentException("The teacher must be another model object than the one trained (load it again).", nameof(teacher));
        if (teacher.Config.VocabularySize != corpus.Vocabulary.Count)
            throw new ArgumentException($"The teacher has {teacher.Config.VocabularySize} words, the corpus {corpus.Vocabulary.Count}.", nameof(teacher));
        return new DistillationTeacher<float>(teacher, options.Distillation);
    }

    private static double DivergedLoss(int vocabularySize) => 2 * Math.Log(Math.Max(vocabularySize, 2));

    private void RollBack(TrainingSnapshot? lastGood, DivergenceEvent divergence)
    {
        _rollbacks.RollBack(lastGood, divergence, divergence.Window > 0 ? $"at training window {divergence.Window}" : "by the end of the epoch", "token");
        Diverged?.Invoke(divergence);
    }

    private bool ParametersFinite()
    {
        foreach (Parameter<float> p in Model.Parameters)
            if (!float.IsFinite(TensorPrimitives.Sum<float>(p.Value))) return false;
        return true;
    }

    /// <summary>The share of the pruned parts' entries (S, pruned matrices) cut now; null when the model has none.</summary>
    public double? Sparsity => double.IsNaN(_doping.Sparsity) ? null : _doping.Sparsity;

    /// <summary>
    /// Measures training throughput: <paramref name="warmupWindows"/> untimed windows, then <paramref name="windows"/>
    /// timed ones, at the first epoch's learning rate. Returns target tokens per second. The model is changed.
    /// </summary>
    public double MeasureThroughput(int warmupWindows, int windows)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(warmupWindows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(windows);
        var train = new BatchedTokenStream(_corpus.Train, Options.BatchSize);
        var state = Model.CreateState(Options.BatchSize);
        _teacher?.Reset(Options.BatchSize);
        var inputs = new int[Options.Bptt * Options.BatchSize];
        var targets = new int[inputs.Length];
        int available = train.WindowCount(Options.Bptt);
        long tokens = 0;
        var clock = new Stopwatch();
        for (int w = 0; w < warmupWindows + windows; w++)
        {
            if (w == warmupWindows) clock.Start();
            BpttWindow window = train.WindowAt(w % available * Options.Bptt, Options.Bptt);
            int n = train.CopyWindow(window, inputs, targets);
            _doping.BeforeWindow(Options.BatchSize, _optimizer.StepCount);
            _step.Run(inputs.AsSpan(0, n), targets.AsSpan(0, n), window.Length, Options.BatchSize, state, Options.LearningRate);
            _doping.AfterStep(_optimizer.StepCount);
            if (w >= warmupWindows) tokens += n;
        }
        return tokens / clock.Elapsed.TotalSeconds;
    }

    // Returns the window (1-based) at which the epoch diverged and that window's loss per token, or window 0.
    private (double Loss, long Tokens, double Seconds, int DivergedWindow, double DivergedLoss) TrainEpoch(BatchedTokenStream train, int epoch, double lr,
        IProgress<TrainingProgress>? progress, CancellationToken cancellationToken)
    {
        Model.Training = true;
        var state = Model.CreateState(Options.BatchSize);
        _teacher?.Reset(Options.BatchSize);
        var inputs = new int[Options.Bptt * Options.BatchSize];
        var targets = new int[inputs.Length];
        int windows = train.WindowCount(Options.Bptt), done = 0;
        int reportEvery = Math.Max(1, windows / 200);
        double lossSum = 0;
        long tokens = 0;
        var clock = Stopwatch.StartNew();
        foreach (BpttWindow window in train.Windows(Options.Bptt))
        {
            cancellationToken.ThrowIfCancellationRequested();
            int n = train.CopyWindow(window, inputs, targets);
            _doping.BeforeWindow(Options.BatchSize, _optimizer.StepCount);
            double loss = _step.Run(inputs.AsSpan(0, n), targets.AsSpan(0, n), window.Length, Options.BatchSize, state, lr).Loss;
            _doping.AfterStep(_optimizer.StepCount);
            if (!(loss / n <= _divergedLoss)) return (double.NaN, tokens, clock.Elapsed.TotalSeconds, done + 1, loss / n);
            lossSum += loss;
            OptimizerStepped?.Invoke();
            tokens += n;
            if (++done % reportEvery == 0 || done == windows)
            {
                double rate = tokens / clock.Elapsed.TotalSeconds;
                long remainingTokens = (long)(Options.Epochs - epoch) * train.TargetCount + (train.TargetCount - tokens);
                progress?.Report(new TrainingProgress("train", epoch, Options.Epochs, done / (double)windows, lossSum / tokens, lr,
                    rate, TimeSpan.FromSeconds(remainingTokens / Math.Max(rate, 1e-9))));
            }
        }
        return (lossSum / tokens, tokens, clock.Elapsed.TotalSeconds, 0, 0);
    }

    private Perplexity Evaluate(int[] tokens, string phase, int epoch, double lr, IProgress<TrainingProgress>? progress)
    {
        IProgress<double>? fraction = progress is null ? null
            : new DirectProgress<double>(f => progress.Report(new TrainingProgress(phase, epoch, Options.Epochs, f, double.NaN, lr, 0, TimeSpan.Zero)));
        Perplexity result = PerplexityEvaluator.Evaluate(Model, tokens, Options.EvalBatchSize, Options.Bptt, fraction);
        Model.Training = true;
        return result;
    }

    private DopingSchedule CreateDopingSchedule() =>
        new(Model, Options, Math.Max(1, new BatchedTokenStream(_corpus.Train, Options.BatchSize).WindowCount(Options.Bptt)));

    private static IOptimizer<float> CreateOptimizer(string name) => name switch
    {
        "sgd" => new SgdOptimizer<float>(),
        "adam" => new AdamOptimizer<float>(),
        _ => throw new ArgumentException($"Unknown optimizer '{name}'; expected sgd or adam."),
    };

    // Reports synchronously on the calling thread (System.Progress posts to a synchronization context).
    private sealed class DirectProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
