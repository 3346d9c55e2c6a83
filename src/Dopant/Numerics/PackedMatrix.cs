using System.Runtime.InteropServices;

namespace Dopant.Numerics;

/// <summary>
/// The right-hand operand op(B) of a GEMM, packed once into the micro-panel layout of the active kernel so that
/// repeated products with it (an LSTM's recurrent weights across the time steps of a batch) skip the packing.
/// Create it with <see cref="Blas.PackB"/>, refresh it after the weights change with <see cref="Update"/>, and
/// multiply with <see cref="Blas.SgemmPacked"/>. Holds native memory: dispose it when done.
/// </summary>
public sealed unsafe class PackedMatrix : IDisposable
{
    private float* _data;

    internal PackedMatrix(SgemmKernelKind kernel, int rows, int columns, int nr, int kc)
    {
        Kernel = kernel;
        Rows = rows;
        Columns = columns;
        Nr = nr;
        Kc = kc;
        Panels = (columns + nr - 1) / nr;
        nuint length = Math.Max(1, (nuint)rows * (nuint)Panels * (nuint)nr);
        _data = (float*)NativeMemory.AlignedAlloc(length * sizeof(float), 64);
    }

    /// <summary>The rows of op(B): the k of the products it takes part in.</summary>
    public int Rows { get; }

    /// <summary>The columns of op(B): the n of the products it takes part in.</summary>
    public int Columns { get; }

    /// <summary>The micro-kernel family whose layout the data is in.</summary>
    internal SgemmKernelKind Kernel { get; }

    /// <summary>The micro-panel width and the depth of a k block.</summary>
    internal int Nr { get; }

    /// <inheritdoc cref="Nr"/>
    internal int Kc { get; }

    /// <summary>The micro-panels per k block.</summary>
    internal int Panels { get; }

    /// <summary>The packed data; throws once disposed.</summary>
    internal float* Data => _data != null ? _data : throw new ObjectDisposedException(nameof(PackedMatrix));

    /// <summary>
    /// Repacks new values of B of the same shape (after an optimizer step), reusing the memory.
    /// </summary>
    /// <param name="transB">Whether op(B) = Bᵀ, so that B is <see cref="Columns"/>×<see cref="Rows"/>.</param>
    /// <param name="b">B, row-major with leading dimension <paramref name="ldb"/>.</param>
    /// <param name="ldb">The distance between rows of B, at least its width.</param>
    public void Update(bool transB, ReadOnlySpan<float> b, int ldb)
    {
        Blas.ValidateMatrix(transB ? Columns : Rows, transB ? Rows : Columns, b.Length, ldb, nameof(b), nameof(ldb));
        Blas.PackInto(this, transB, b, ldb, WorkerPool.Shared);
    }

    /// <summary>Frees the packed data.</summary>
    public void Dispose()
    {
        Free();
        GC.SuppressFinalize(this);
    }

    /// <summary>Frees the packed data if the owner forgot to.</summary>
    ~PackedMatrix() => Free();

    private void Free()
    {
        NativeMemory.AlignedFree(_data);
        _data = null;
    }
}
