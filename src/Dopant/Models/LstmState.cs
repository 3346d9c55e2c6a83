using System.Numerics;

namespace Dopant.Models;

/// <summary>The recurrent state (h, c) of every layer for a batch: carried from one window to the next.</summary>
public sealed class LstmState<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Creates a zero state for <paramref name="layers"/> layers of <paramref name="hiddenSize"/> units and <paramref name="batch"/> sequences.</summary>
    public LstmState(int layers, int batch, int hiddenSize)
    {
        Batch = batch;
        Hidden = new T[layers][];
        Cell = new T[layers][];
        for (int l = 0; l < layers; l++)
        {
            Hidden[l] = new T[batch * hiddenSize];
            Cell[l] = new T[batch * hiddenSize];
        }
    }

    /// <summary>Number of sequences.</summary>
    public int Batch { get; }

    /// <summary>h of each layer, [B, H].</summary>
    public T[][] Hidden { get; }

    /// <summary>c of each layer, [B, H].</summary>
    public T[][] Cell { get; }

    /// <summary>Sets every state to zero.</summary>
    public void Reset()
    {
        foreach (T[] h in Hidden) Array.Clear(h);
        foreach (T[] c in Cell) Array.Clear(c);
    }
}
