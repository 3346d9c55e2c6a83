using System.Numerics;
using System.Numerics.Tensors;

namespace Dopant.Matrices;

/// <summary>
/// The registry of weight-matrix forms: from a form to its <see cref="WeightFormSpec"/> and back, and from a dense
/// matrix to any form. A new form needs its own file, a kind here and a case in each method below.
/// </summary>
/// <remarks>
/// Parameter names follow from the matrix name: <c>{name}</c> (dense), <c>{name}.kron_a</c> / <c>.kron_b</c>,
/// <c>{name}.kron_1</c> … <c>.kron_k</c> (kronecker_chain),
/// <c>{name}.lmf_u</c> / <c>.lmf_v</c>, <c>{name}.hmd_dense</c> / <c>.hmd_u</c> / <c>.hmd_v</c>, <c>{name}.weight</c>
/// (pruned), and for a doped matrix its structure's names plus the sparse part S as a pruned matrix with prefix
/// <c>{name}.doping</c> (<c>{name}.doping.weight</c>). A pruned matrix's mask is not a parameter; it is saved as
/// <see cref="MaskName{T}"/>.
/// </remarks>
public static class WeightForms
{
    /// <summary>What a doped matrix's sparse part S appends to the matrix name: <c>{name}.doping</c>.</summary>
    public const string DopingSuffix = ".doping";

    /// <summary>
    /// The name of a pruned matrix's mask next to its values: <c>{weight name}_mask</c>, as PyTorch's
    /// torch.nn.utils.prune names its mask buffer.
    /// </summary>
    public static string MaskName<T>(PrunedMatrix<T> matrix) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(matrix);
        return matrix.Weight.Name + "_mask";
    }

    /// <summary>The description of <paramref name="matrix"/>'s form.</summary>
    /// <remarks>
    /// Only the structure is described; data (values, a pruned matrix's mask) and run-time switches (a doped matrix's
    /// dropouts and <see cref="DopedMatrix{T}.SparseEnabled"/>) are not.
    /// </remarks>
    /// <exception cref="ArgumentException">The form is not one the registry knows.</exception>
    public static WeightFormSpec Describe<T>(IWeightMatrix<T> matrix) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(matrix);
        return matrix switch
        {
            DenseMatrix<T> => WeightFormSpec.Dense,
            KroneckerMatrix<T> k => WeightFormSpec.Kronecker(k.Shape, k.Rank),
            KroneckerChainMatrix<T> c => WeightFormSpec.KroneckerChain(c.Shape, c.Rank),
            LowRankMatrix<T> l => WeightFormSpec.LowRank(l.Rank),
            HybridMatrix<T> h => WeightFormSpec.Hybrid(h.DenseRows, h.Rank),
            PrunedMatrix<T> p => p.Block.IsUnstructured ? WeightFormSpec.Pruned : WeightFormSpec.PrunedInBlocks(p.Block),
            DopedMatrix<T> d => WeightFormSpec.Doped(Describe(d.Structure), d.Sparse.Block),
            _ => throw new ArgumentException($"The weight form {matrix.GetType().Name} is not in the registry; it cannot be described or saved.", nameof(matrix)),
        };
    }

    /// <summary>
    /// A zero form of <paramref name="rows"/> × <paramref name="columns"/> described by <paramref name="spec"/>, with
    /// the parameter names of the matrix <paramref name="name"/> (an unpruned pruned matrix, for the pruned parts).
    /// </summary>
    /// <exception cref="ArgumentException">
    /// The kind is unknown, a field the kind needs is missing or one it does not use is present, or the sizes do not
    /// fit the matrix; the message names the matrix and the problem.
    /// </exception>
    public static IWeightMatrix<T> Create<T>(WeightFormSpec spec, string name, int rows, int columns) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(columns);
        Check(spec, name);
        try
        {
            return spec.Kind switch
            {
                WeightFormSpec.DenseKind => new DenseMatrix<T>(name, rows, columns),
                WeightFormSpec.KroneckerKind => new KroneckerMatrix<T>(name, KroneckerShape.Parse(spec.Shape!, rows, columns), spec.Rank!.Value),
                WeightFormSpec.KroneckerChainKind => new KroneckerChainMatrix<T>(name, KroneckerChainShape.Parse(spec.Shape!, rows, columns), spec.Rank!.Value),
                WeightFormSpec.LowRankKind => new LowRankMatrix<T>(name, rows, columns, spec.Rank!.Value),
                WeightFormSpec.HybridKind => new HybridMatrix<T>(name, rows, columns, spec.DenseRows!.Value, spec.Rank!.Value),
                WeightFormSpec.PrunedKind => new PrunedMatrix<T>(name, rows, columns, spec.BlockShape),
                _ => new DopedMatrix<T>(Create<T>(spec.Structure!, name, rows, columns), new PrunedMatrix<T>(name + DopingSuffix, rows, columns, spec.BlockShape)),
            };
        }
        catch (ArgumentException e) when (!e.Message.StartsWith(Subject(name), StringComparison.Ordinal))
        {
            throw new ArgumentException($"{Subject(name)} ({rows}×{columns}, {spec.ToJson()}): {FirstLine(e.Message)}", e);
        }
    }

    /// <summary>
    /// The form described by <paramref name="spec"/> built from the dense matrix <paramref name="dense"/> (row-major,
    /// <paramref name="rows"/> × <paramref name="columns"/>), with the parameter names of the matrix <paramref name="name"/>.
    /// </summary>
    /// <remarks>
    /// dense: a copy. kronecker: the nearest sum of products (<see cref="KroneckerMatrix{T}.Nearest"/>).
    /// kronecker_chain: the peeled and ALS-refined sum of chains (<see cref="KroneckerChainMatrix{T}.Nearest"/>). low_rank and
    /// hybrid: the truncated SVD (<see cref="LowRankMatrix{T}.FromDense"/>, <see cref="HybridMatrix{T}.FromDense"/>).
    /// pruned: a copy, nothing pruned yet. doped: the structured part M from the dense matrix as above, and S the
    /// residual W − M, unpruned (dense), so that M + S starts at W (up to rounding) and the sparsity annealer prunes S
    /// during training, as the doping paper grows sparsity gradually rather than cutting it at once.
    /// </remarks>
    /// <exception cref="ArgumentException">As for <see cref="Create{T}"/>, or the number of values is not rows·columns.</exception>
    public static IWeightMatrix<T> FromDense<T>(WeightFormSpec spec, string name, ReadOnlySpan<T> dense, int rows, int columns)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(columns);
        if (dense.Length != (long)rows * columns)
            throw new ArgumentException($"{Subject(name)}: expected {(long)rows * columns} dense values for {rows}×{columns}, got {dense.Length}.", nameof(dense));
        Check(spec, name);
        IWeightMatrix<T> result;
        switch (spec.Kind)
        {
            case WeightFormSpec.KroneckerKind:
            case WeightFormSpec.KroneckerChainKind:
            case WeightFormSpec.LowRankKind:
            case WeightFormSpec.HybridKind:
                // Build the zero form first so that bad sizes fail with the same message as Create.
                _ = Create<T>(spec, name, rows, columns);
                result = spec.Kind switch
                {
                    WeightFormSpec.KroneckerKind => KroneckerMatrix<T>.Nearest(name, KroneckerShape.Parse(spec.Shape!, rows, columns), dense, spec.Rank!.Value),
                    WeightFormSpec.KroneckerChainKind => NearestChain<T>(name, KroneckerChainShape.Parse(spec.Shape!, rows, columns), dense, spec.Rank!.Value),
                    WeightFormSpec.LowRankKind => LowRankMatrix<T>.FromDense(name, dense, rows, columns, spec.Rank!.Value),
                    _ => HybridMatrix<T>.FromDense(name, dense, rows, columns, spec.DenseRows!.Value, spec.Rank!.Value),
                };
                break;
            case WeightFormSpec.DopedKind:
                IWeightMatrix<T> structure = FromDense(spec.Structure!, name, dense, rows, columns);
                T[] residual = structure.ToDense();
                TensorPrimitives.Subtract(dense, residual, residual);
                result = new DopedMatrix<T>(structure, PrunedMatrix<T>.FromDense(name + DopingSuffix, residual, rows, columns, spec.BlockShape));
                break;
            default:
                result = Create<T>(spec, name, rows, columns);
                // dense and pruned hold the values themselves.
                dense.CopyTo(result.Parameters[0].Value);
                break;
        }
        return result;
    }

    private static KroneckerChainMatrix<T> NearestChain<T>(string name, KroneckerChainShape shape, ReadOnlySpan<T> dense, int rank)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (rank > shape.MaxNearestRank)
            throw new ArgumentException(
                $"{Subject(name)}: a sum of {rank} chains of shape {shape} cannot be fitted from a dense matrix (at most {shape.MaxNearestRank}).");
        return KroneckerChainMatrix<T>.Nearest(name, shape, dense, rank);
    }

    /// <summary>The pruned matrices inside <paramref name="matrix"/> (itself, or a doped matrix's S), whose masks a checkpoint stores.</summary>
    internal static IEnumerable<PrunedMatrix<T>> PrunedParts<T>(IWeightMatrix<T> matrix) where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (matrix)
        {
            case PrunedMatrix<T> pruned:
                yield return pruned;
                break;
            case DopedMatrix<T> doped:
                foreach (PrunedMatrix<T> part in PrunedParts(doped.Structure)) yield return part;
                yield return doped.Sparse;
                break;
        }
    }

    /// <summary>Checks that <paramref name="spec"/> has a known kind and exactly the fields that kind uses.</summary>
    private static void Check(WeightFormSpec spec, string name)
    {
        switch (spec.Kind)
        {
            case WeightFormSpec.DenseKind:
                Fields(spec, name, shape: false, rank: false, denseRows: false, structure: false);
                break;
            case WeightFormSpec.PrunedKind:
                Fields(spec, name, shape: false, rank: false, denseRows: false, structure: false, block: null);
                break;
            case WeightFormSpec.KroneckerKind:
            case WeightFormSpec.KroneckerChainKind:
                Fields(spec, name, shape: true, rank: true, denseRows: false, structure: false);
                break;
            case WeightFormSpec.LowRankKind:
                Fields(spec, name, shape: false, rank: true, denseRows: false, structure: false);
                break;
            case WeightFormSpec.HybridKind:
                Fields(spec, name, shape: false, rank: true, denseRows: true, structure: false);
                break;
            case WeightFormSpec.DopedKind:
                Fields(spec, name, shape: false, rank: false, denseRows: false, structure: true, block: null);
                // A doped structure's own S would take the name of the outer S.
                if (spec.Structure!.Kind == WeightFormSpec.DopedKind)
                    throw new ArgumentException($"{Subject(name)}: the structure of a doped form cannot itself be doped.");
                Check(spec.Structure, name);
                break;
            default:
                string kind = spec.Kind is null ? "no kind" : $"unknown kind '{spec.Kind}'";
                throw new ArgumentException(
                    $"{Subject(name)} has a weight form of {kind} (known: dense, kronecker, kronecker_chain, low_rank, hybrid, pruned, doped).");
        }
    }

    // block: false when the kind has no blocks, null when they are optional.
    private static void Fields(WeightFormSpec spec, string name, bool shape, bool rank, bool denseRows, bool structure, bool? block = false)
    {
        if (block == false) Field(spec, name, "block", spec.Block is not null, false);
        else if (spec.Block is not null)
        {
            try
            {
                _ = BlockShape.Parse(spec.Block);
            }
            catch (FormatException e)
            {
                throw new ArgumentException($"{Subject(name)}: {e.Message}");
            }
        }
        Field(spec, name, "shape", spec.Shape is not null, shape);
        Field(spec, name, "rank", spec.Rank is not null, rank);
        Field(spec, name, "dense_rows", spec.DenseRows is not null, denseRows);
        Field(spec, name, "structure", spec.Structure is not null, structure);
    }

    private static void Field(WeightFormSpec spec, string name, string field, bool present, bool used)
    {
        if (present == used) return;
        throw new ArgumentException(used
            ? $"{Subject(name)}: a '{spec.Kind}' weight form needs '{field}'."
            : $"{Subject(name)}: a '{spec.Kind}' weight form does not use '{field}'.");
    }

    private static string Subject(string name) => $"Weight matrix '{name}'";

    // ArgumentException appends " (Parameter 'x')" to its message; keep diagnostics on one line without it.
    private static string FirstLine(string message)
    {
        int cut = message.IndexOf(" (Parameter '", StringComparison.Ordinal);
        return (cut >= 0 ? message[..cut] : message).ReplaceLineEndings(" ");
    }
}
