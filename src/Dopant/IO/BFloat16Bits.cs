namespace Dopant.IO;

/// <summary>Conversions between <see cref="float"/> and bfloat16 bit patterns (the upper half of a binary32).</summary>
internal static class BFloat16Bits
{
    /// <summary>Widens exactly: every bfloat16 value, NaN payloads included, is a binary32 value.</summary>
    public static float ToSingle(ushort bits) => BitConverter.UInt32BitsToSingle((uint)bits << 16);

    /// <summary>
    /// Rounds to nearest, ties to even, as PyTorch's <c>c10::BFloat16</c> (round_to_nearest_even) does; finite values
    /// past the bfloat16 range become infinities.
    /// </summary>
    public static ushort FromSingle(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        // Truncating a NaN whose payload lives only in the low 16 bits would give an infinity; force the quiet bit.
        if (float.IsNaN(value))
            return (ushort)((bits >> 16) | 0x0040);
        uint roundingBias = 0x7FFF + ((bits >> 16) & 1);
        return (ushort)((bits + roundingBias) >> 16);
    }
}
