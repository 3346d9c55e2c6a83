using System.Runtime.Intrinsics.X86;
using Dopant.Matrices;

namespace Dopant.Inference;

/// <summary>Prepares a trained weight form for the streaming runtime: each form gets the kernel that suits it.</summary>
internal static class StepMatrices
{
    /// <summary>
    /// A read-only copy of <paramref name="form"/> as a step matrix (a pruned matrix becomes windowed ELL with AVX-512 or
    /// sliced ELL without, or block CSR when pruned in blocks, the sum of the two for blocks with loose entries); dense
    /// matrices, and the dense rows of a hybrid matrix, are stored at <paramref name="precision"/>, and at int8 or fp16
    /// so are the values of parts pruned in 8, 16 or 32×1 blocks (whole blocks among loose entries included; loose
    /// entries stay fp32), and at int8 so are single entries in windowed ELL.
    /// </summary>
    public static IStepMatrix From(IWeightMatrix<float> form, WeightPrecision precision = WeightPrecision.Float32) => form switch
    {
        DenseMatrix<float> dense => Dense(dense.Weight.Value, dense.Rows, dense.Columns, precision),
        LowRankMatrix<float> lowRank => new LowRankStepMatrix(lowRank.Left.Value, lowRank.Right.Value, lowRank.Rows, lowRank.Rank, lowRank.Columns),
        HybridMatrix<float> hybrid => new HybridStepMatrix(
            Dense(hybrid.Dense.Value, hybrid.DenseRows, hybrid.Columns, precision),
            new LowRankStepMatrix(hybrid.Left.Value, hybrid.Right.Value, hybrid.Rows - hybrid.DenseRows, hybrid.Rank, hybrid.Columns)),
        KroneckerMatrix<float> kron => new KroneckerStepMatrix(kron.Left.Value, kron.Right.Value, kron.Rank,
            kron.Shape.M1, kron.Shape.N1, kron.Shape.M2, kron.Shape.N2),
        PrunedMatrix<float> pruned => Sparse(pruned, precision),
        DopedMatrix<float> doped => new SumStepMatrix(From(doped.Structure, precision), Sparse(doped.Sparse, precision)),
        _ => new FormStepMatrix(Copy(form)),
    };

    // A form of the same description holding copies of the values, so that training on does not change the runtime.
    private static IWeightMatrix<float> Copy(IWeightMatrix<float> form)
    {
        IWeightMatrix<float> copy = WeightForms.Create<float>(WeightForms.Describe(form), "step", form.Rows, form.Columns);
        foreach ((Parameter<float> from, Parameter<float> to) in form.Parameters.Zip(copy.Parameters))
            from.Value.CopyTo(to.Value, 0);
        return copy;
    }

    /// <summary>A dense W (row-major <paramref name="rows"/> × <paramref name="columns"/>) stored at <paramref name="precision"/>.</summary>
    public static IStepMatrix Dense(ReadOnlySpan<float> weights, int rows, int columns, WeightPrecision precision) => precision switch
    {
        WeightPrecision.Float32 => new PanelStepMatrix<float>(weights, rows, columns),
        WeightPrecision.Float16 => new PanelStepMatrix<Half>(weights, rows, columns),
        WeightPrecision.Int8 => new PanelStepMatrix<sbyte>(weights, rows, columns),
        _ => throw new ArgumentOutOfRangeException(nameof(precision), precision, "Unknown weight precision."),
    };

    // Blocks in block CSR (8-bit or 16-bit values for column blocks at int8 or fp16); single entries (N:M patterns
    // included) in windowed ELL with AVX-512 (8-bit values at int8), else in sliced ELL with 16-bit column indices when
    // they fit; blocks with loose entries as the sum of the two.
    private static IStepMatrix Sparse(PrunedMatrix<float> pruned, WeightPrecision precision)
    {
        if (pruned.Block.HasLooseEntries)
        {
            (PrunedMatrix<float> blocks, PrunedMatrix<float> loose) = pruned.SplitLooseEntries();
            return new SumStepMatrix(Sparse(blocks, precision), Sparse(loose, WeightPrecision.Float32));
        }
        if (precision != WeightPrecision.Float32 && QuantizedColumnBlockStepMatrix<sbyte>.IsSupported(pruned.Block))
            return precision == WeightPrecision.Int8 ? new QuantizedColumnBlockStepMatrix<sbyte>(pruned) : new QuantizedColumnBlockStepMatrix<Half>(pruned);
        if (!pruned.Block.IsElement) return new BlockSparseStepMatrix(pruned);
        CsrMatrix<float> csr = pruned.ToCsr();
        int window = WindowedEllStepMatrix<float>.WindowFor(pruned.Block);
        if (Avx512F.IsSupported)
            return precision == WeightPrecision.Int8 ? new WindowedEllStepMatrix<sbyte>(csr, window) : new WindowedEllStepMatrix<float>(csr, window);
        return csr.Columns <= ushort.MaxValue + 1 ? new SlicedEllStepMatrix<ushort>(csr) : new SlicedEllStepMatrix<int>(csr);
    }
}
