using System.Globalization;

namespace Dopant.Matrices;

/// <summary>
/// A compression factor for the weight matrices whose state-dict names match <see cref="Pattern"/> (the whole name),
/// in place of a compression's own factor: e.g. the embedding and the decoder compressed less than the LSTM layers.
/// </summary>
/// <param name="Pattern">A regular expression over matrix names (<see cref="NamePattern"/>), such as <c>decoder\.weight</c>.</param>
/// <param name="Factor">The target compression factor of those matrices, greater than 1.</param>
public sealed record MatrixFactor(string Pattern, double Factor)
{
    /// <summary>Parses <c>PATTERN=FACTOR</c>, e.g. <c>encoder\.weight|decoder\.weight=5</c> (the last '=' separates them).</summary>
    /// <exception cref="ArgumentException">No '=', an empty pattern, a factor that is not a number greater than 1, or an invalid pattern; the message quotes the text.</exception>
    public static MatrixFactor Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int split = text.LastIndexOf('=');
        if (split <= 0)
            throw new ArgumentException($"--matrix-factor {DiagnosticText.Quote(text)}: expected PATTERN=FACTOR, e.g. 'decoder\\.weight=5'.");
        string factorText = text[(split + 1)..];
        if (!double.TryParse(factorText, NumberStyles.Float, CultureInfo.InvariantCulture, out double factor))
            throw new ArgumentException($"--matrix-factor {DiagnosticText.Quote(text)}: the factor {DiagnosticText.Quote(factorText)} is not a number.");
        var parsed = new MatrixFactor(text[..split], factor);
        parsed.Validate();
        return parsed;
    }

    /// <summary>Throws <see cref="ArgumentException"/> when the factor is not greater than 1 or the pattern is invalid.</summary>
    public void Validate()
    {
        if (!(Factor > 1) || !double.IsFinite(Factor))
            throw new ArgumentException($"--matrix-factor {DiagnosticText.Quote(ToString())}: the factor must be greater than 1 (got {Factor.ToString(CultureInfo.InvariantCulture)}).");
        _ = NamePattern.Parse(Pattern);
    }

    /// <summary>Whether the pattern matches the whole of <paramref name="name"/>.</summary>
    public bool Selects(string name) => NamePattern.Parse(Pattern).IsMatch(name);

    /// <summary><c>PATTERN=FACTOR</c>, the form <see cref="Parse"/> reads.</summary>
    public override string ToString() => $"{Pattern}={Factor.ToString("G", CultureInfo.InvariantCulture)}";
}
