using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Dopant.Inference;

/// <summary>16-bit floats widened to single precision 8 (AVX2) or 16 (AVX-512) at a time, for the kernels that store halves.</summary>
/// <remarks>
/// Exact for finite halves (no kernel stores an infinite or NaN one): each half is sign-extended to 32 bits and
/// shifted left by 13, which puts its exponent and mantissa in a float's place; the mask keeps those and the sign bit,
/// and the product with 2¹¹² rebases the exponent bias (15 → 127) and normalizes subnormals, keeping the sign.
/// </remarks>
internal static class HalfVectors
{
    private const int SignExponentMantissa = unchecked((int)0x8FFFE000);
    private static readonly float TwoTo112 = MathF.ScaleB(1f, 112);

    /// <summary>The eight halves at <paramref name="halves"/> as floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe Vector256<float> Widen(ushort* halves)
    {
        Vector256<int> bits = Avx2.ConvertToVector256Int32((short*)halves);
        return (Avx2.ShiftLeftLogical(bits, 13) & Vector256.Create(SignExponentMantissa)).AsSingle() * Vector256.Create(TwoTo112);
    }

    /// <summary>The sixteen halves at <paramref name="halves"/> as floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe Vector512<float> Widen16(ushort* halves)
    {
        Vector512<int> bits = Avx512F.ConvertToVector512Int32(Vector256.Load((short*)halves));
        return (Avx512F.ShiftLeftLogical(bits, 13) & Vector512.Create(SignExponentMantissa)).AsSingle() * Vector512.Create(TwoTo112);
    }
}
