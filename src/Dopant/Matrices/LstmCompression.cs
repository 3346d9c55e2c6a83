
namespace Dopant.Matrices;

/// <summary>
/// The compression methods of the doping papers for the LSTM matrices of a language model, at a target compression
/// factor f of each matrix (m·n weights become at most m·n / f stored parameters):
/// <c>kp</c> (Kronecker product), <c>lmf</c> (low-rank), <c>hmd</c> (hybrid: dense top rows, low-rank rest),
/// <c>prune</c> (magnitude pruning to sparsity 1 − 1/f), and the doped forms <c>dkp</c>, <c>dlmf</c>, <c>dhmd</c>: the
/// structure plus a sparse S that keeps <see cref="DopingShare"/> of the budget (density share/f at the end of the
/// anneal) while the structure takes the rest (factor f/(1 − share)).
/// </summary>
/// <param name="Method">The method.</param>
/// <param name="Factor">The target compression factor of each LSTM matrix, greater than 1.</param>
/// <param name="DopingShare">For doped methods, the share of the parameter budget that the doping matrix S keeps, in (0, 1).</param>
/// <param name="KroneckerFactors">
/// For <c>kp</c> and <c>dkp</c>, the number of Kronecker factors, 2 to 4: 2 is a sum of products A ⊗ B
/// (<see cref="KroneckerMatrix{T}"/>), more a sum of chains A_1 ⊗ … ⊗ A_k (<see cref="KroneckerChainMatrix{T}"/>).
/// </param>
public sealed record LstmCompression(CompressionMethod Method, double Factor, double DopingShare = LstmCompression.DefaultDopingShare,
    int KroneckerFactors = 2)
{
    /// <summary>The default share of the budget for S: a quarter, so at 25x S ends 99% sparse.</summary>
    public const double DefaultDopingShare = 0.25;

    /// <summary>
    /// Whether each layer's two matrices are compressed as one, W = [W_ih | W_hh] (4H × (I + H)), rather than
    /// separately.
    /// </summary>
    public bool Concatenated { get; init; }

    /// <summary>
    /// For <c>prune</c> and the doped methods: the blocks (RxC, such as <c>16x1</c>) that pruning keeps or removes
    /// whole; null for single entries (unstructured). Stored in files as its text.
    /// </summary>
    public BlockShape? Block { get; init; }

    /// <summary>
    /// A regular expression that selects the weight matrices to compress by state-dict name (it must match the whole
    /// name, e.g. <c>rnn\..*|decoder\.weight</c>); null selects the recurrent matrices (<c>rnn.*</c>).
    /// </summary>
    public string? Matrices { get; init; }

    /// <summary>
    /// Factors for the matrices whose names they select, in place of <see cref="Factor"/> (the first that selects a
    /// name wins): e.g. the embedding and the decoder compressed less than the LSTM layers. Null or empty:
    /// <see cref="Factor"/> for every compressed matrix.
    /// </summary>
    public IReadOnlyList<MatrixFactor>? MatrixFactors { get; init; }

    /// <summary>
    /// Methods (and doping shares) for the matrices whose names they select, in place of <see cref="Method"/> (the first
    /// that selects a name wins): e.g. doped low rank for the embedding and the decoder while the LSTM layers take doped
    /// Kronecker products. Null or empty: <see cref="Method"/> for every compressed matrix.
    /// </summary>
    public IReadOnlyList<MatrixMethod>? MatrixMethods { get; init; }

    /// <summary><see cref="Block"/>, or <see cref="BlockShape.Element"/> when null.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public BlockShape BlockShape => Block ?? BlockShape.Element;

    /// <summary>Whether the method adds a doping matrix S.</summary>
    public bool IsDoped => Method.IsDoped();

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid field.</summary>
    public void Validate()
    {
        if (!Enum.IsDefined(Method)) throw new ArgumentException($"Unknown compression method {(int)Method}; expected one of: {string.Join(", ", CompressionMethods.All)}.");
        if (!(Factor > 1) || !double.IsFinite(Factor)) throw new ArgumentException($"--factor must be greater than 1 (got {Factor}).");
        if ((IsDoped || (MatrixMethods ?? []).Any(m => m?.Method.IsDoped() == true && m.DopingShare is null)) && !(DopingShare > 0 && DopingShare < 1)) throw new ArgumentException($"--doping-share must be in (0, 1) (got {DopingShare}).");
        if (IsDoped && !double.IsFinite(Factor / (1 - DopingShare)))
            throw new ArgumentException($"--factor {Factor} is too large: with --doping-share {DopingShare} the structure's factor is infinite.");
        if (Matrices is not null)
        {
            if (Concatenated) throw new ArgumentException("--matrices selects single matrices; --concatenate compresses each layer's [W_ih | W_hh] as one.");
            _ = NamePattern.Parse(Matrices);
        }
        if (KroneckerFactors is < 2 or > 4) throw new ArgumentException($"--kron-factors must be 2, 3 or 4 (got {KroneckerFactors}).");
        foreach (MatrixFactor matrixFactor in MatrixFactors ?? [])
        {
            ArgumentNullException.ThrowIfNull(matrixFactor);
            matrixFactor.Validate();
        }
        foreach (MatrixMethod matrixMethod in MatrixMethods ?? [])
        {
            ArgumentNullException.ThrowIfNull(matrixMethod);
            matrixMethod.Validate();
        }
        List<LstmCompression> variants = [.. Variants()];
        foreach (LstmCompression variant in variants.Where(v => v.IsDoped))
            if (!double.IsFinite(variant.Factor / (1 - variant.DopingShare)))
                throw new ArgumentException($"--factor {variant.Factor} is too large for {variant.Method.Name()}: with its doping share {variant.DopingShare} the structure's factor is infinite.");
        string methods = string.Join(", ", variants.Select(v => v.Method.Name()).Distinct());
        if (KroneckerFactors != 2 && !variants.Any(v => v.Method is CompressionMethod.Kp or CompressionMethod.Dkp))
            throw new ArgumentException($"--kron-factors applies only to kp and dkp, not to {methods}.");
        if (Block is not null)
        {
            if (!TakesBlocks) throw new ArgumentException($"--block applies only to prune and the doped methods, not to {methods}.");
            foreach (LstmCompression variant in variants.Where(TakesBlock))
            {
                double sparsity = variant.FinalSparsity;
                if (BlockShape.Group > 0 && BlockShape.KeptPerGroup(sparsity) < 1)
                    throw new ArgumentException($"--block {Block}: at the final sparsity {sparsity:P2} (factor {variant.Factor:G}) a group of {BlockShape.Group} blocks keeps none; " +
                        $"take groups of at least {(int)Math.Floor(0.5 / (1 - sparsity)) + 1} blocks.");
            }
        }
    }

    private static bool TakesBlock(LstmCompression c) => c.IsDoped || c.Method == CompressionMethod.Prune;

    /// <summary>Whether <see cref="Block"/> applies: the method, or a method of <see cref="MatrixMethods"/>, prunes (prune and the doped methods).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool TakesBlocks => TakesBlock(this) || (MatrixMethods ?? []).Any(m => m is not null && (m.Method.IsDoped() || m.Method == CompressionMethod.Prune));

    // Every single-matrix compression this one can give a matrix: each method (its own and those of MatrixMethods) at
    // each factor (its own and those of MatrixFactors).
    private IEnumerable<LstmCompression> Variants()
    {
        IEnumerable<(CompressionMethod Method, double Share)> methods =
            [(Method, DopingShare), .. (MatrixMethods ?? []).Select(m => (m.Method, m.DopingShare ?? DopingShare))];
        IEnumerable<double> factors = [Factor, .. (MatrixFactors ?? []).Select(m => m.Factor)];
        return methods.SelectMany(m => factors.Select(f => Single(m.Method, f, m.Share)));
    }

    private LstmCompression Single(CompressionMethod method, double factor, double share) => this with
    {
        Method = method, Factor = factor, DopingShare = share, MatrixFactors = null, MatrixMethods = null,
        KroneckerFactors = method is CompressionMethod.Kp or CompressionMethod.Dkp ? KroneckerFactors : 2,
        Block = method.IsDoped() || method == CompressionMethod.Prune ? Block : null,
    };

    /// <summary>
    /// The compression of the one matrix named <paramref name="name"/>: its method and doping share
    /// (<see cref="MatrixMethods"/>) at its factor (<see cref="FactorFor"/>), without per-matrix rules.
    /// </summary>
    public LstmCompression For(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (MatrixFactors is not { Count: > 0 } && MatrixMethods is not { Count: > 0 }) return this;
        MatrixMethod? own = MatrixMethods?.FirstOrDefault(m => m.Selects(name));
        return Single(own?.Method ?? Method, FactorFor(name), own?.DopingShare ?? DopingShare);
    }

    /// <summary>
    /// The sparsity that turns the anneal on: <see cref="FinalSparsity"/>, or, when <see cref="Method"/> prunes
    /// nothing but a method of <see cref="MatrixMethods"/> does, the largest final sparsity among those (each matrix
    /// still reaches its own, <see cref="FinalSparsityFor"/>).
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public double AnnealedSparsity => FinalSparsity > 0 ? FinalSparsity : Variants().Max(v => v.FinalSparsity);

    /// <summary>
    /// The method and its factors in words, e.g. <c>dkp at 25x, /encoder\.weight/ at 20x</c> (with the doping share for doped
    /// methods when <paramref name="share"/>).
    /// </summary>
    public string Describe(bool share = false) =>
        $"{Method.Name()} at {Factor:G}x" + string.Concat((MatrixFactors ?? []).Select(m => $", /{m.Pattern}/ at {m.Factor:G}x")) +
        string.Concat((MatrixMethods ?? []).Select(m => $", /{m.Pattern}/ by {m.Method.Name()}" + (share && m.DopingShare is double s ? $" (doping share {s:G})" : ""))) +
        (share && IsDoped ? $", doping share {DopingShare:G}" : "");

    /// <summary>The factor of the matrix named <paramref name="name"/>: the first of <see cref="MatrixFactors"/> that selects it, else <see cref="Factor"/>.</summary>
    public double FactorFor(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        foreach (MatrixFactor matrixFactor in MatrixFactors ?? [])
            if (matrixFactor.Selects(name)) return matrixFactor.Factor;
        return Factor;
    }

    /// <summary><see cref="FinalSparsity"/> for the matrix named <paramref name="name"/>, under its method at its factor (<see cref="For"/>).</summary>
    public double FinalSparsityFor(string name) => For(name).FinalSparsity;

    /// <summary>The form of the m×n matrix named <paramref name="name"/> under its method at its factor (<see cref="For"/>).</summary>
    public WeightFormSpec SpecFor(string name, int rows, int columns) => For(name).SpecFor(rows, columns);

    /// <summary>
    /// The sparsity the pruned parts must reach: 1 − 1/f for pruning, 1 − share/f for the doping matrices, 0 for the
    /// purely structured methods.
    /// </summary>
    public double FinalSparsity => SparsityAt(Factor);

    private double SparsityAt(double factor) => Method == CompressionMethod.Prune ? 1 - 1 / factor : IsDoped ? 1 - DopingShare / factor : 0;

    /// <summary>The form of an m×n matrix under this method at <see cref="Factor"/>.</summary>
    public WeightFormSpec SpecFor(int rows, int columns)
    {
        Validate();
        double structureFactor = IsDoped ? Factor / (1 - DopingShare) : Factor;
        WeightFormSpec structure = Method switch
        {
            CompressionMethod.Kp or CompressionMethod.Dkp => Kronecker(rows, columns, structureFactor),
            CompressionMethod.Lmf or CompressionMethod.Dlmf => WeightFormSpec.LowRank(Math.Max(1, LowRankMatrix<float>.RankFor(rows, columns, structureFactor))),
            CompressionMethod.Hmd or CompressionMethod.Dhmd => Hybrid(rows, columns, structureFactor),
            _ => BlockShape.IsUnstructured ? WeightFormSpec.Pruned : WeightFormSpec.PrunedInBlocks(BlockShape),
        };
        return IsDoped ? WeightFormSpec.Doped(structure, BlockShape) : structure;
    }

    private WeightFormSpec Kronecker(int rows, int columns, double factor)
    {
        if (KroneckerFactors > 2)
        {
            // As for two factors: balanced factors, and the budget left over spent on more chains.
            KroneckerChainShape chain = KroneckerChainShape.Choose(rows, columns, KroneckerFactors, factor);
            return WeightFormSpec.KroneckerChain(chain, Math.Min(chain.MaxRankFor(factor), chain.MaxNearestRank));
        }
        KroneckerShape shape = KroneckerShape.Choose(rows, columns, factor);
        return WeightFormSpec.Kronecker(shape, (int)Math.Min(shape.MaxRankFor(factor), Math.Min((long)shape.LeftSize, shape.RightSize)));
    }

    private static WeightFormSpec Hybrid(int rows, int columns, double factor)
    {
        (int denseRows, int rank) = HybridMatrix<float>.ShapeFor(rows, columns, factor);
        return WeightFormSpec.Hybrid(denseRows, rank);
    }
}
