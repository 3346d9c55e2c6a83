namespace Dopant.Bench;

/// <summary>One GEMM (or GEMV when K is 0) problem, row-major: C[M×N] = op(A)[M×K] · op(B)[K×N].</summary>
public sealed record GemmShape(string Name, int M, int N, int K, bool TransA, bool TransB)
{
    /// <summary>The shapes the Dopant LSTM spends its time in.</summary>
    public static readonly GemmShape[] Gemms =
    [
        new("square", 700, 2600, 1300, false, false),
        new("lstm-step", 20, 2600, 650, false, false),
        new("lstm-step-NT", 20, 2600, 650, false, true),
        new("decoder-NT", 700, 10000, 650, false, true),
        new("weight-grad-TN", 650, 2600, 700, true, false),
    ];

    /// <summary>GEMV shapes: an M×N matrix times a vector (TransA: Aᵀ·x).</summary>
    public static readonly GemmShape[] Gemvs =
    [
        new("gemv", 2600, 650, 0, false, false),
        new("gemv-T", 2600, 650, 0, true, false),
    ];

    /// <summary>Whether this is a GEMV shape.</summary>
    public bool IsGemv => K == 0;

    /// <summary>The floating-point operations of one call.</summary>
    public double Flops => IsGemv ? 2.0 * M * N : 2.0 * M * N * K;

    /// <inheritdoc/>
    public override string ToString() => IsGemv
        ? $"{Name} {M}x{N}{(TransA ? " T" : "")}"
        : $"{Name} {M}x{N}x{K} {(TransA ? 'T' : 'N')}{(TransB ? 'T' : 'N')}";
}
