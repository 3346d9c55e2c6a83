using Dopant.Matrices;
using Dopant.Models;

namespace Dopant.Training;

/// <summary>
/// What happens to the compressed LSTM matrices of a model around each training step: before a window, the co-matrix
/// dropout masks of every doped matrix are drawn (from the model's random stream, so a resumed run draws the same), at a
/// probability that is constant or annealed linearly over the pruning period;
/// after the step they are switched off (evaluation never sees them) and, at the pruning events of a
/// <see cref="SparsityAnnealer"/>, every pruned part (the doping matrices S, pruned forms) is pruned by magnitude to the
/// schedule's sparsity (Zhu and Gupta 2017; Thakker et al. anneal S the same way), each matrix towards its own final
/// sparsity where the settings give one.
/// </summary>
public sealed class DopingSchedule
{
    private readonly ICompressibleModel<float> _model;
    private readonly List<PrunedMatrix<float>> _pruned = [];
    private readonly List<double> _finalSparsity = [];
    private readonly List<DopedMatrix<float>> _doped = [];
    private readonly double _sparseDropout, _sparseDropoutFinal, _structureDropout;
    private readonly long _annealStart, _annealEnd;

    /// <summary>Binds the schedule of <paramref name="options"/> to the compressed matrices of <paramref name="model"/>.</summary>
    /// <param name="model">The model; its LSTM matrices are not replaced afterwards.</param>
    /// <param name="options">The sparsity and co-matrix dropout options.</param>
    /// <param name="windowsPerEpoch">Training windows (optimizer steps) per epoch.</param>
    public DopingSchedule(LanguageModel<float> model, TrainingOptions options, int windowsPerEpoch)
        // Co-matrix dropout drops output units of a product; an embedding's rows are read, not multiplied.
        : this(model, options?.Doping ?? throw new ArgumentNullException(nameof(options)), windowsPerEpoch,
            name => name != LanguageModel<float>.EncoderWeightName)
    {
    }

    /// <summary>
    /// Binds <paramref name="settings"/> to the compressed matrices of any model; co-matrix dropout acts on the doped
    /// matrices whose names <paramref name="coMatrixDropout"/> accepts (their products must see batches of whole
    /// windows of the batch's rows, as recurrent products do).
    /// </summary>
    public DopingSchedule(ICompressibleModel<float> model, DopingSettings settings, int windowsPerEpoch, Func<string, bool> coMatrixDropout)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(coMatrixDropout);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(windowsPerEpoch);
        DopingSettings options = settings;
        _model = model;
        foreach ((string name, IWeightMatrix<float> matrix) in model.WeightMatrices)
        {
            foreach (PrunedMatrix<float> part in WeightForms.PrunedParts(matrix))
            {
                double final = options.FinalSparsityOf?.Invoke(name) ?? options.FinalSparsity;
                if (options.FinalSparsity > 0 && !(final >= options.InitialSparsity && final < 1))
                    throw new ArgumentException($"The final sparsity of '{name}' ({final:G4}) must be in [{options.InitialSparsity:G4}, 1): pruning never un-prunes.");
                _pruned.Add(part);
                _finalSparsity.Add(final);
            }
            if (matrix is DopedMatrix<float> doped && coMatrixDropout(name)) _doped.Add(doped);
        }
        _sparseDropout = options.CoMatrixDropout;
        _sparseDropoutFinal = options.CoMatrixDropoutFinal ?? options.CoMatrixDropout;
        _structureDropout = options.StructureDropout;
        _annealStart = (long)Math.Round(options.PruneStartEpoch * windowsPerEpoch);
        _annealEnd = (long)Math.Round(options.PruneEndEpoch * windowsPerEpoch);
        if (options.FinalSparsity > 0 && _pruned.Count > 0)
        {
            int events = (int)Math.Clamp(options.PruneEvents, 1, Math.Max(1, _annealEnd - _annealStart));
            long frequency = Math.Max(1, (_annealEnd - _annealStart) / events);
            Annealer = new SparsityAnnealer(options.InitialSparsity, options.FinalSparsity, _annealStart, events, frequency);
        }
    }

    /// <summary>
    /// The co-matrix dropout probability on S's output for the window after <paramref name="step"/> optimizer steps:
    /// the initial probability until pruning starts, then linear to the final one by the end of pruning.
    /// </summary>
    public double SparseDropoutAt(long step)
    {
        if (_sparseDropoutFinal == _sparseDropout || step <= _annealStart) return _sparseDropout;
        if (step >= _annealEnd) return _sparseDropoutFinal;
        return _sparseDropout + (_sparseDropoutFinal - _sparseDropout) * (step - _annealStart) / (_annealEnd - _annealStart);
    }

    /// <summary>The pruning schedule, in optimizer steps; null when nothing is pruned.</summary>
    public SparsityAnnealer? Annealer { get; }

    /// <summary>Whether the model has doped matrices (whose S can be switched off for the co-matrix adaptation check).</summary>
    public bool HasDopedMatrices => _doped.Count > 0;

    /// <summary>The pruned fraction over all pruned parts, or NaN when there are none.</summary>
    public double Sparsity
    {
        get
        {
            if (_pruned.Count == 0) return double.NaN;
            long pruned = 0, total = 0;
            foreach (PrunedMatrix<float> p in _pruned)
            {
                pruned += p.PrunedCount;
                total += p.Mask.Length;
            }
            return (double)pruned / total;
        }
    }

    /// <summary>
    /// Draws the co-matrix dropout masks for a window of <paramref name="batch"/> streams, the window after
    /// <paramref name="step"/> optimizer steps.
    /// </summary>
    public void BeforeWindow(int batch, long step)
    {
        double sparseDropout = SparseDropoutAt(step);
        if (sparseDropout <= 0 && _structureDropout <= 0) return;
        foreach (DopedMatrix<float> doped in _doped)
        {
            if (sparseDropout > 0)
            {
                doped.SparseDropout ??= new CoMatrixDropout<float>(doped.Rows, sparseDropout);
                doped.SparseDropout.Probability = sparseDropout;
                doped.SparseDropout.Resample(_model.Random, batch);
            }
            if (_structureDropout > 0)
            {
                doped.StructureDropout ??= new CoMatrixDropout<float>(doped.Rows, _structureDropout);
                doped.StructureDropout.Resample(_model.Random, batch);
            }
        }
    }

    /// <summary>
    /// Switches the dropout masks off and, when <paramref name="step"/> (the optimizer steps taken so far) is a
    /// pruning event, prunes. Returns the number of entries pruned.
    /// </summary>
    public long AfterStep(long step)
    {
        foreach (DopedMatrix<float> doped in _doped)
        {
            doped.SparseDropout?.Deactivate();
            doped.StructureDropout?.Deactivate();
        }
        if (Annealer is null || !Annealer.IsPruningStep(step)) return 0;
        long pruned = 0;
        for (int i = 0; i < _pruned.Count; i++) pruned += _pruned[i].PruneToSparsity(Annealer.SparsityAt(step, _finalSparsity[i]));
        return pruned;
    }

    /// <summary>
    /// Runs <paramref name="evaluate"/> with the doping matrices S switched off and returns its result (the co-matrix
    /// adaptation diagnostic: how much the structured part has come to rely on S).
    /// </summary>
    public TResult WithoutSparse<TResult>(Func<TResult> evaluate)
    {
        ArgumentNullException.ThrowIfNull(evaluate);
        foreach (DopedMatrix<float> doped in _doped) doped.SparseEnabled = false;
        try { return evaluate(); }
        finally
        {
            foreach (DopedMatrix<float> doped in _doped) doped.SparseEnabled = true;
        }
    }
}
