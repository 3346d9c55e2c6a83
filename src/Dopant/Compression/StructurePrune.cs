namespace Dopant.Compression;

/// <summary>
/// Structured pruning of whole rows, whole columns or both: every structure of every weight projected together is
/// scored by <see cref="Criterion"/>, the <see cref="Density"/> fraction with the largest scores is kept under one
/// global threshold, and each matrix's kept count per axis is then raised to a multiple of <see cref="Align"/> (by
/// restoring its best-scoring removed structures), so that the kept matrix has SIMD-friendly sizes.
/// </summary>
public sealed class StructurePrune : ICompressionOperator
{
    /// <summary>Creates the operator.</summary>
    /// <param name="density">The fraction of structures kept, in (0, 1].</param>
    /// <param name="axis">Rows, columns or both.</param>
    /// <param name="criterion">How structures are scored.</param>
    /// <param name="align">Kept structures per matrix and axis are rounded up to a multiple of this (1: no rounding).</param>
    public StructurePrune(double density, StructureAxis axis, StructureCriterion criterion = StructureCriterion.L2, int align = 1)
    {
        if (!(density > 0 && density <= 1)) throw new ArgumentOutOfRangeException(nameof(density), $"structure prune: density must be in (0, 1] (got {density}).");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(align);
        Density = density;
        Axis = axis;
        Criterion = criterion;
        Align = align;
    }

    /// <summary>The fraction of structures kept.</summary>
    public double Density { get; }

    /// <summary>Which structures are removed.</summary>
    public StructureAxis Axis { get; }

    /// <summary>How structures are scored.</summary>
    public StructureCriterion Criterion { get; }

    /// <summary>The multiple kept counts are rounded up to.</summary>
    public int Align { get; }

    /// <inheritdoc/>
    public string Description => $"{Axis switch { StructureAxis.Rows => "row", StructureAxis.Columns => "column", _ => "structure" }}_prune(" +
                                 $"density={Density:G4}, criterion={Criterion.ToString().ToLowerInvariant()}{(Align > 1 ? $", align={Align}" : "")})";

    /// <inheritdoc/>
    public void Project(IReadOnlyList<CompressibleWeight> weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        // Structures in order: for each weight, its rows (if pruned) then its columns (if pruned).
        var scores = new List<double>();
        foreach (CompressibleWeight w in weights)
        {
            if (Axis != StructureAxis.Columns)
                for (int i = 0; i < w.Rows; i++) scores.Add(RowScore(w, i));
            if (Axis != StructureAxis.Rows)
                for (int j = 0; j < w.Columns; j++) scores.Add(ColumnScore(w, j));
        }
        var kept = new bool[scores.Count];
        LargestScores.Select(scores.ToArray(), LargestScores.CountFor(Density, scores.Count), kept);
        int offset = 0;
        foreach (CompressibleWeight w in weights)
        {
            if (Axis != StructureAxis.Columns)
            {
                Span<bool> rows = kept.AsSpan(offset, w.Rows);
                AlignKept(rows, scores, offset);
                for (int i = 0; i < w.Rows; i++)
                    if (!rows[i]) w.Values.AsSpan(i * w.Columns, w.Columns).Clear();
                offset += w.Rows;
            }
            if (Axis != StructureAxis.Rows)
            {
                Span<bool> columns = kept.AsSpan(offset, w.Columns);
                AlignKept(columns, scores, offset);
                for (int j = 0; j < w.Columns; j++)
                    if (!columns[j])
                        for (int i = 0; i < w.Rows; i++) w.Values[i * w.Columns + j] = 0;
                offset += w.Columns;
            }
        }
    }

    private void AlignKept(Span<bool> kept, List<double> scores, int offset)
    {
        int count = 0;
        foreach (bool k in kept) if (k) count++;
        int target = Math.Min(kept.Length, (count + Align - 1) / Align * Align);
        while (count < target)
        {
            int best = -1;
            for (int i = 0; i < kept.Length; i++)
                if (!kept[i] && (best < 0 || scores[offset + i] > scores[offset + best])) best = i;
            kept[best] = true;
            count++;
        }
    }

    private double RowScore(CompressibleWeight w, int row)
    {
        var score = new StructureScore(Criterion);
        foreach (float v in w.Values.AsSpan(row * w.Columns, w.Columns)) score.Add(v);
        return score.Value;
    }

    private double ColumnScore(CompressibleWeight w, int column)
    {
        var score = new StructureScore(Criterion);
        for (int i = 0; i < w.Rows; i++) score.Add(w.Values[i * w.Columns + column]);
        return score.Value;
    }

    /// <summary>The kept rows and columns as a dense submatrix, plus the list of their indices.</summary>
    public StorageEstimate Account(CompressibleWeight weight, StorageEstimate before)
    {
        ArgumentNullException.ThrowIfNull(weight);
        int rows = 0, columns = 0;
        for (int i = 0; i < weight.Rows; i++)
            if (weight.Values.AsSpan(i * weight.Columns, weight.Columns).ContainsAnyExcept(0f)) rows++;
        for (int j = 0; j < weight.Columns; j++)
            for (int i = 0; i < weight.Rows; i++)
                if (weight.Values[i * weight.Columns + j] != 0) { columns++; break; }
        int indexWidth = Math.Max(weight.Rows, weight.Columns) <= ushort.MaxValue + 1 ? 2 : 4;
        return before with { Values = (long)rows * columns, IndexBytes = (long)(rows + columns) * indexWidth };
    }
}
