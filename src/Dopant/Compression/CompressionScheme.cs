namespace Dopant.Compression;

/// <summary>
/// A per-layer mapping of compression operators: each weight matrix is compressed by the first rule that selects it
/// (in rule order), and weights no rule selects stay as they are. The weights of one rule are projected together.
/// </summary>
public sealed class CompressionScheme
{
    /// <summary>Creates a scheme from its rules.</summary>
    public CompressionScheme(IReadOnlyList<SchemeRule> rules)
    {
        ArgumentNullException.ThrowIfNull(rules);
        if (rules.Count == 0) throw new ArgumentException("A scheme needs at least one rule.", nameof(rules));
        Rules = [.. rules];
    }

    /// <summary>A scheme of one rule.</summary>
    public CompressionScheme(LayerSelector selector, ICompressionOperator op)
        : this([new SchemeRule(selector, op)])
    {
    }

    /// <summary>The rules, first match wins.</summary>
    public IReadOnlyList<SchemeRule> Rules { get; }

    /// <summary>The weights each rule compresses, in rule order (rules that select nothing are left out).</summary>
    public IReadOnlyList<(SchemeRule Rule, IReadOnlyList<CompressibleWeight> Weights)> Assign(IReadOnlyList<CompressibleWeight> weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        var groups = Rules.Select(_ => new List<CompressibleWeight>()).ToArray();
        foreach (CompressibleWeight w in weights)
            for (int r = 0; r < Rules.Count; r++)
                if (Rules[r].Selector.Selects(w))
                {
                    groups[r].Add(w);
                    break;
                }
        return [.. Rules.Select((rule, r) => (rule, (IReadOnlyList<CompressibleWeight>)groups[r])).Where(g => g.Item2.Count > 0)];
    }

    /// <summary>The weights some rule selects, in their given order.</summary>
    public IReadOnlyList<CompressibleWeight> Selected(IReadOnlyList<CompressibleWeight> weights) =>
        [.. weights.Where(w => Rules.Any(r => r.Selector.Selects(w)))];

    /// <summary>Projects every selected weight in place (Δ(Π(w)) of its rule).</summary>
    /// <exception cref="ArgumentException">No weight is selected.</exception>
    public void Project(IReadOnlyList<CompressibleWeight> weights)
    {
        var groups = Assign(weights);
        if (groups.Count == 0) throw new ArgumentException("The scheme selects none of the model's weights: " + string.Join(", ", weights.Select(w => w.Name)) + ".");
        foreach ((SchemeRule rule, IReadOnlyList<CompressibleWeight> group) in groups) rule.Operator.Project(group);
    }

    /// <summary>The storage of every weight (projected ones by their rule, the others dense), by name.</summary>
    public IReadOnlyList<(string Name, StorageEstimate Dense, StorageEstimate Compressed)> Account(IReadOnlyList<CompressibleWeight> weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        var rule = new Dictionary<string, SchemeRule>();
        foreach ((SchemeRule r, IReadOnlyList<CompressibleWeight> group) in Assign(weights))
            foreach (CompressibleWeight w in group) rule[w.Name] = r;
        return [.. weights.Select(w =>
        {
            StorageEstimate dense = StorageEstimate.Dense(w);
            return (w.Name, dense, rule.TryGetValue(w.Name, out SchemeRule? r) ? r.Operator.Account(w, dense) : dense);
        })];
    }

    /// <inheritdoc/>
    public override string ToString() => string.Join("; ", Rules.Select(r => $"{r.Selector}: {r.Operator.Description}"));
}
