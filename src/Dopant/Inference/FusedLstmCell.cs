using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Dopant.Inference;

/// <summary>
/// The LSTM cell update in one pass over the gate vector, 8 hidden units at a time: i, f, o = σ(·), g = tanh(·),
/// c = f ⊙ c + i ⊙ g, h = o ⊙ tanh(c). σ(x) = 1 / (1 + e⁻ˣ) and tanh(x) = 2σ(2x) − 1 from the vector exponential
/// (absolute error of tanh near 0 about one float step of 1, 6e-8); the tail takes the scalar functions.
/// </summary>
internal static class FusedLstmCell
{
    /// <summary>Consumes <paramref name="gates"/> ([i; f; g; o], 4 × H pre-activations) and updates c and h (H each).</summary>
    public static void Update(ReadOnlySpan<float> gates, Span<float> c, Span<float> h)
    {
        int n = c.Length;
        if (gates.Length < 4 * n || h.Length < n) throw new ArgumentException($"Expected 4 × {n} gates and {n} hidden values.");
        ref float gate = ref MemoryMarshal.GetReference(gates);
        ref float cell = ref MemoryMarshal.GetReference(c);
        ref float hidden = ref MemoryMarshal.GetReference(h);
        int k = 0;
        if (Vector256.IsHardwareAccelerated)
            for (; k + Vector256<float>.Count <= n; k += Vector256<float>.Count)
            {
                Vector256<float> i = Sigmoid(Vector256.LoadUnsafe(ref gate, (nuint)k));
                Vector256<float> f = Sigmoid(Vector256.LoadUnsafe(ref gate, (nuint)(n + k)));
                Vector256<float> g = Tanh(Vector256.LoadUnsafe(ref gate, (nuint)(2 * n + k)));
                Vector256<float> o = Sigmoid(Vector256.LoadUnsafe(ref gate, (nuint)(3 * n + k)));
                Vector256<float> next = f * Vector256.LoadUnsafe(ref cell, (nuint)k) + i * g;
                next.StoreUnsafe(ref cell, (nuint)k);
                (o * Tanh(next)).StoreUnsafe(ref hidden, (nuint)k);
            }
        for (; k < n; k++)
        {
            float i = 1 / (1 + MathF.Exp(-gates[k])), f = 1 / (1 + MathF.Exp(-gates[n + k]));
            float g = MathF.Tanh(gates[2 * n + k]), o = 1 / (1 + MathF.Exp(-gates[3 * n + k]));
            c[k] = f * c[k] + i * g;
            h[k] = o * MathF.Tanh(c[k]);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Sigmoid(Vector256<float> x) => Vector256<float>.One / (Vector256<float>.One + Vector256.Exp(-x));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Tanh(Vector256<float> x) => Sigmoid(x + x) * Vector256.Create(2f) - Vector256<float>.One;
}
