using System.Runtime.InteropServices;
using Dopant.Matrices;
using Dopant.Numerics;

namespace Dopant.Inference;

/// <summary>
/// The embedding of the streaming runtime: one row per token, stored at a <see cref="WeightPrecision"/> (fp16 and int8
/// with one scale per row, as <see cref="RowQuantization"/>) and widened to floats when a token looks its row up.
/// </summary>
internal sealed class EmbeddingTable : IEmbeddingRows
{
    private readonly float[] _floats;
    private readonly sbyte[] _bytes;
    private readonly Half[] _halves;
    private readonly float[] _scales;

    /// <summary>Copies (and quantizes) the row-major <paramref name="rows"/> × <paramref name="dimension"/> table.</summary>
    public EmbeddingTable(ReadOnlySpan<float> table, int rows, int dimension, WeightPrecision precision)
    {
        Rows = rows;
        Dimension = dimension;
        (_floats, _bytes, _halves) = ([], [], []);
        _scales = precision == WeightPrecision.Float32 ? [] : new float[rows];
        switch (precision)
        {
            case WeightPrecision.Float32: _floats = table.ToArray(); break;
            case WeightPrecision.Int8:
                _bytes = new sbyte[table.Length];
                RowQuantization.ToInt8(table, rows, dimension, _bytes, _scales);
                break;
            case WeightPrecision.Float16:
                _halves = new Half[table.Length];
                RowQuantization.ToFloat16(table, rows, dimension, _halves, _scales);
                break;
            default: throw new ArgumentOutOfRangeException(nameof(precision), precision, "Unknown weight precision.");
        }
    }

    public int Rows { get; }

    public int Dimension { get; }

    /// <summary>Bytes of one row (and its scale).</summary>
    public long RowBytes => _floats.Length > 0 ? Dimension * sizeof(float) : Dimension * (_bytes.Length > 0 ? 1 : 2) + sizeof(float);

    /// <summary>Bytes of every row and its scale.</summary>
    public long TableBytes => RowBytes * Rows;

    /// <summary>Writes row <paramref name="row"/> as floats.</summary>
    public void CopyRow(int row, Span<float> destination)
    {
        if (_floats.Length > 0) _floats.AsSpan(row * Dimension, Dimension).CopyTo(destination);
        else if (_bytes.Length > 0) RowQuantization.Dequantize<sbyte>(_bytes.AsSpan(row * Dimension, Dimension), _scales.AsSpan(row, 1), Dimension, destination);
        else RowQuantization.Dequantize<Half>(_halves.AsSpan(row * Dimension, Dimension), _scales.AsSpan(row, 1), Dimension, destination);
    }
}
