using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Dopant.Inference;

/// <summary>16-bit floats widened to single precision eight at a time on AVX2, for the kernels that store halves.</summary>
internal static class HalfVectors
{
    private static readonly float TwoTo112 = MathF.ScaleB(1f, 112);

    /// <summary>
    /// The eight halves at <paramref name="halves"/> as floats, exact for finite halves (no kernel stores an infinite
    /// or NaN one): the exponent and mantissa bits moved to a float's place and multiplied by 2¹¹², which rebases the
    /// exponent bias (15 → 127) and normalizes subnormals; then the sign.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe Vector256<float> Widen(ushort* halves)
    {
        Vector256<int> bits = Avx2.ConvertToVector256Int32(halves);
        Vector256<float> magnitude = Avx2.ShiftLeftLogical(bits & Vector256.Create(0x7fff), 13).AsSingle() * Vector256.Create(TwoTo112);
        return magnitude | Avx2.ShiftLeftLogical(bits & Vector256.Create(0x8000), 16).AsSingle();
    }
}
