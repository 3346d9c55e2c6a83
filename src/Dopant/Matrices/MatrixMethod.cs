using System.Globalization;

namespace Dopant.Matrices;

/// <summary>
/// A compression method for the weight matrices whose state-dict names match <see cref="Pattern"/> (the whole name), in
/// place of a compression's own method: e.g. doped low rank for the embedding and the decoder, whose rows are words with
/// no Kronecker structure, while the LSTM layers take doped Kronecker products.
/// </summary>
/// <param name="Pattern">A regular expression over matrix names (<see cref="NamePattern"/>), such as <c>encoder\.weight</c>.</param>
/// <param name="Method">The method of those matrices.</param>
/// <param name="DopingShare">For a doped method, the share of those matrices' budget that S keeps, in (0, 1); null: the compression's own.</param>
public sealed record MatrixMethod(string Pattern, CompressionMethod Method, double? DopingShare = null)
{
    /// <summary>
    /// Parses <c>PATTERN=METHOD</c> or <c>PATTERN=METHOD:SHARE</c>, e.g. <c>encoder\.weight=dlmf:0.5</c> (the last '='
    /// separates them).
    /// </summary>
    /// <exception cref="ArgumentException">No '=', an empty pattern, an unknown method, a share that is not a number in (0, 1) or given to a method without S, or an invalid pattern; the message quotes the text.</exception>
    public static MatrixMethod Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int split = text.LastIndexOf('=');
        if (split <= 0)
            throw new ArgumentException($"--matrix-method {DiagnosticText.Quote(text)}: expected PATTERN=METHOD or PATTERN=METHOD:SHARE, e.g. 'encoder\\.weight=dlmf:0.5'.");
        string value = text[(split + 1)..];
        int colon = value.IndexOf(':');
        string methodText = colon < 0 ? value : value[..colon];
        if (!CompressionMethods.All.Contains(methodText))
            throw new ArgumentException($"--matrix-method {DiagnosticText.Quote(text)}: unknown method {DiagnosticText.Quote(methodText)}; expected one of: {string.Join(", ", CompressionMethods.All)}.");
        double? share = null;
        if (colon >= 0)
        {
            string shareText = value[(colon + 1)..];
            if (!double.TryParse(shareText, NumberStyles.Float, CultureInfo.InvariantCulture, out double parsedShare))
                throw new ArgumentException($"--matrix-method {DiagnosticText.Quote(text)}: the doping share {DiagnosticText.Quote(shareText)} is not a number.");
            share = parsedShare;
        }
        var parsed = new MatrixMethod(text[..split], CompressionMethods.Parse(methodText), share);
        parsed.Validate();
        return parsed;
    }

    /// <summary>Throws <see cref="ArgumentException"/> when the share is outside (0, 1) or given to a method without S, or the pattern is invalid.</summary>
    public void Validate()
    {
        if (DopingShare is double share)
        {
            if (!Method.IsDoped())
                throw new ArgumentException($"--matrix-method {DiagnosticText.Quote(ToString())}: a doping share applies only to dkp, dlmf and dhmd, not to {Method.Name()}.");
            if (!(share > 0 && share < 1))
                throw new ArgumentException($"--matrix-method {DiagnosticText.Quote(ToString())}: the doping share must be in (0, 1) (got {share.ToString(CultureInfo.InvariantCulture)}).");
        }
        _ = NamePattern.Parse(Pattern);
    }

    /// <summary>Whether the pattern matches the whole of <paramref name="name"/>.</summary>
    public bool Selects(string name) => NamePattern.Parse(Pattern).IsMatch(name);

    /// <summary><c>PATTERN=METHOD</c> or <c>PATTERN=METHOD:SHARE</c>, the form <see cref="Parse"/> reads.</summary>
    public override string ToString() =>
        $"{Pattern}={Method.Name()}" + (DopingShare is double share ? ":" + share.ToString("G", CultureInfo.InvariantCulture) : "");
}
