namespace Dopant.Inference;

/// <summary>Per-token cost of an <see cref="IStreamingModel"/>, medians over alternating timed passes.</summary>
/// <param name="RecurrentMicroseconds">µs per token of <see cref="IStreamingModel.Advance"/> (embedding and recurrent layers).</param>
/// <param name="TotalMicroseconds">µs per token of <see cref="IStreamingModel.Step"/> (with the decoder).</param>
/// <param name="RecurrentWeightBytes">Weight bytes one Advance reads.</param>
/// <param name="DecoderWeightBytes">Weight bytes the decoder reads per token.</param>
/// <param name="RecurrentSamples">The timed passes' µs per token, recurrent part.</param>
/// <param name="TotalSamples">The timed passes' µs per token, with the decoder.</param>
/// <param name="ModelWeightBytes">Bytes of every weight the runtime holds (<see cref="IStreamingModel.ModelWeightBytes"/>).</param>
public sealed record InferenceTiming(double RecurrentMicroseconds, double TotalMicroseconds, long RecurrentWeightBytes,
    long DecoderWeightBytes, double[] RecurrentSamples, double[] TotalSamples, long ModelWeightBytes = 0)
{
    /// <summary>Recurrent weight bytes over recurrent time: the bandwidth the recurrent part sustains, GB/s.</summary>
    public double RecurrentGigabytesPerSecond => RecurrentWeightBytes / (RecurrentMicroseconds * 1e3);
}
