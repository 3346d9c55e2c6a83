using System.Numerics;
using System.Runtime.InteropServices;
using Dopant.Numerics;

namespace Dopant.Matrices;

/// <summary>
/// The packed GEMM operands of a dense (or masked dense) W for a run of steps (<see cref="IWeightMatrix{T}.BeginSteps"/>):
/// Wᵀ for the forward products and W for the backward ones, each packed at its first use after
/// <see cref="Begin"/> and reused until <see cref="End"/>. Only <see cref="float"/> has a packed kernel; for other
/// element types the scope is never open and the forms multiply as usual. The packed memory is kept across scopes.
/// </summary>
internal sealed class StepPacking<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly int _rows, _columns;
    private PackedMatrix? _transposed, _plain;
    private bool _transposedCurrent, _plainCurrent;

    public StepPacking(int rows, int columns)
    {
        _rows = rows;
        _columns = columns;
    }

    /// <summary>Whether a scope is open, so that the owner should multiply through <see cref="Forward"/> and <see cref="BackwardInput"/>.</summary>
    public bool IsOpen { get; private set; }

    /// <summary>Whether <see cref="Forward"/> needs <see cref="PackForward"/> first (once per scope).</summary>
    public bool NeedsForwardPack => !_transposedCurrent;

    /// <summary>Whether <see cref="BackwardInput"/> needs <see cref="PackBackward"/> first (once per scope).</summary>
    public bool NeedsBackwardPack => !_plainCurrent;

    public void Begin()
    {
        if (typeof(T) != typeof(float)) return;
        IsOpen = true;
        _transposedCurrent = _plainCurrent = false;
    }

    public void End() => IsOpen = false;

    /// <summary>Packs Wᵀ (W row-major, rows × columns) for the forward products of this scope.</summary>
    public void PackForward(ReadOnlySpan<T> weights)
    {
        ReadOnlySpan<float> w = MemoryMarshal.Cast<T, float>(weights);
        if (_transposed is null) _transposed = Blas.PackB(true, _columns, _rows, w, _columns);
        else _transposed.Update(true, w, _columns);
        _transposedCurrent = true;
    }

    /// <summary>Packs W for the backward products of this scope.</summary>
    public void PackBackward(ReadOnlySpan<T> weights)
    {
        ReadOnlySpan<float> w = MemoryMarshal.Cast<T, float>(weights);
        if (_plain is null) _plain = Blas.PackB(false, _rows, _columns, w, _columns);
        else _plain.Update(false, w, _columns);
        _plainCurrent = true;
    }

    /// <summary>y[count×rows] = x · Wᵀ (+= when accumulating), with the packed Wᵀ.</summary>
    public void Forward(ReadOnlySpan<T> x, Span<T> y, int count, bool accumulate) =>
        Blas.SgemmPacked(false, count, 1f, MemoryMarshal.Cast<T, float>(x), _columns, _transposed!, accumulate ? 1f : 0f,
            MemoryMarshal.Cast<T, float>(y), _rows);

    /// <summary>dx[count×columns] = dy · W (+= when accumulating), with the packed W.</summary>
    public void BackwardInput(ReadOnlySpan<T> dy, Span<T> dx, int count, bool accumulate) =>
        Blas.SgemmPacked(false, count, 1f, MemoryMarshal.Cast<T, float>(dy), _rows, _plain!, accumulate ? 1f : 0f,
            MemoryMarshal.Cast<T, float>(dx), _columns);
}
