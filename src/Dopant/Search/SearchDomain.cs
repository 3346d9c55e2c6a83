namespace Dopant.Search;

/// <summary>The closed interval [<see cref="Lower"/>, <see cref="Upper"/>] of levels a search may try.</summary>
public sealed record SearchDomain
{
    /// <summary>The interval [<paramref name="lower"/>, <paramref name="upper"/>].</summary>
    /// <param name="lower">The smallest level.</param>
    /// <param name="upper">The largest level.</param>
    /// <exception cref="ArgumentOutOfRangeException">An end is not finite, or <paramref name="lower"/> ≥ <paramref name="upper"/>.</exception>
    public SearchDomain(double lower, double upper)
    {
        if (!double.IsFinite(lower) || !double.IsFinite(upper) || !(lower < upper) || !double.IsFinite(upper - lower))
            throw new ArgumentOutOfRangeException(nameof(lower), FormattableString.Invariant(
                $"A search domain needs finite ends with lower < upper, got [{lower}, {upper}]."));
        Lower = lower;
        Upper = upper;
    }

    /// <summary>The smallest level.</summary>
    public double Lower { get; }

    /// <summary>The largest level.</summary>
    public double Upper { get; }

    /// <summary><see cref="Upper"/> − <see cref="Lower"/>.</summary>
    public double Width => Upper - Lower;

    /// <summary>Where <paramref name="level"/> lies in the domain: 0 at <see cref="Lower"/>, 1 at <see cref="Upper"/>.</summary>
    /// <param name="level">A level (one outside the domain gives a value outside [0, 1]).</param>
    public double ToUnit(double level) => (level - Lower) / Width;

    /// <summary>The level at fraction <paramref name="unit"/> of the domain (the inverse of <see cref="ToUnit"/>), clamped to the domain.</summary>
    /// <param name="unit">0 for <see cref="Lower"/>, 1 for <see cref="Upper"/>.</param>
    public double FromUnit(double unit) => unit <= 0 ? Lower : unit >= 1 ? Upper : Math.Clamp(Lower + unit * Width, Lower, Upper);

    /// <summary>Whether <paramref name="level"/> lies in [<see cref="Lower"/>, <see cref="Upper"/>].</summary>
    /// <param name="level">A level.</param>
    public bool Contains(double level) => level >= Lower && level <= Upper;

    /// <summary>"[lower, upper]".</summary>
    public override string ToString() => FormattableString.Invariant($"[{Lower}, {Upper}]");
}
