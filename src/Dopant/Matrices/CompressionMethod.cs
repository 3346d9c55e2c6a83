using System.Text.Json.Serialization;

namespace Dopant.Matrices;

/// <summary>The compression methods of the doping papers (<see cref="LstmCompression"/>).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<CompressionMethod>))]
public enum CompressionMethod
{
    /// <summary>Kronecker product (sums of them, or of chains).</summary>
    [JsonStringEnumMemberName("kp")]
    Kp,

    /// <summary>Doped Kronecker product: the product plus a sparse S.</summary>
    [JsonStringEnumMemberName("dkp")]
    Dkp,

    /// <summary>Low-rank matrix factorization.</summary>
    [JsonStringEnumMemberName("lmf")]
    Lmf,

    /// <summary>Doped low rank.</summary>
    [JsonStringEnumMemberName("dlmf")]
    Dlmf,

    /// <summary>Hybrid: dense top rows, low-rank rest.</summary>
    [JsonStringEnumMemberName("hmd")]
    Hmd,

    /// <summary>Doped hybrid.</summary>
    [JsonStringEnumMemberName("dhmd")]
    Dhmd,

    /// <summary>Magnitude pruning.</summary>
    [JsonStringEnumMemberName("prune")]
    Prune,
}

/// <summary>Names and properties of <see cref="CompressionMethod"/>.</summary>
public static class CompressionMethods
{
    private static readonly string[] Names = ["kp", "dkp", "lmf", "dlmf", "hmd", "dhmd", "prune"];

    /// <summary>Every method's name as the command line and files spell it, in declaration order.</summary>
    public static IReadOnlyList<string> All => Names;

    /// <summary>The method's name: <c>kp</c>, <c>dkp</c>, ...</summary>
    public static string Name(this CompressionMethod method) =>
        (uint)method < (uint)Names.Length ? Names[(int)method] : throw new ArgumentOutOfRangeException(nameof(method), method, "Unknown compression method.");

    /// <summary>Parses a method's name.</summary>
    /// <exception cref="ArgumentException">Not one of <see cref="All"/>; the message quotes it.</exception>
    public static CompressionMethod Parse(string name)
    {
        int index = Array.IndexOf(Names, name);
        return index >= 0 ? (CompressionMethod)index
            : throw new ArgumentException($"Unknown compression method '{name}'; expected one of: {string.Join(", ", Names)}.");
    }

    /// <summary>Whether the method adds a doping matrix S (dkp, dlmf, dhmd).</summary>
    public static bool IsDoped(this CompressionMethod method) => method is CompressionMethod.Dkp or CompressionMethod.Dlmf or CompressionMethod.Dhmd;
}
