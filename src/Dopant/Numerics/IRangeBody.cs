namespace Dopant.Numerics;

/// <summary>
/// The body of a parallel loop run by <see cref="WorkerPool.For{TBody}(int, TBody)"/>: it processes one contiguous
/// range of indices. Implement it on a struct (a ref struct may hold spans) so that a hot loop allocates nothing.
/// </summary>
public interface IRangeBody
{
    /// <summary>Processes the indices in [<paramref name="start"/>, <paramref name="end"/>).</summary>
    /// <param name="start">The first index of the range.</param>
    /// <param name="end">One past the last index of the range.</param>
    void Invoke(int start, int end);
}
