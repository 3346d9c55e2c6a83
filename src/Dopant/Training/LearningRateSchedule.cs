namespace Dopant.Training;

/// <summary>
/// Zaremba et al.'s step decay: the rate stays at <c>initial</c> for the first <c>decayAfter</c> epochs and is then
/// multiplied by <c>decay</c> every epoch: lr_e = initial · decay^max(e − decayAfter, 0) for 1-based epoch e.
/// </summary>
public static class LearningRateSchedule
{
    /// <summary>The learning rate of 1-based epoch <paramref name="epoch"/>.</summary>
    public static double Zaremba(double initial, double decay, int decayAfter, int epoch)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(epoch, 1);
        return initial * Math.Pow(decay, Math.Max(epoch - decayAfter, 0));
    }
}
