using System.Numerics;
using Dopant.Matrices;
using Dopant.Numerics;

namespace Dopant.Training;

/// <summary>
/// Fixed slices of a parameter list for element-wise passes (norms, updates) run in parallel. The slicing depends only
/// on the parameters, never on the thread count, so reductions over the chunks are deterministic.
/// </summary>
internal sealed class ParameterChunks<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Elements per chunk: large enough to amortize dispatch, small enough to balance two threads.</summary>
    public const int ChunkLength = 1 << 15;

    public ParameterChunks(IReadOnlyList<Parameter<T>> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        Parameters = parameters;
        var chunks = new List<(int, int, int)>();
        for (int p = 0; p < parameters.Count; p++)
            for (int start = 0; start < parameters[p].Length; start += ChunkLength)
                chunks.Add((p, start, Math.Min(ChunkLength, parameters[p].Length - start)));
        Chunks = [.. chunks];
    }

    public IReadOnlyList<Parameter<T>> Parameters { get; }

    /// <summary>(parameter index, start, length) of each chunk.</summary>
    public (int Parameter, int Start, int Length)[] Chunks { get; }

    /// <summary>Runs <paramref name="body"/>(parameter, start, length) for every chunk, chunks in parallel.</summary>
    public void ForEach(Action<Parameter<T>, int, int> body) =>
        WorkerPool.Shared.For(Chunks.Length, (first, end) =>
        {
            for (int c = first; c < end; c++)
            {
                (int p, int start, int length) = Chunks[c];
                body(Parameters[p], start, length);
            }
        });

    /// <summary>Clears every gradient.</summary>
    public void ZeroGradients() => ForEach(static (p, start, length) => p.Gradient.AsSpan(start, length).Clear());
}
