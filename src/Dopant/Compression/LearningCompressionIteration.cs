namespace Dopant.Compression;

/// <summary>What one L-C iteration measured.</summary>
/// <param name="Iteration">0 for the direct compression, then 1, 2, ...</param>
/// <param name="Mu">The penalty μ of the iteration's L step (μ0 for the direct compression).</param>
/// <param name="ValidationLoss">The validation loss of the compressed weights Δ(θ) after the iteration's C step.</param>
/// <param name="Distance">‖w − Δ(θ)‖ after the C step: how far the trained weights are from their compressed form.</param>
public sealed record LearningCompressionIteration(int Iteration, double Mu, double ValidationLoss, double Distance);
