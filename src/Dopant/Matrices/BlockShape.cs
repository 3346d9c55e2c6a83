using System.Globalization;

namespace Dopant.Matrices;

/// <summary>
/// The shape of the blocks a pruned matrix keeps or prunes whole: <see cref="Rows"/> × <see cref="Columns"/> entries
/// tiling the matrix from its top-left corner (blocks at the right and bottom edges may be cut short). 1×1 is
/// unstructured pruning; 16×1 keeps runs of 16 rows of one column, which a runtime multiplies with one broadcast FMA.
/// A positive <see cref="Group"/> M makes the pattern balanced, N:M: every run of M consecutive blocks along a block row
/// keeps the same number N of blocks, N following the target sparsity (a shorter last run keeps min(N, its length)).
/// A positive <see cref="LoosePercent"/> P adds loose entries: whole blocks hold at most 100 − P percent of the
/// kept entries and the rest are single entries anywhere outside them (the strongest by magnitude), so that a few
/// scattered large values need not bring a whole block each.
/// A positive <see cref="TileRows"/> × <see cref="TileColumns"/> tile makes single entries balanced in tiles: the rows
/// are grouped into slices of TileRows (and the columns into windows of TileColumns), and every row of a slice keeps the
/// same number of entries in each window, that number chosen freely for each slice and window. A 16 × 64 tile is the
/// shape of windowed ELL, which then runs with no padding.
/// </summary>
/// <param name="Rows">Rows of a block, at least 1.</param>
/// <param name="Columns">Columns of a block, at least 1.</param>
/// <param name="Group">Blocks per N:M group along a block row, 2 to 256; 0 for no such pattern.</param>
/// <param name="LoosePercent">The percentage of the kept entries that may lie outside whole blocks, 1 to 99; 0 for none.</param>
/// <param name="TileRows">Rows of a balanced tile of single entries, 1 to 256; 0 for no tiles.</param>
/// <param name="TileColumns">Columns of a balanced tile of single entries, 1 to 256; 0 for no tiles.</param>
[System.Text.Json.Serialization.JsonConverter(typeof(BlockShapeJsonConverter))]
public readonly record struct BlockShape(int Rows, int Columns, int Group = 0, int LoosePercent = 0, int TileRows = 0, int TileColumns = 0)
{
    /// <summary>Single entries: unstructured pruning.</summary>
    public static BlockShape Element { get; } = new(1, 1);

    /// <summary>Whether blocks are single entries (with or without an N:M pattern).</summary>
    public bool IsElement => Rows == 1 && Columns == 1;

    /// <summary>Whether this is unstructured pruning: single entries, no N:M pattern and no balanced tiles.</summary>
    public bool IsUnstructured => IsElement && Group == 0 && !HasTiles;

    /// <summary>Whether single entries are balanced in tiles (<see cref="TileRows"/> &gt; 0).</summary>
    public bool HasTiles => TileRows > 0;

    /// <summary>Whether some kept entries may be single entries outside whole blocks (<see cref="LoosePercent"/> &gt; 0).</summary>
    public bool HasLooseEntries => LoosePercent > 0;

    /// <summary>The whole blocks of this shape, without loose entries.</summary>
    public BlockShape Blocks => this with { LoosePercent = 0 };

    /// <summary>Entries in a whole block.</summary>
    public int Size => Rows * Columns;

    /// <summary>
    /// Parses <c>RxC</c> (e.g. <c>16x1</c>), each at least 1 and at most 256, optionally followed by <c>/M</c> for an
    /// N:M pattern over groups of M blocks (e.g. <c>16x1/32</c>, <c>1x1/4</c>), M from 2 to 256, or by <c>+P%</c> for
    /// P percent of the kept entries loose (e.g. <c>4x4+10%</c>), P from 1 to 99 and blocks larger than 1×1; or
    /// <c>1x1@RxC</c> for single entries balanced in tiles of R rows and C columns (e.g. <c>1x1@16x64</c>), R and C
    /// from 1 to 256.
    /// </summary>
    /// <exception cref="FormatException">The text is not of that form.</exception>
    public static BlockShape Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int at = text.IndexOf('@');
        if (at >= 0)
        {
            BlockShape tile = text[..at] == "1x1" && text.IndexOfAny(['/', '+']) < 0 ? TryParseBlocks(text[(at + 1)..]) : default;
            if (tile.Rows > 0 && tile.Group == 0)
                return new BlockShape(1, 1, TileRows: tile.Rows, TileColumns: tile.Columns);
            throw new FormatException($"Single entries balanced in tiles are 1x1@RxC, R and C from 1 to 256, such as 1x1@16x64 (got '{text}').");
        }
        int plus = text.IndexOf('+');
        if (plus >= 0)
        {
            string share = text[(plus + 1)..];
            BlockShape blocks = plus > 0 && text.IndexOf('/') < 0 ? ParseBlocks(text[..plus]) : default;
            if (blocks.Rows > 0 && !blocks.IsElement && share.EndsWith('%')
                && int.TryParse(share[..^1], NumberStyles.None, CultureInfo.InvariantCulture, out int loose) && loose is >= 1 and <= 99)
                return blocks with { LoosePercent = loose };
            throw new FormatException($"Blocks with loose entries are RxC+P%, blocks larger than 1x1 and P from 1 to 99 percent of the kept entries loose, such as 4x4+10% (got '{text}').");
        }
        return ParseBlocks(text);
    }

    private static BlockShape ParseBlocks(string text)
    {
        BlockShape shape = TryParseBlocks(text);
        if (shape.Rows > 0) return shape;
        throw new FormatException($"A block shape is RxC with R and C from 1 to 256, such as 16x1 or 4x4, optionally /M for an N:M pattern over groups of M blocks (M from 2 to 256), such as 16x1/32, +P% for P percent of the kept entries loose, such as 4x4+10%, or 1x1@RxC for single entries balanced in tiles, such as 1x1@16x64 (got '{text}').");
    }

    // RxC or RxC/M; default when the text is neither.
    private static BlockShape TryParseBlocks(string text)
    {
        string[] pattern = text.Split('/');
        string[] parts = pattern[0].Split('x');
        int group = 0;
        if (pattern.Length <= 2 && parts.Length == 2
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int rows)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int columns)
            && rows is >= 1 and <= 256 && columns is >= 1 and <= 256
            && (pattern.Length == 1 || int.TryParse(pattern[1], NumberStyles.None, CultureInfo.InvariantCulture, out group) && group is >= 2 and <= 256))
            return new BlockShape(rows, columns, group);
        return default;
    }

    /// <summary>Blocks along the rows and the columns of an m × n matrix (edge blocks included).</summary>
    public (int BlockRows, int BlockColumns) GridFor(int rows, int columns) =>
        ((rows + Rows - 1) / Rows, (columns + Columns - 1) / Columns);

    /// <summary>
    /// Blocks an N:M group keeps at <paramref name="sparsity"/>: M − round(sparsity · M) (midpoints away from zero).
    /// </summary>
    public int KeptPerGroup(double sparsity) => Group - (int)Math.Round(sparsity * Group, MidpointRounding.AwayFromZero);

    /// <inheritdoc/>
    public override string ToString() =>
        Group != 0 ? $"{Rows}x{Columns}/{Group}" : LoosePercent != 0 ? $"{Rows}x{Columns}+{LoosePercent}%"
        : HasTiles ? $"{Rows}x{Columns}@{TileRows}x{TileColumns}" : $"{Rows}x{Columns}";
}
