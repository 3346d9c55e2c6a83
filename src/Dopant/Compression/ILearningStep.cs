namespace Dopant.Compression;

/// <summary>
/// The problem the L-C algorithm compresses: it trains its weights (the L step) on its own loss plus the penalty the
/// algorithm hands it, and measures the validation loss of whatever values its weights hold.
/// </summary>
public interface ILearningStep
{
    /// <summary>
    /// The L step of iteration <paramref name="iteration"/> (1 for the first, which may be longer): minimizes
    /// loss(w) + <paramref name="penalty"/> from the current weights, adding <see cref="LearningCompressionPenalty.AddGradients"/>
    /// to the loss gradient before every parameter update, with a fresh optimizer state.
    /// </summary>
    void Learn(int iteration, LearningCompressionPenalty penalty);

    /// <summary>The validation loss of the model with its weights' current values (lower is better).</summary>
    double ValidationLoss();
}
