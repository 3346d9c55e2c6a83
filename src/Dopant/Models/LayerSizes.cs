using System.Collections;
using System.Globalization;
using System.Text.Json.Serialization;

namespace Dopant.Models;

/// <summary>
/// The hidden size of each layer of a recurrent stack, bottom first, compared by value. The default (no sizes) stands
/// for a stack whose layers all have the configuration's hidden size. Written in JSON as an array of integers.
/// </summary>
[JsonConverter(typeof(LayerSizesJsonConverter))]
public readonly struct LayerSizes : IEquatable<LayerSizes>, IReadOnlyList<int>
{
    private readonly int[]? _sizes;

    /// <summary>The sizes <paramref name="sizes"/>, bottom layer first.</summary>
    public LayerSizes(IEnumerable<int> sizes)
    {
        ArgumentNullException.ThrowIfNull(sizes);
        _sizes = [.. sizes];
    }

    /// <summary>Whether no sizes are given (every layer has the configuration's hidden size).</summary>
    public bool IsEmpty => Count == 0;

    /// <inheritdoc/>
    public int Count => _sizes?.Length ?? 0;

    /// <inheritdoc/>
    public int this[int index] => (_sizes ?? [])[index];

    /// <summary>Whether every size equals <paramref name="size"/> (true when empty).</summary>
    public bool AllEqual(int size) => _sizes is null || Array.TrueForAll(_sizes, s => s == size);

    /// <summary>
    /// Parses <c>650</c> or <c>650,400</c> (comma-separated positive integers, bottom layer first).
    /// </summary>
    /// <exception cref="FormatException">A size is not a positive integer; the message quotes it.</exception>
    public static LayerSizes Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string[] parts = text.Split(',', StringSplitOptions.TrimEntries);
        var sizes = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out sizes[i]) || sizes[i] < 1)
                throw new FormatException($"'{parts[i]}' is not a positive layer size (expected e.g. 650 or 650,400).");
        return new LayerSizes(sizes);
    }

    /// <summary>
    /// Throws <see cref="ArgumentException"/> unless the sizes are empty or give each of <paramref name="layers"/>
    /// layers a positive size, the top one <paramref name="top"/>.
    /// </summary>
    public void Validate(int layers, int top)
    {
        if (IsEmpty) return;
        if (Count != layers) throw new ArgumentException($"The layer sizes {this} name {Count} layers; the model has {layers}.");
        if (this.Any(s => s < 1)) throw new ArgumentException($"The layer sizes {this} must all be positive.");
        if (this[^1] != top) throw new ArgumentException($"The layer sizes {this} end with {this[^1]}, but the top layer's hidden size is {top}.");
    }

    /// <inheritdoc/>
    public bool Equals(LayerSizes other) => (_sizes ?? []).AsSpan().SequenceEqual(other._sizes ?? []);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is LayerSizes other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (int size in _sizes ?? []) hash.Add(size);
        return hash.ToHashCode();
    }

    /// <summary>Equality by value.</summary>
    public static bool operator ==(LayerSizes left, LayerSizes right) => left.Equals(right);

    /// <summary>Inequality by value.</summary>
    public static bool operator !=(LayerSizes left, LayerSizes right) => !left.Equals(right);

    /// <summary>The sizes comma-separated, bottom first (as <see cref="Parse"/> reads them).</summary>
    public override string ToString() => string.Join(',', _sizes ?? []);

    /// <inheritdoc/>
    public IEnumerator<int> GetEnumerator() => ((IEnumerable<int>)(_sizes ?? [])).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
