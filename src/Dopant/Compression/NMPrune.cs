namespace Dopant.Compression;

/// <summary>
/// N:M structured sparsity: in every group of <see cref="M"/> consecutive weights of a row, the <see cref="N"/> with the
/// largest magnitudes stay (the lower column first among equals); a shorter last group keeps min(N, its length).
/// 2:4 is the pattern sparse tensor cores accelerate.
/// </summary>
public sealed class NMPrune : ICompressionOperator
{
    /// <summary>Creates the operator, keeping <paramref name="n"/> of every <paramref name="m"/> weights.</summary>
    public NMPrune(int n, int m)
    {
        if (m is < 1 or > 64) throw new ArgumentOutOfRangeException(nameof(m), $"n:m prune: m must be in [1, 64] (got {m}).");
        if (n < 1 || n > m) throw new ArgumentOutOfRangeException(nameof(n), $"n:m prune: n must be in [1, m] (got {n}:{m}).");
        N = n;
        M = m;
    }

    /// <summary>Weights kept per group.</summary>
    public int N { get; }

    /// <summary>Group length.</summary>
    public int M { get; }

    /// <inheritdoc/>
    public string Description => $"nm_prune({N}:{M})";

    /// <inheritdoc/>
    public void Project(IReadOnlyList<CompressibleWeight> weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        Span<int> order = stackalloc int[M];
        foreach (CompressibleWeight w in weights)
            for (int i = 0; i < w.Rows; i++)
            {
                Span<float> row = w.Values.AsSpan(i * w.Columns, w.Columns);
                for (int start = 0; start < row.Length; start += M)
                {
                    Span<float> group = row.Slice(start, Math.Min(M, row.Length - start));
                    if (group.Length <= N) continue;
                    // Insertion sort of the group's indices by magnitude, descending; stable, so ties keep the lower index.
                    Span<int> g = order[..group.Length];
                    for (int a = 0; a < g.Length; a++)
                    {
                        int b = a;
                        float magnitude = Math.Abs(group[a]);
                        while (b > 0 && Math.Abs(group[g[b - 1]]) < magnitude)
                        {
                            g[b] = g[b - 1];
                            b--;
                        }
                        g[b] = a;
                    }
                    for (int a = N; a < g.Length; a++) group[g[a]] = 0;
                }
            }
    }

    /// <summary>The kept values and, per kept value, its position in the group (⌈log₂ M⌉ bits).</summary>
    public StorageEstimate Account(CompressibleWeight weight, StorageEstimate before)
    {
        ArgumentNullException.ThrowIfNull(weight);
        long groups = (long)weight.Rows * ((weight.Columns + M - 1) / M);
        long kept = Math.Min((long)N * groups, (long)weight.Rows * weight.Columns);
        int bits = Math.Max(1, (int)Math.Ceiling(Math.Log2(M)));
        return before with { Values = kept, IndexBytes = (kept * bits + 7) / 8 };
    }
}
