using Dopant.Matrices;

namespace Dopant.Compression;

/// <summary>
/// Projection onto a structured form of the doping papers (<see cref="LstmCompression"/>: <c>kp</c>, <c>lmf</c>,
/// <c>hmd</c> and the doped <c>dkp</c>, <c>dlmf</c>, <c>dhmd</c>) at a compression factor: the nearest form to each
/// matrix (nearest Kronecker sum, truncated SVD), and for doped forms S = W − M cut by magnitude (or by blocks) to its
/// final sparsity. Magnitude pruning is <see cref="MagnitudePrune"/>.
/// </summary>
public sealed class FormProjection : ICompressionOperator
{
    private readonly Dictionary<string, IWeightMatrix<float>> _forms = [];

    /// <summary>Creates the projection for <paramref name="method"/> (any method but <c>prune</c>).</summary>
    public FormProjection(LstmCompression method)
    {
        ArgumentNullException.ThrowIfNull(method);
        method.Validate();
        if (method.Method == CompressionMethod.Prune) throw new ArgumentException("A form projection needs a structured method; magnitude pruning is the prune operator.", nameof(method));
        Method = method;
    }

    /// <summary>The method and factor.</summary>
    public LstmCompression Method { get; }

    /// <inheritdoc/>
    public string Description => $"{Method.Method.Name()}(factor={Method.Factor:G4}" + (Method.IsDoped ? $", doping_share={Method.DopingShare:G3}" : "") +
                                 (Method.Block is null ? "" : $", block={Method.Block}") + ")";

    /// <inheritdoc/>
    public void Project(IReadOnlyList<CompressibleWeight> weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        foreach (CompressibleWeight w in weights)
        {
            IWeightMatrix<float> form = Fit(w);
            form.ToDense().CopyTo(w.Values, 0);
            _forms[w.Name] = form;
        }
    }

    /// <summary>The form nearest to <paramref name="weight"/>'s values, its doping matrices cut to their final sparsity.</summary>
    public IWeightMatrix<float> Fit(CompressibleWeight weight)
    {
        ArgumentNullException.ThrowIfNull(weight);
        WeightFormSpec spec = Method.SpecFor(weight.Rows, weight.Columns);
        IWeightMatrix<float> form = WeightForms.FromDense<float>(spec, weight.Name, weight.Values, weight.Rows, weight.Columns);
        foreach (PrunedMatrix<float> part in WeightForms.PrunedParts(form)) part.PruneToSparsity(Method.FinalSparsity);
        return form;
    }

    /// <summary>The stored parameters and bytes of the form last fitted to <paramref name="weight"/>.</summary>
    public StorageEstimate Account(CompressibleWeight weight, StorageEstimate before)
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (!_forms.TryGetValue(weight.Name, out IWeightMatrix<float>? form)) _forms[weight.Name] = form = Fit(weight);
        return before with { Values = form.ParameterCount, IndexBytes = form.StorageBytes - form.ParameterCount * sizeof(float) };
    }
}
