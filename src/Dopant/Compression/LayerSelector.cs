using Dopant.Matrices;

namespace Dopant.Compression;

/// <summary>
/// Which weight matrices a scheme rule applies to: those whose state-dict name matches <see cref="Names"/> (a regular
/// expression that must match the whole name), whose kind is one of <see cref="Kinds"/> (any kind when empty), and
/// whose name matches none of <see cref="Exclude"/> (the opt-out).
/// </summary>
public sealed class LayerSelector
{
    private readonly NamePattern? _names;
    private readonly NamePattern[] _exclude;

    /// <summary>Creates a selector; null or empty arguments select everything.</summary>
    /// <exception cref="ArgumentException">
    /// A pattern is not a valid regular expression, or uses a construct that linear-time matching does not support
    /// (backreferences, lookarounds, atomic groups, conditionals).
    /// </exception>
    public LayerSelector(string? names = null, IEnumerable<WeightKind>? kinds = null, IEnumerable<string>? exclude = null)
    {
        Names = string.IsNullOrEmpty(names) ? null : names;
        Kinds = kinds?.Distinct().ToArray() ?? [];
        Exclude = exclude?.ToArray() ?? [];
        _names = Names is null ? null : NamePattern.Parse(Names);
        _exclude = [.. Exclude.Select(NamePattern.Parse)];
    }

    /// <summary>Selects every weight matrix.</summary>
    public static LayerSelector All { get; } = new();

    /// <summary>The name pattern, or null for any name.</summary>
    public string? Names { get; }

    /// <summary>The kinds selected; empty for any kind.</summary>
    public IReadOnlyList<WeightKind> Kinds { get; }

    /// <summary>Name patterns of matrices left out.</summary>
    public IReadOnlyList<string> Exclude { get; }

    /// <summary>Whether <paramref name="weight"/> is selected.</summary>
    public bool Selects(CompressibleWeight weight)
    {
        ArgumentNullException.ThrowIfNull(weight);
        return (_names is null || _names.IsMatch(weight.Name))
               && (Kinds.Count == 0 || Kinds.Contains(weight.Kind))
               && !_exclude.Any(e => e.IsMatch(weight.Name));
    }

    /// <summary>Whether a matrix named <paramref name="name"/> matches <see cref="Names"/> and none of <see cref="Exclude"/> (kinds are not looked at).</summary>
    public bool SelectsName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return (_names is null || _names.IsMatch(name)) && !_exclude.Any(e => e.IsMatch(name));
    }

    /// <summary>Parses a kind: <c>embedding</c>, <c>lstm_input</c>, <c>lstm_recurrent</c>, <c>decoder</c>; <c>lstm</c> is both LSTM kinds.</summary>
    public static IReadOnlyList<WeightKind> ParseKind(string text) => text switch
    {
        "embedding" => [WeightKind.Embedding],
        "lstm_input" => [WeightKind.LstmInput],
        "lstm_recurrent" => [WeightKind.LstmRecurrent],
        "lstm" => [WeightKind.LstmInput, WeightKind.LstmRecurrent],
        "decoder" => [WeightKind.Decoder],
        _ => throw new FormatException($"Unknown weight kind '{text}'; expected embedding, lstm, lstm_input, lstm_recurrent or decoder."),
    };

    /// <inheritdoc/>
    public override string ToString()
    {
        var parts = new List<string>();
        if (Names is not null) parts.Add($"names /{Names}/");
        if (Kinds.Count > 0) parts.Add("kinds " + string.Join(", ", Kinds));
        if (Exclude.Count > 0) parts.Add("except " + string.Join(", ", Exclude.Select(e => $"/{e}/")));
        return parts.Count == 0 ? "all" : string.Join("; ", parts);
    }
}
