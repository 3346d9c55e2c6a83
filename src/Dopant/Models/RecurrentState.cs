using System.Numerics;

namespace Dopant.Models;

/// <summary>The recurrent state of every layer for a batch, h (and c for LSTM layers): carried from one window to the next.</summary>
public sealed class RecurrentState<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>
    /// Creates a zero state for <paramref name="layers"/> layers of <paramref name="hiddenSize"/> units and
    /// <paramref name="batch"/> sequences, with a cell vector per layer when <paramref name="hasCell"/> (LSTM).
    /// </summary>
    public RecurrentState(int layers, int batch, int hiddenSize, bool hasCell = true)
        : this(Enumerable.Repeat(hiddenSize, layers).ToArray(), batch, hasCell)
    {
    }

    /// <summary>
    /// Creates a zero state for layers of the hidden sizes <paramref name="hiddenSizes"/> (bottom first) and
    /// <paramref name="batch"/> sequences, with a cell vector per layer when <paramref name="hasCell"/> (LSTM).
    /// </summary>
    public RecurrentState(IReadOnlyList<int> hiddenSizes, int batch, bool hasCell = true)
    {
        ArgumentNullException.ThrowIfNull(hiddenSizes);
        Batch = batch;
        Hidden = new T[hiddenSizes.Count][];
        Cell = new T[hiddenSizes.Count][];
        for (int l = 0; l < hiddenSizes.Count; l++)
        {
            Hidden[l] = new T[batch * hiddenSizes[l]];
            Cell[l] = hasCell ? new T[batch * hiddenSizes[l]] : [];
        }
    }

    /// <summary>Number of sequences.</summary>
    public int Batch { get; }

    /// <summary>h of each layer, [B, H_l].</summary>
    public T[][] Hidden { get; }

    /// <summary>c of each layer, [B, H_l] for an LSTM; empty for a GRU.</summary>
    public T[][] Cell { get; }

    /// <summary>Sets every state to zero.</summary>
    public void Reset()
    {
        foreach (T[] h in Hidden) Array.Clear(h);
        foreach (T[] c in Cell) Array.Clear(c);
    }
}
