namespace Dopant.Matrices;

/// <summary>
/// The order in which rows are cut into slices for a pattern balanced in tiles (<see cref="BlockShape.HasTiles"/>):
/// rows with the same number of entries in every window go together, so that the slices of a balanced mask hold rows
/// that agree window by window.
/// </summary>
internal static class TileRowOrder
{
    /// <summary>
    /// The rows ordered by their counts per window (row i's in <c>counts[i·windows … i·windows + windows − 1]</c>):
    /// rows with equal counts form a group; groups whose size is a whole number of <paramref name="sliceRows"/> come
    /// first, then the rest, each in lexicographic order of the counts; within a group, the rows go by descending
    /// <paramref name="strength"/> (when given), then by index. When a balanced mask's slices were cut from such an
    /// order, at most the group holding the last, short slice is not whole, so that the slices of the new order again
    /// hold rows with equal counts.
    /// </summary>
    public static int[] Order(ReadOnlySpan<int> counts, int rows, int windows, int sliceRows, ReadOnlySpan<double> strength = default)
    {
        int[] countsCopy = counts.ToArray();
        var bySignature = new int[rows];
        for (int i = 0; i < rows; i++) bySignature[i] = i;
        int Compare(int a, int b) => countsCopy.AsSpan(a * windows, windows).SequenceCompareTo(countsCopy.AsSpan(b * windows, windows));
        Array.Sort(bySignature, (a, b) => Compare(a, b) is var c && c != 0 ? c : a.CompareTo(b));

        var whole = new bool[rows];
        for (int start = 0, end; start < rows; start = end)
        {
            for (end = start + 1; end < rows && Compare(bySignature[start], bySignature[end]) == 0; end++) { }
            for (int r = start; r < end; r++) whole[bySignature[r]] = (end - start) % sliceRows == 0;
        }
        double[] strengthCopy = strength.ToArray();
        int[] order = [.. bySignature];
        Array.Sort(order, (a, b) =>
        {
            if (whole[a] != whole[b]) return whole[a] ? -1 : 1;
            int c = Compare(a, b);
            if (c != 0) return c;
            if (strengthCopy.Length > 0 && (c = strengthCopy[b].CompareTo(strengthCopy[a])) != 0) return c;
            return a.CompareTo(b);
        });
        return order;
    }
}
