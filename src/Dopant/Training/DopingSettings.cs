namespace Dopant.Training;

/// <summary>
/// The annealing of a compressed model's pruned parts and its co-matrix dropout, as a <see cref="DopingSchedule"/>
/// reads them (from <see cref="TrainingOptions.Doping"/> or <see cref="LabelerOptions.Doping"/>).
/// </summary>
/// <param name="FinalSparsity">The sparsity the pruned parts reach; 0 prunes nothing.</param>
/// <param name="InitialSparsity">The sparsity at the start of pruning.</param>
/// <param name="PruneStartEpoch">The epoch (fractional) where pruning starts.</param>
/// <param name="PruneEndEpoch">The epoch where the final sparsity is reached.</param>
/// <param name="PruneEvents">The number of pruning events.</param>
/// <param name="CoMatrixDropout">The co-matrix dropout probability on S's output.</param>
/// <param name="CoMatrixDropoutFinal">The probability at the end of pruning, annealed linearly; null keeps it constant.</param>
/// <param name="StructureDropout">The dropout probability on the structured part's output.</param>
public sealed record DopingSettings(double FinalSparsity, double InitialSparsity, double PruneStartEpoch, double PruneEndEpoch, int PruneEvents,
    double CoMatrixDropout, double? CoMatrixDropoutFinal, double StructureDropout)
{
    /// <summary>
    /// The final sparsity of each matrix's pruned parts by the matrix's name, when matrices differ
    /// (<see cref="Matrices.LstmCompression.MatrixFactors"/>, <see cref="Matrices.LstmCompression.MatrixMethods"/>); null: <see cref="FinalSparsity"/> for all.
    /// </summary>
    public Func<string, double>? FinalSparsityOf { get; init; }

    /// <summary>The settings of a run that compressed with <paramref name="compression"/>: its per-matrix final sparsities.</summary>
    public DopingSettings For(Matrices.LstmCompression? compression) =>
        compression is { MatrixFactors.Count: > 0 } or { MatrixMethods.Count: > 0 } ? this with { FinalSparsityOf = compression.FinalSparsityFor } : this;
}
