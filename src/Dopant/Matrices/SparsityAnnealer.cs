using System.Numerics;

namespace Dopant.Matrices;

/// <summary>
/// The gradual pruning schedule of Zhu and Gupta (2017), "To prune, or not to prune", eq. 1:
/// s_t = s_f + (s_i − s_f)·(1 − (t − t0)/(n·Δt))³ for t0 ≤ t ≤ t0 + n·Δt, with s_i before t0 and s_f after;
/// the mask is updated at the n + 1 pruning steps t0, t0 + Δt, …, t0 + n·Δt.
/// </summary>
/// <remarks>
/// Sparsity rises fast at first, while there are many redundant weights, and slowly near the end. The endpoints are
/// exact (s(t0) = s_i and s(t0 + n·Δt) = s_f, bit for bit), and the schedule is non-decreasing in t.
/// </remarks>
public sealed class SparsityAnnealer
{
    /// <summary>Creates a schedule.</summary>
    /// <param name="initialSparsity">s_i, in [0, 1].</param>
    /// <param name="finalSparsity">s_f, in [s_i, 1] (pruning never un-prunes, so sparsity cannot fall).</param>
    /// <param name="startStep">t0, the first pruning step, at least 0.</param>
    /// <param name="pruningEvents">n, the number of pruning intervals after t0, at least 1.</param>
    /// <param name="frequency">Δt, the number of training steps between pruning events, at least 1.</param>
    public SparsityAnnealer(double initialSparsity, double finalSparsity, long startStep, int pruningEvents, long frequency)
    {
        if (!(initialSparsity >= 0 && initialSparsity <= 1))
            throw new ArgumentOutOfRangeException(nameof(initialSparsity), initialSparsity, "The initial sparsity s_i must be in [0, 1].");
        if (!(finalSparsity >= initialSparsity && finalSparsity <= 1))
            throw new ArgumentOutOfRangeException(nameof(finalSparsity), finalSparsity,
                $"The final sparsity s_f must be in [s_i, 1] = [{initialSparsity}, 1]: pruning never un-prunes.");
        if (startStep < 0)
            throw new ArgumentOutOfRangeException(nameof(startStep), startStep, "The start step t0 must be at least 0.");
        if (pruningEvents < 1)
            throw new ArgumentOutOfRangeException(nameof(pruningEvents), pruningEvents, "The number of pruning events n must be at least 1.");
        if (frequency < 1)
            throw new ArgumentOutOfRangeException(nameof(frequency), frequency, "The pruning frequency Δt must be at least 1 step.");
        if (frequency > (long.MaxValue - startStep) / pruningEvents)
            throw new ArgumentOutOfRangeException(nameof(frequency), frequency, "The last pruning step t0 + n·Δt does not fit in a 64-bit step count.");
        InitialSparsity = initialSparsity;
        FinalSparsity = finalSparsity;
        StartStep = startStep;
        PruningEvents = pruningEvents;
        Frequency = frequency;
    }

    /// <summary>s_i, the sparsity up to <see cref="StartStep"/>.</summary>
    public double InitialSparsity { get; }

    /// <summary>s_f, the sparsity from <see cref="EndStep"/> on.</summary>
    public double FinalSparsity { get; }

    /// <summary>t0, the first pruning step.</summary>
    public long StartStep { get; }

    /// <summary>n, the number of pruning intervals.</summary>
    public int PruningEvents { get; }

    /// <summary>Δt, the number of steps between pruning events.</summary>
    public long Frequency { get; }

    /// <summary>t0 + n·Δt, the last pruning step.</summary>
    public long EndStep => StartStep + PruningEvents * Frequency;

    /// <summary>The scheduled sparsity s_t at training step <paramref name="step"/>.</summary>
    public double SparsityAt(long step) => SparsityAt(step, FinalSparsity);

    /// <summary>
    /// The sparsity at <paramref name="step"/> of the same schedule towards another final sparsity
    /// <paramref name="finalSparsity"/> (in [s_i, 1]), for matrices compressed by different factors.
    /// </summary>
    public double SparsityAt(long step, double finalSparsity)
    {
        if (!(finalSparsity >= InitialSparsity && finalSparsity <= 1))
            throw new ArgumentOutOfRangeException(nameof(finalSparsity), finalSparsity, $"The final sparsity must be in [s_i, 1] = [{InitialSparsity}, 1].");
        if (step <= StartStep) return InitialSparsity;
        if (step >= EndStep) return finalSparsity;
        double remaining = 1 - (double)(step - StartStep) / ((double)PruningEvents * Frequency);
        // Written as s_i + (s_f − s_i)·(1 − c³), which equals eq. 1; each operation is monotone in t, and clamping to
        // [s_i, s_f] keeps the rounded interior between the exact endpoints.
        double sparsity = InitialSparsity + (finalSparsity - InitialSparsity) * (1 - remaining * remaining * remaining);
        return Math.Clamp(sparsity, InitialSparsity, finalSparsity);
    }

    /// <summary>True when <paramref name="step"/> is one of the pruning steps t0 + k·Δt, k = 0…n.</summary>
    public bool IsPruningStep(long step) =>
        step >= StartStep && step <= EndStep && (step - StartStep) % Frequency == 0;

    /// <summary>
    /// At a pruning step, prunes <paramref name="matrix"/> to <see cref="SparsityAt(long)"/>(<paramref name="step"/>);
    /// otherwise does nothing.
    /// </summary>
    /// <returns>The number of entries pruned.</returns>
    public long Apply<T>(PrunedMatrix<T> matrix, long step) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(matrix);
        return IsPruningStep(step) ? matrix.PruneToSparsity(SparsityAt(step)) : 0;
    }
}
