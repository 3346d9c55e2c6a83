namespace Dopant.Compression;

/// <summary>
/// Chooses exactly k of n scored units, the largest scores first and, among equal scores, the lower index first, so
/// that a threshold keeps the count it promises (Condensa's <c>&gt;=</c> threshold keeps every tie and so more).
/// </summary>
internal static class LargestScores
{
    /// <summary>Marks in <paramref name="kept"/> the <paramref name="keep"/> units with the largest scores.</summary>
    public static void Select(ReadOnlySpan<double> scores, long keep, Span<bool> kept)
    {
        if (kept.Length != scores.Length) throw new ArgumentException("One flag per score.", nameof(kept));
        ArgumentOutOfRangeException.ThrowIfNegative(keep);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(keep, scores.Length);
        kept.Clear();
        if (keep == 0) return;
        double threshold = KthLargest(scores, (int)keep);
        long above = 0;
        for (int i = 0; i < scores.Length; i++)
            if (scores[i] > threshold) { kept[i] = true; above++; }
        long ties = keep - above;
        for (int i = 0; i < scores.Length && ties > 0; i++)
            if (scores[i] == threshold) { kept[i] = true; ties--; }
    }

    /// <summary>The k-th largest of <paramref name="scores"/> (1-based).</summary>
    public static double KthLargest(ReadOnlySpan<double> scores, int k)
    {
        double[] sorted = scores.ToArray();
        foreach (double s in sorted)
            if (double.IsNaN(s)) throw new ArgumentException("A weight is NaN; the model cannot be compressed by magnitude.");
        Array.Sort(sorted);
        return sorted[sorted.Length - k];
    }

    /// <summary>round(density · n), clamped to [0, n].</summary>
    public static long CountFor(double density, long n) => Math.Clamp((long)Math.Round(density * n), 0, n);
}
