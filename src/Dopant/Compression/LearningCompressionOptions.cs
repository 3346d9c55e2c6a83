namespace Dopant.Compression;

/// <summary>
/// The schedule of the learning-compression (L-C) algorithm (Carreira-Perpiñán 2017; Condensa's <c>LC</c>): the number
/// of L/C iterations and the penalty μ, which starts at <see cref="Mu0"/> and grows by <see cref="MuGrowth"/> after
/// every iteration, so that w is drawn ever closer to its compressed form.
/// </summary>
public sealed record LearningCompressionOptions
{
    /// <summary>L/C iterations after the direct compression.</summary>
    public int Iterations { get; init; } = 10;

    /// <summary>The penalty at the first L step.</summary>
    public double Mu0 { get; init; } = 1e-3;

    /// <summary>The factor μ grows by after every iteration, at least 1.</summary>
    public double MuGrowth { get; init; } = 1.1;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid field.</summary>
    public void Validate()
    {
        if (Iterations < 1) throw new ArgumentException($"The L-C iterations must be at least 1 (got {Iterations}).");
        if (!(Mu0 > 0) || !double.IsFinite(Mu0)) throw new ArgumentException($"μ0 must be positive (got {Mu0}).");
        if (!(MuGrowth >= 1) || !double.IsFinite(MuGrowth)) throw new ArgumentException($"The μ growth must be at least 1 (got {MuGrowth}).");
    }
}
