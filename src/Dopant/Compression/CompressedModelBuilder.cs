using Dopant.Matrices;
using Dopant.Models;

namespace Dopant.Compression;

/// <summary>
/// Turns a model whose weights hold their compressed values Δ(θ) (the end of learning-compression) into a model that
/// stores them in compressed form for masked fine-tuning, the runtime and the checkpoint: any matrix under a structured
/// projection (the embedding and decoder included) becomes that form, a pruned recurrent matrix a <see cref="PrunedMatrix{T}"/> (in the rule's blocks)
/// holding its zero pattern as the mask; a pruned embedding or decoder keeps a mask that <see cref="ApplyMasks"/>
/// re-applies after every update. Quantization is applied again to the fine-tuned values by <see cref="Quantize"/>.
/// </summary>
public sealed class CompressedModelBuilder
{
    private readonly ICompressibleModel<float> _model;
    private readonly CompressionScheme _scheme;
    private readonly List<(float[] Values, bool[] Kept)> _masks = [];

    /// <summary>Binds the scheme to a dense model.</summary>
    /// <exception cref="ArgumentException">
    /// The scheme selects nothing, or quantizes a structured form (not supported: the factors would need their own
    /// scales), or gives a structured form other operators.
    /// </exception>
    public CompressedModelBuilder(ICompressibleModel<float> model, CompressionScheme scheme)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(scheme);
        _model = model;
        _scheme = scheme;
        var groups = scheme.Assign(DenseWeights());
        if (groups.Count == 0) throw new ArgumentException("The scheme selects none of the model's weights.");
        foreach ((SchemeRule rule, IReadOnlyList<CompressibleWeight> weights) in groups)
        {
            var ops = Flatten(rule.Operator).ToList();
            if (!ops.OfType<FormProjection>().Any()) continue;
            if (ops.OfType<Quantize>().Any())
                throw new ArgumentException($"{rule.Operator.Description}: quantizing a structured form is not supported; quantize pruned or dense weights.");
            if (ops.Count > 1)
                throw new ArgumentException($"{rule.Operator.Description}: a structured form must be its rule's only operator.");
        }
    }

    /// <summary>The operators of <paramref name="op"/> in application order (compositions flattened).</summary>
    public static IEnumerable<ICompressionOperator> Flatten(ICompressionOperator op) =>
        op is ComposedOperator composed ? composed.Operators.SelectMany(Flatten) : [op];

    /// <summary>
    /// Replaces the selected weight matrices by their compressed forms built from their current values and records the
    /// masks of pruned embedding and decoder weights. Call once, on the model holding Δ(θ).
    /// </summary>
    public void Build()
    {
        var rules = new Dictionary<string, SchemeRule>();
        foreach ((SchemeRule rule, IReadOnlyList<CompressibleWeight> weights) in _scheme.Assign(DenseWeights()))
            foreach (CompressibleWeight w in weights) rules[w.Name] = rule;
        foreach (CompressibleWeight w in DenseWeights())
        {
            if (!rules.TryGetValue(w.Name, out SchemeRule? rule) || !Prunes(rule) || w.Kind is WeightKind.LstmInput or WeightKind.LstmRecurrent) continue;
            _masks.Add((w.Values, [.. w.Values.Select(v => v != 0)]));
        }
        // Recurrent matrices take their form or become pruned matrices; the embedding and the decoder take a structured
        // form when their rule projects onto one, and pruned, stay dense under the masks recorded above.
        foreach ((string name, IWeightMatrix<float> matrix) in _model.WeightMatrices.ToList())
        {
            if (WeightKinds.Of(name) is not { } kind) continue;
            bool recurrent = kind is WeightKind.LstmInput or WeightKind.LstmRecurrent;
            if (recurrent)
            {
                if (Form(matrix, name, kind) is var form && !ReferenceEquals(form, matrix)) _model.ReplaceMatrix(name, form);
            }
            else if (rules.TryGetValue(name, out SchemeRule? rule) && Flatten(rule.Operator).OfType<FormProjection>().FirstOrDefault() is { } projection)
                _model.ReplaceMatrix(name, projection.Fit(new CompressibleWeight(name, kind, matrix.Rows, matrix.Columns, matrix.ToDense())));
        }

        IWeightMatrix<float> Form(IWeightMatrix<float> matrix, string name, WeightKind kind)
        {
            if (!rules.TryGetValue(name, out SchemeRule? rule)) return matrix;
            var weight = new CompressibleWeight(name, kind, matrix.Rows, matrix.Columns, matrix.ToDense());
            if (Flatten(rule.Operator).OfType<FormProjection>().FirstOrDefault() is { } projection) return projection.Fit(weight);
            if (!Prunes(rule)) return matrix;
            BlockShape block = Flatten(rule.Operator).OfType<BlockPrune>().Select(b => b.Block).DefaultIfEmpty(BlockShape.Element).First();
            var pruned = new PrunedMatrix<float>(name, weight.Rows, weight.Columns, block);
            weight.Values.CopyTo(pruned.Weight.Value, 0);
            pruned.RestoreMask(MaskOf(weight, block));
            return pruned;
        }
    }

    /// <summary>Zeroes the pruned entries of the embedding and decoder again (after an optimizer step).</summary>
    public void ApplyMasks()
    {
        foreach ((float[] values, bool[] kept) in _masks)
            for (int i = 0; i < values.Length; i++)
                if (!kept[i]) values[i] = 0;
    }

    /// <summary>Records the masks of a fine-tuning run resumed from a checkpoint: the zero pattern of its pruned embedding and decoder.</summary>
    public void RestoreMasks()
    {
        _masks.Clear();
        foreach ((SchemeRule rule, IReadOnlyList<CompressibleWeight> weights) in _scheme.Assign(DenseWeights()))
            if (Prunes(rule))
                foreach (CompressibleWeight w in weights.Where(w => w.Kind is WeightKind.Embedding or WeightKind.Decoder))
                    _masks.Add((w.Values, [.. w.Values.Select(v => v != 0)]));
    }

    /// <summary>Applies the scheme's quantization operators again to the fine-tuned values (pruned entries stay zero).</summary>
    public void Quantize()
    {
        foreach ((SchemeRule rule, IReadOnlyList<CompressibleWeight> weights) in _scheme.Assign(DenseWeights()))
            foreach (Quantize q in Flatten(rule.Operator).OfType<Quantize>()) q.Project(weights);
    }

    /// <summary>The storage of every weight matrix of the built model, dense and compressed, by name.</summary>
    public IReadOnlyList<(string Name, StorageEstimate Dense, StorageEstimate Compressed)> Account()
    {
        var result = new List<(string, StorageEstimate, StorageEstimate)>();
        var forms = _model.WeightMatrices.ToDictionary(m => m.Name, m => m.Matrix);
        var estimates = _scheme.Account(DenseWeights());
        foreach ((string name, StorageEstimate dense, StorageEstimate compressed) in estimates)
        {
            if (forms.TryGetValue(name, out IWeightMatrix<float>? form) && form is not DenseMatrix<float> && form is not PrunedMatrix<float>)
            {
                result.Add((name, dense, new StorageEstimate(form.ParameterCount, sizeof(float), form.StorageBytes - form.ParameterCount * sizeof(float), 0)));
                continue;
            }
            result.Add((name, dense, compressed));
        }
        return result;
    }

    // Views of every weight matrix's values: the parameter itself for dense and pruned matrices, a dense copy for forms.
    private List<CompressibleWeight> DenseWeights()
    {
        var weights = new List<CompressibleWeight>();
        foreach ((string name, IWeightMatrix<float> matrix) in _model.WeightMatrices)
            if (WeightKinds.Of(name) is { } kind) weights.Add(View(matrix, name, kind));
        return weights;

        static CompressibleWeight View(IWeightMatrix<float> m, string name, WeightKind kind) => m switch
        {
            DenseMatrix<float> d => new(name, kind, m.Rows, m.Columns, d.Weight.Value),
            PrunedMatrix<float> p => new(name, kind, m.Rows, m.Columns, p.Weight.Value),
            _ => new(name, kind, m.Rows, m.Columns, m.ToDense()),
        };
    }

    private static bool Prunes(SchemeRule rule) =>
        Flatten(rule.Operator).Any(o => o is MagnitudePrune or StructurePrune or BlockPrune or NMPrune);

    // 1 where the value is nonzero, or, with blocks, over every block holding a nonzero value.
    private static float[] MaskOf(CompressibleWeight w, BlockShape block)
    {
        var mask = new float[w.Values.Length];
        (int blockRows, int blockColumns) = block.GridFor(w.Rows, w.Columns);
        for (int bi = 0; bi < blockRows; bi++)
            for (int bj = 0; bj < blockColumns; bj++)
            {
                int rowEnd = Math.Min(w.Rows, (bi + 1) * block.Rows), columnEnd = Math.Min(w.Columns, (bj + 1) * block.Columns);
                bool any = false;
                for (int i = bi * block.Rows; i < rowEnd && !any; i++)
                    for (int j = bj * block.Columns; j < columnEnd; j++)
                        if (w.Values[i * w.Columns + j] != 0) { any = true; break; }
                if (!any) continue;
                for (int i = bi * block.Rows; i < rowEnd; i++)
                    for (int j = bj * block.Columns; j < columnEnd; j++) mask[i * w.Columns + j] = 1;
            }
        return mask;
    }
}
