using System.Runtime.InteropServices;

namespace Dopant.Numerics;

/// <summary>
/// A growable block of 64-byte aligned native memory, kept by one thread for packing panels so that a GEMM call
/// allocates nothing once the buffers have grown to the largest block size. Freed when its thread dies.
/// </summary>
internal sealed unsafe class AlignedBuffer
{
    [ThreadStatic] private static AlignedBuffer? t_packedA;
    [ThreadStatic] private static AlignedBuffer? t_packedB;

    private float* _data;
    private nuint _capacity;

    /// <summary>This thread's buffer for packed blocks of A.</summary>
    public static AlignedBuffer PackedA => t_packedA ??= new AlignedBuffer();

    /// <summary>This thread's buffer for packed panels of B.</summary>
    public static AlignedBuffer PackedB => t_packedB ??= new AlignedBuffer();

    /// <summary>A pointer to at least <paramref name="length"/> floats; the contents are not preserved across growth.</summary>
    public float* Get(nuint length)
    {
        if (length > _capacity)
        {
            NativeMemory.AlignedFree(_data);
            _data = null;
            _capacity = 0;
            // Round up so that small growth steps do not reallocate every time.
            nuint capacity = Math.Max(length, 4096) + 1024;
            _data = (float*)NativeMemory.AlignedAlloc(capacity * sizeof(float), 64);
            _capacity = capacity;
        }
        return _data;
    }

    ~AlignedBuffer() => NativeMemory.AlignedFree(_data);
}
