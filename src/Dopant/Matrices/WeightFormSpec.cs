using System.Text.Json;
using System.Text.Json.Serialization;

namespace Dopant.Matrices;

/// <summary>
/// An immutable description of a weight-matrix form, without its size or values: enough for
/// <see cref="WeightForms"/> to build the form for a matrix of a given name and shape. Written as snake_case JSON,
/// for example <c>{"kind":"kronecker","shape":"52x25,50x26","rank":1}</c>,
/// <c>{"kind":"hybrid","dense_rows":10,"rank":4}</c> or
/// <c>{"kind":"doped","structure":{"kind":"low_rank","rank":8}}</c>; fields a kind does not use are left out.
/// </summary>
/// <param name="Kind">The form: <c>dense</c>, <c>kronecker</c>, <c>kronecker_chain</c>, <c>low_rank</c>, <c>hybrid</c>, <c>pruned</c> or <c>doped</c>.</param>
/// <param name="Shape">Kronecker factor shapes: <c>M1xN1,M2xN2</c> (kronecker) or <c>m1xn1*m2xn2*…</c> (kronecker_chain).</param>
/// <param name="Rank">The number of Kronecker products or chains (kronecker, kronecker_chain) or the rank (low_rank, hybrid).</param>
/// <param name="DenseRows">The number of leading dense rows (hybrid only).</param>
/// <param name="Structure">The structured part M of W = M + S (doped only).</param>
/// <param name="Block">The blocks pruning keeps or removes whole, RxC such as 16x1 (pruned and doped only; absent: single entries).</param>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record WeightFormSpec(
    string Kind,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Shape = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? Rank = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? DenseRows = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] WeightFormSpec? Structure = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Block = null)
{
    /// <summary>Kind of <see cref="DenseMatrix{T}"/>.</summary>
    public const string DenseKind = "dense";

    /// <summary>Kind of <see cref="KroneckerMatrix{T}"/>.</summary>
    public const string KroneckerKind = "kronecker";

    /// <summary>Kind of <see cref="KroneckerChainMatrix{T}"/>.</summary>
    public const string KroneckerChainKind = "kronecker_chain";

    /// <summary>Kind of <see cref="LowRankMatrix{T}"/>.</summary>
    public const string LowRankKind = "low_rank";

    /// <summary>Kind of <see cref="HybridMatrix{T}"/>.</summary>
    public const string HybridKind = "hybrid";

    /// <summary>Kind of <see cref="PrunedMatrix{T}"/>.</summary>
    public const string PrunedKind = "pruned";

    /// <summary>Kind of <see cref="DopedMatrix{T}"/>.</summary>
    public const string DopedKind = "doped";

    private static readonly JsonSerializerOptions JsonOptions = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>A plain dense matrix.</summary>
    public static WeightFormSpec Dense { get; } = new(DenseKind);

    /// <summary>A magnitude-pruned matrix (the mask is data, not part of the description).</summary>
    public static WeightFormSpec Pruned { get; } = new(PrunedKind);

    /// <summary>A sum of <paramref name="rank"/> Kronecker products of the given factor shapes.</summary>
    public static WeightFormSpec Kronecker(KroneckerShape shape, int rank = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rank);
        return new(KroneckerKind, Shape: shape.ToString(), Rank: rank);
    }

    /// <summary>A sum of <paramref name="rank"/> Kronecker chains of the given factor shapes.</summary>
    public static WeightFormSpec KroneckerChain(KroneckerChainShape shape, int rank = 1)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rank);
        return new(KroneckerChainKind, Shape: shape.ToString(), Rank: rank);
    }

    /// <summary>A rank-<paramref name="rank"/> factorization U·V.</summary>
    public static WeightFormSpec LowRank(int rank)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rank);
        return new(LowRankKind, Rank: rank);
    }

    /// <summary>A hybrid matrix: <paramref name="denseRows"/> dense leading rows, the rest of rank <paramref name="rank"/>.</summary>
    public static WeightFormSpec Hybrid(int denseRows, int rank)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(denseRows);
        ArgumentOutOfRangeException.ThrowIfNegative(rank);
        return new(HybridKind, Rank: rank, DenseRows: denseRows);
    }

    /// <summary>
    /// A doped matrix M + S whose structured part M has the form <paramref name="structure"/>, S pruned in blocks of
    /// <paramref name="block"/> (single entries when null).
    /// </summary>
    public static WeightFormSpec Doped(WeightFormSpec structure, BlockShape? block = null)
    {
        ArgumentNullException.ThrowIfNull(structure);
        return new(DopedKind, Structure: structure, Block: BlockText(block));
    }

    /// <summary>A pruned matrix whose pruning keeps or removes blocks of <paramref name="block"/> whole.</summary>
    public static WeightFormSpec PrunedInBlocks(BlockShape block) => new(PrunedKind, Block: BlockText(block));

    /// <summary>The block shape of a pruned or doped form (<see cref="BlockShape.Element"/> when the field is absent).</summary>
    /// <exception cref="FormatException">The field is not of the form RxC.</exception>
    [JsonIgnore]
    public BlockShape BlockShape => Block is null ? BlockShape.Element : BlockShape.Parse(Block);

    private static string? BlockText(BlockShape? block) => block is { IsUnstructured: false } b ? b.ToString() : null;

    /// <summary>The description as compact snake_case JSON.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    /// <summary>Reads a description written by <see cref="ToJson"/>; whether the kind and fields make sense is checked by <see cref="WeightForms"/>.</summary>
    /// <exception cref="JsonException">The text is not JSON of this shape, or has no kind.</exception>
    public static WeightFormSpec Parse(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        WeightFormSpec spec = JsonSerializer.Deserialize<WeightFormSpec>(json, JsonOptions)
            ?? throw new JsonException("A weight form description is null.");
        return spec.Kind is null ? throw new JsonException("A weight form description has no 'kind'.") : spec;
    }

    /// <inheritdoc/>
    public override string ToString() => ToJson();
}
