using Dopant.Training;

namespace Dopant.Cli;

/// <summary>
/// Shows training progress on standard error: one line redrawn in place on a terminal, or a line every tenth of an
/// epoch when the output is a file or a pipe (so that logs stay short).
/// </summary>
internal sealed class ConsoleProgress : IProgress<TrainingProgress>
{
    private readonly bool _interactive = !Console.IsErrorRedirected;
    private int _lastDecile = -1;
    private string _lastPhase = "";
    private int _lastEpoch;

    public void Report(TrainingProgress p)
    {
        if (p.Phase != _lastPhase || p.Epoch != _lastEpoch)
        {
            if (_interactive && _lastPhase != "") Console.Error.WriteLine();
            _lastDecile = -1;
            _lastPhase = p.Phase;
            _lastEpoch = p.Epoch;
        }
        string line = p.Phase == "train"
            ? $"epoch {p.Epoch}/{p.Epochs} {p.Fraction,6:P1}  loss {p.Loss:F3}  ppl {Math.Exp(p.Loss),8:F2}  lr {p.LearningRate:G4}  {p.TokensPerSecond,8:N0} tok/s  ETA {Format(p.Remaining)}"
            : $"epoch {p.Epoch}/{p.Epochs} {p.Phase} {p.Fraction,6:P1}";
        if (_interactive)
        {
            Console.Error.Write("\r" + line.PadRight(Math.Max(0, Console.WindowWidth > 0 ? Math.Min(Console.WindowWidth - 1, 120) : 0)));
            if (p.Fraction >= 1) { Console.Error.WriteLine(); _lastPhase = ""; }
        }
        else
        {
            int decile = (int)(p.Fraction * 10);
            if (decile != _lastDecile && (p.Phase == "train" || p.Fraction >= 1))
            {
                _lastDecile = decile;
                Console.Error.WriteLine(line);
            }
        }
    }

    private static string Format(TimeSpan t) => t.TotalHours >= 1 ? $"{(int)t.TotalHours}h{t.Minutes:D2}m" : $"{t.Minutes}m{t.Seconds:D2}s";
}
