using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Dopant.Inference;

/// <summary>
/// The LSTM cell update: i, f, o = σ(·), g = tanh(·), c = f ⊙ c + i ⊙ g, h = o ⊙ tanh(c), in three short passes
/// (the activations in place, then c, then h), 16 (AVX-512) or 8 lanes at a time. σ(x) = 1 / (1 + e⁻ˣ) and
/// tanh(x) = 2σ(2x) − 1 from a single-precision exponential (<see cref="Exp(Vector512{float})"/>; absolute error of tanh
/// near 0 about one float step of 1, 6e-8). One call site of the exponential per loop keeps each loop small enough for
/// the JIT to inline it: with all five in one loop body it did not, and the update ran three times slower.
/// </summary>
internal static class FusedLstmCell
{
    // Cephes' expf: e^x = 2^n · e^r with n = round(x / ln 2) and |r| ≤ ln 2 / 2, ln 2 split in two so that r is exact,
    // e^r from a degree-7 polynomial (relative error about one float step). x is clamped so that 2^n stays a normal float.
    private const float MinExponent = -87f, MaxExponent = 88f, Log2E = 1.44269504088896341f;
    private const float Ln2High = 0.693359375f, Ln2Low = -2.12194440e-4f;
    private const float P0 = 1.9875691500e-4f, P1 = 1.3981999507e-3f, P2 = 8.3334519073e-3f, P3 = 4.1665795894e-2f,
        P4 = 1.6666665459e-1f, P5 = 5.0000001201e-1f;

    /// <summary>
    /// Consumes <paramref name="gates"/> ([i; f; g; o], 4 × H pre-activations, overwritten by the activations) and
    /// updates c and h (H each).
    /// </summary>
    public static void Update(Span<float> gates, Span<float> c, Span<float> h)
    {
        int n = c.Length;
        if (gates.Length < 4 * n || h.Length < n) throw new ArgumentException($"Expected 4 × {n} gates and {n} hidden values.");
        Span<float> inputForget = gates[..(2 * n)], candidate = gates.Slice(2 * n, n), output = gates.Slice(3 * n, n);
        Activate(inputForget, inputForget, 1);
        Activate(candidate, candidate, 2);
        Activate(output, output, 1);
        ref float i = ref MemoryMarshal.GetReference(gates);
        ref float f = ref Unsafe.Add(ref i, n);
        ref float g = ref MemoryMarshal.GetReference(candidate);
        ref float cell = ref MemoryMarshal.GetReference(c);
        int k = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; k + Vector512<float>.Count <= n; k += Vector512<float>.Count)
                Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref f, (nuint)k), Vector512.LoadUnsafe(ref cell, (nuint)k),
                    Vector512.LoadUnsafe(ref i, (nuint)k) * Vector512.LoadUnsafe(ref g, (nuint)k)).StoreUnsafe(ref cell, (nuint)k);
        for (; k < n; k++) c[k] = MathF.FusedMultiplyAdd(gates[n + k], c[k], gates[k] * candidate[k]);
        Activate(c, h, 2);
        System.Numerics.Tensors.TensorPrimitives.Multiply(h[..n], output, h);
    }

    /// <summary>y = σ(x), with the same exponential as the LSTM update.</summary>
    internal static void Sigmoid(ReadOnlySpan<float> x, Span<float> y) => Activate(x, y, 1);

    /// <summary>y = tanh(x), with the same exponential as the LSTM update.</summary>
    internal static void Tanh(ReadOnlySpan<float> x, Span<float> y) => Activate(x, y, 2);

    // y = s·σ(s·x) − (s − 1): σ for s = 1, tanh for s = 2.
    private static void Activate(ReadOnlySpan<float> x, Span<float> y, float s)
    {
        int n = x.Length;
        ref float source = ref MemoryMarshal.GetReference(x);
        ref float destination = ref MemoryMarshal.GetReference(y);
        int k = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> scale = Vector512.Create(s), shift = Vector512.Create(s - 1), one = Vector512<float>.One;
            for (; k + Vector512<float>.Count <= n; k += Vector512<float>.Count)
            {
                Vector512<float> e = Exp(Vector512.LoadUnsafe(ref source, (nuint)k) * -scale);
                (scale / (one + e) - shift).StoreUnsafe(ref destination, (nuint)k);
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> scale = Vector256.Create(s), shift = Vector256.Create(s - 1), one = Vector256<float>.One;
            for (; k + Vector256<float>.Count <= n; k += Vector256<float>.Count)
            {
                Vector256<float> e = Exp(Vector256.LoadUnsafe(ref source, (nuint)k) * -scale);
                (scale / (one + e) - shift).StoreUnsafe(ref destination, (nuint)k);
            }
        }
        for (; k < n; k++) y[k] = s / (1 + MathF.Exp(-s * x[k])) - (s - 1);
    }

    /// <summary>e^x in single precision, lane by lane (x clamped to [-87, 88]).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> Exp(Vector512<float> x)
    {
        x = Vector512.MinNative(Vector512.MaxNative(x, Vector512.Create(MinExponent)), Vector512.Create(MaxExponent));
        Vector512<float> n = Vector512.Round(x * Vector512.Create(Log2E));
        Vector512<float> r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-Ln2High), x);
        r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-Ln2Low), r);
        Vector512<float> p = Vector512.FusedMultiplyAdd(Vector512.Create(P0), r, Vector512.Create(P1));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(P2));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(P3));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(P4));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(P5));
        p = Vector512.FusedMultiplyAdd(p, r * r, r) + Vector512<float>.One;
        Vector512<int> scale = (Vector512.ConvertToInt32Native(n) + Vector512.Create(127)) << 23;
        return p * scale.AsSingle();
    }

    /// <summary>The 256-bit <see cref="Exp(Vector512{float})"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Exp(Vector256<float> x)
    {
        x = Vector256.MinNative(Vector256.MaxNative(x, Vector256.Create(MinExponent)), Vector256.Create(MaxExponent));
        Vector256<float> n = Vector256.Round(x * Vector256.Create(Log2E));
        Vector256<float> r = Vector256.FusedMultiplyAdd(n, Vector256.Create(-Ln2High), x);
        r = Vector256.FusedMultiplyAdd(n, Vector256.Create(-Ln2Low), r);
        Vector256<float> p = Vector256.FusedMultiplyAdd(Vector256.Create(P0), r, Vector256.Create(P1));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(P2));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(P3));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(P4));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(P5));
        p = Vector256.FusedMultiplyAdd(p, r * r, r) + Vector256<float>.One;
        Vector256<int> scale = (Vector256.ConvertToInt32Native(n) + Vector256.Create(127)) << 23;
        return p * scale.AsSingle();
    }
}
