using System.Text.Json;
using Dopant.Matrices;

namespace Dopant.Compression;

/// <summary>
/// A compression scheme written as JSON (<c>dopant compress --scheme s.json</c>): a list of rules, each a selector and
/// a list of operators applied in order. A numeric setting may be the string <c>"$level"</c>, the free level that
/// <c>dopant search</c> infers (<see cref="Build"/> substitutes it).
/// <code>
/// { "rules": [
///     { "select": { "names": "rnn\\.weight_.*", "kinds": ["lstm"], "exclude": ["rnn\\.weight_ih_l0"] },
///       "operators": [ { "op": "prune", "factor": "$level" }, { "op": "quantize", "precision": "int8" } ] },
///     { "select": { "kinds": ["embedding", "decoder"] }, "operators": [ { "op": "quantize", "precision": "fp16" } ] } ] }
/// </code>
/// Operators: <c>prune</c> (<c>density</c> or <c>factor</c> = 1/density, <c>per_matrix</c>); <c>row_prune</c>,
/// <c>column_prune</c>, <c>structure_prune</c> (<c>density</c> or <c>factor</c>, <c>criterion</c> l2|max|min|mean|sum,
/// <c>align</c>); <c>block_prune</c> (<c>density</c> or <c>factor</c>, <c>block</c> such as "16x1", <c>criterion</c>);
/// <c>nm_prune</c> (<c>n</c>, <c>m</c>); <c>quantize</c> (<c>precision</c> fp16|int8); <c>kp</c>, <c>dkp</c>, <c>lmf</c>,
/// <c>dlmf</c>, <c>hmd</c>, <c>dhmd</c> (<c>factor</c>, <c>doping_share</c>, <c>block</c>, <c>kron_factors</c>);
/// <c>compose</c> (<c>operators</c>).
/// </summary>
public sealed class SchemeFile
{
    private const string LevelToken = "$level";
    private readonly JsonElement _root;

    private SchemeFile(JsonElement root, string source)
    {
        _root = root;
        Source = source;
        UsesLevel = root.GetRawText().Contains($"\"{LevelToken}\"", StringComparison.Ordinal);
        _ = Rules(UsesLevel ? 2 : null);  // every error shows now, not when a level is first tried
    }

    /// <summary>Where the scheme came from (a path, or a description).</summary>
    public string Source { get; }

    /// <summary>The scheme's JSON text, as read (to store with a run).</summary>
    public string Json => _root.GetRawText();

    /// <summary>Whether a setting is the free level <c>"$level"</c>.</summary>
    public bool UsesLevel { get; }

    /// <summary>Reads and checks a scheme file.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a valid scheme; the message names the file and the problem.</exception>
    public static SchemeFile Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"Scheme file '{path}' does not exist.", path);
        var info = new FileInfo(path);
        if (info.Length > 1 << 20) throw new InvalidDataException($"Scheme file '{path}' is {info.Length:N0} bytes; a scheme is at most 1 MiB.");
        return Parse(File.ReadAllText(path), path);
    }

    /// <summary>Parses and checks a scheme from JSON text.</summary>
    /// <exception cref="InvalidDataException">The text is not a valid scheme.</exception>
    public static SchemeFile Parse(string json, string source = "scheme")
    {
        ArgumentNullException.ThrowIfNull(json);
        try
        {
            using JsonDocument document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 16, CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            return new SchemeFile(document.RootElement.Clone(), source);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source}: not valid JSON: {DiagnosticText.OneLine(e.Message)}", e);
        }
        catch (InvalidOperationException e)
        {
            // JsonElement.GetString refuses escapes such as "\ud800" that make no valid string.
            throw new InvalidDataException($"{source}: a string is not valid Unicode: {DiagnosticText.OneLine(e.Message)}", e);
        }
        catch (Exception e) when (e is ArgumentException or FormatException or KeyNotFoundException)
        {
            throw new InvalidDataException($"{source}: {DiagnosticText.OneLine(e.Message)}", e);
        }
    }

    /// <summary>The scheme at <paramref name="level"/> (required exactly when <see cref="UsesLevel"/>).</summary>
    /// <exception cref="ArgumentException">The level is missing or not allowed, or gives an invalid setting.</exception>
    public CompressionScheme Build(double? level)
    {
        if (UsesLevel && level is null) throw new ArgumentException($"{Source}: the scheme has a free \"$level\"; give a level (or run dopant search).");
        if (!UsesLevel && level is not null) throw new ArgumentException($"{Source}: the scheme has no \"$level\" setting to give a level to.");
        try
        {
            return Rules(level);
        }
        catch (Exception e) when (e is ArgumentException or FormatException)
        {
            // The file parsed at level 2, so what fails here is a setting the level gives: say which level.
            throw new ArgumentException($"{Source}: at level {level}: {DiagnosticText.OneLine(e.Message)}", e);
        }
    }

    // The rules at a level; throws FormatException or ArgumentException on an invalid setting.
    private CompressionScheme Rules(double? level)
    {
        var reader = new Reader(level);
        if (!reader.Object(_root, "the scheme", ["rules"]).TryGetProperty("rules", out JsonElement rules))
            throw new FormatException("the scheme has no \"rules\".");
        if (rules.ValueKind != JsonValueKind.Array || rules.GetArrayLength() == 0) throw new FormatException("\"rules\" must be a non-empty array.");
        var result = new List<SchemeRule>();
        int index = 0;
        foreach (JsonElement rule in rules.EnumerateArray())
        {
            string where = $"rule {++index}";
            reader.Object(rule, where, ["select", "operators"]);
            LayerSelector selector = rule.TryGetProperty("select", out JsonElement select) ? reader.Selector(select, where) : LayerSelector.All;
            if (!rule.TryGetProperty("operators", out JsonElement operators)) throw new FormatException($"{where} has no \"operators\".");
            result.Add(new SchemeRule(selector, reader.Operators(operators, where)));
        }
        return new CompressionScheme(result);
    }

    private sealed class Reader(double? level)
    {
        public JsonElement Object(JsonElement e, string where, IReadOnlyCollection<string> allowed)
        {
            if (e.ValueKind != JsonValueKind.Object) throw new FormatException($"{where} must be a JSON object.");
            foreach (JsonProperty p in e.EnumerateObject())
                if (!allowed.Contains(p.Name))
                    throw new FormatException($"{where}: unknown field \"{p.Name}\" (expected {string.Join(", ", allowed.Select(a => $"\"{a}\""))}).");
            return e;
        }

        public LayerSelector Selector(JsonElement e, string where)
        {
            Object(e, where + " select", ["names", "kinds", "exclude"]);
            string? names = e.TryGetProperty("names", out JsonElement n) ? String(n, where + " select.names") : null;
            var kinds = e.TryGetProperty("kinds", out JsonElement k) ? Strings(k, where + " select.kinds").SelectMany(LayerSelector.ParseKind).ToList() : null;
            var exclude = e.TryGetProperty("exclude", out JsonElement x) ? Strings(x, where + " select.exclude") : null;
            return new LayerSelector(names, kinds, exclude);
        }

        public ICompressionOperator Operators(JsonElement e, string where)
        {
            if (e.ValueKind != JsonValueKind.Array || e.GetArrayLength() == 0) throw new FormatException($"{where}: \"operators\" must be a non-empty array.");
            var list = e.EnumerateArray().Select((o, i) => Operator(o, $"{where} operator {i + 1}")).ToList();
            return list.Count == 1 ? list[0] : new ComposedOperator(list);
        }

        private ICompressionOperator Operator(JsonElement e, string where)
        {
            if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty("op", out JsonElement opElement)) throw new FormatException($"{where} must be an object with an \"op\".");
            string op = String(opElement, where + " op");
            where = $"{where} ({op})";
            switch (op)
            {
                case "prune":
                    Object(e, where, ["op", "density", "factor", "per_matrix"]);
                    return new MagnitudePrune(Density(e, where), e.TryGetProperty("per_matrix", out JsonElement pm) && Bool(pm, where + " per_matrix"));
                case "row_prune" or "column_prune" or "structure_prune":
                    Object(e, where, ["op", "density", "factor", "criterion", "align"]);
                    var axis = op switch { "row_prune" => StructureAxis.Rows, "column_prune" => StructureAxis.Columns, _ => StructureAxis.Both };
                    return new StructurePrune(Density(e, where), axis, Criterion(e, where), e.TryGetProperty("align", out JsonElement a) ? Integer(a, where + " align") : 1);
                case "block_prune":
                    Object(e, where, ["op", "density", "factor", "block", "criterion"]);
                    if (!e.TryGetProperty("block", out JsonElement b)) throw new FormatException($"{where} needs a \"block\" such as \"16x1\".");
                    BlockShape shape = BlockShape.Parse(String(b, where + " block"));
                    if (shape.Group != 0) throw new FormatException($"{where}: \"block\" takes RxC only; for an N:M pattern use nm_prune.");
                    if (shape.HasLooseEntries) throw new FormatException($"{where}: \"block\" takes RxC only; loose entries (+P%) are for doping and --block.");
                    if (shape.HasTiles) throw new FormatException($"{where}: \"block\" takes RxC only; balanced tiles (@RxC) are for doping and --block.");
                    return new BlockPrune(Density(e, where), shape, Criterion(e, where));
                case "nm_prune":
                    Object(e, where, ["op", "n", "m"]);
                    return new NMPrune(Integer(Required(e, "n", where), where + " n"), Integer(Required(e, "m", where), where + " m"));
                case "quantize":
                    Object(e, where, ["op", "precision"]);
                    return new Quantize(String(Required(e, "precision", where), where + " precision") switch
                    {
                        "int8" => WeightPrecision.Int8,
                        "fp16" => WeightPrecision.Float16,
                        string p => throw new FormatException($"{where}: unknown precision \"{p}\"; expected int8 or fp16."),
                    });
                case "kp" or "dkp" or "lmf" or "dlmf" or "hmd" or "dhmd":
                    Object(e, where, ["op", "factor", "doping_share", "block", "kron_factors"]);
                    var method = new LstmCompression(CompressionMethods.Parse(op), Number(Required(e, "factor", where), where + " factor"),
                        e.TryGetProperty("doping_share", out JsonElement s) ? Number(s, where + " doping_share") : LstmCompression.DefaultDopingShare,
                        e.TryGetProperty("kron_factors", out JsonElement kf) ? Integer(kf, where + " kron_factors") : 2)
                    {
                        Block = e.TryGetProperty("block", out JsonElement bl) ? Block(String(bl, where + " block"), where) : null,
                    };
                    return new FormProjection(method);
                case "compose":
                    Object(e, where, ["op", "operators"]);
                    return Operators(Required(e, "operators", where), where);
                default:
                    throw new FormatException($"{where}: unknown operator; expected prune, row_prune, column_prune, structure_prune, block_prune, " +
                                              "nm_prune, quantize, kp, dkp, lmf, dlmf, hmd, dhmd or compose.");
            }
        }

        private double Density(JsonElement e, string where)
        {
            bool hasDensity = e.TryGetProperty("density", out JsonElement d), hasFactor = e.TryGetProperty("factor", out JsonElement f);
            if (hasDensity == hasFactor) throw new FormatException($"{where} needs one of \"density\" and \"factor\".");
            if (hasDensity) return Number(d, where + " density");
            double factor = Number(f, where + " factor");
            return factor >= 1 ? 1 / factor : throw new FormatException($"{where}: factor must be at least 1 (got {factor}).");
        }

        private static StructureCriterion Criterion(JsonElement e, string where) =>
            e.TryGetProperty("criterion", out JsonElement c) ? StructureScore.Parse(String(c, where + " criterion")) : StructureCriterion.L2;

        private static JsonElement Required(JsonElement e, string name, string where) =>
            e.TryGetProperty(name, out JsonElement v) ? v : throw new FormatException($"{where} needs \"{name}\".");

        private double Number(JsonElement e, string where)
        {
            if (e.ValueKind == JsonValueKind.String && e.GetString() == LevelToken) return level!.Value;
            if (e.ValueKind != JsonValueKind.Number || !e.TryGetDouble(out double v) || !double.IsFinite(v))
                throw new FormatException($"{where} must be a number or \"{LevelToken}\".");
            return v;
        }

        private int Integer(JsonElement e, string where)
        {
            double v = Number(e, where);
            return v == Math.Floor(v) && v is >= 1 and <= int.MaxValue ? (int)v : throw new FormatException($"{where} must be a positive integer (got {v}).");
        }

        private static bool Bool(JsonElement e, string where) => e.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw new FormatException($"{where} must be true or false."),
        };

        private static BlockShape Block(string text, string where)
    {
        try
        {
            return BlockShape.Parse(text);
        }
        catch (FormatException e)
        {
            throw new FormatException($"{where} block: {e.Message}", e);
        }
    }

    private static string String(JsonElement e, string where) =>
            e.ValueKind == JsonValueKind.String ? e.GetString()! : throw new FormatException($"{where} must be a string.");

        private static List<string> Strings(JsonElement e, string where) => e.ValueKind == JsonValueKind.Array
            ? [.. e.EnumerateArray().Select((s, i) => String(s, $"{where}[{i}]"))]
            : [String(e, where)];
    }
}
