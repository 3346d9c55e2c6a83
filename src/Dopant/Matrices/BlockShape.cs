using System.Globalization;

namespace Dopant.Matrices;

/// <summary>
/// The shape of the blocks a pruned matrix keeps or prunes whole: <see cref="Rows"/> × <see cref="Columns"/> entries
/// tiling the matrix from its top-left corner (blocks at the right and bottom edges may be cut short). 1×1 is
/// unstructured pruning; 16×1 keeps runs of 16 rows of one column, which a runtime multiplies with one broadcast FMA.
/// </summary>
/// <param name="Rows">Rows of a block, at least 1.</param>
/// <param name="Columns">Columns of a block, at least 1.</param>
public readonly record struct BlockShape(int Rows, int Columns)
{
    /// <summary>Single entries: unstructured pruning.</summary>
    public static BlockShape Element { get; } = new(1, 1);

    /// <summary>Whether blocks are single entries.</summary>
    public bool IsElement => Rows == 1 && Columns == 1;

    /// <summary>Entries in a whole block.</summary>
    public int Size => Rows * Columns;

    /// <summary>Parses <c>RxC</c> (e.g. <c>16x1</c>), each at least 1 and at most 256.</summary>
    /// <exception cref="FormatException">The text is not of that form.</exception>
    public static BlockShape Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string[] parts = text.Split('x');
        if (parts.Length == 2 && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int rows)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int columns)
            && rows is >= 1 and <= 256 && columns is >= 1 and <= 256)
            return new BlockShape(rows, columns);
        throw new FormatException($"A block shape is RxC with R and C from 1 to 256, such as 16x1 or 4x4 (got '{text}').");
    }

    /// <summary>Blocks along the rows and the columns of an m × n matrix (edge blocks included).</summary>
    public (int BlockRows, int BlockColumns) GridFor(int rows, int columns) =>
        ((rows + Rows - 1) / Rows, (columns + Columns - 1) / Columns);

    /// <inheritdoc/>
    public override string ToString() => $"{Rows}x{Columns}";
}
