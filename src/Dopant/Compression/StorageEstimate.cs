namespace Dopant.Compression;

/// <summary>
/// What storing one compressed matrix takes: the number of stored values and their width, plus index and scale bytes.
/// Each operator of a scheme turns the estimate of its input into that of its output
/// (<see cref="ICompressionOperator.Account"/>), starting from <see cref="Dense"/>.
/// </summary>
/// <param name="Values">Stored values.</param>
/// <param name="BytesPerValue">Bytes per stored value: 4 (fp32), 2 (fp16) or 1 (int8).</param>
/// <param name="IndexBytes">Bytes of sparse indices (column indices, row pointers).</param>
/// <param name="ScaleBytes">Bytes of quantization scales.</param>
public readonly record struct StorageEstimate(long Values, int BytesPerValue, long IndexBytes, long ScaleBytes)
{
    /// <summary>A dense fp32 matrix of <paramref name="weight"/>'s shape.</summary>
    public static StorageEstimate Dense(CompressibleWeight weight) => new((long)weight.Rows * weight.Columns, sizeof(float), 0, 0);

    /// <summary>Total bytes.</summary>
    public long Bytes => Values * BytesPerValue + IndexBytes + ScaleBytes;

    /// <summary>
    /// Bytes of compressed sparse rows for <paramref name="entries"/> kept entries (or blocks) of a matrix with
    /// <paramref name="rows"/> (block) rows and <paramref name="columns"/> (block) columns: a 16-bit column index when
    /// the columns fit, else 32-bit, and 32-bit row pointers.
    /// </summary>
    public static long CsrIndexBytes(long entries, int rows, int columns) =>
        entries * (columns <= ushort.MaxValue + 1 ? 2 : 4) + (rows + 1L) * sizeof(int);
}
