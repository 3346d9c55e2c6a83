using Dopant.Matrices;
using Dopant.Numerics;

namespace Dopant.Compression;

/// <summary>
/// Quantization with one scale per row (the runtime's <see cref="WeightPrecision"/> format): int8 maps each row's
/// largest magnitude to 127; fp16 stores the row divided by its largest magnitude. Zeros stay zero, so it composes
/// after pruning.
/// </summary>
public sealed class Quantize : ICompressionOperator
{
    /// <summary>Creates the operator for <see cref="WeightPrecision.Float16"/> or <see cref="WeightPrecision.Int8"/>.</summary>
    public Quantize(WeightPrecision precision)
    {
        if (precision is not (WeightPrecision.Float16 or WeightPrecision.Int8))
            throw new ArgumentOutOfRangeException(nameof(precision), $"quantize: the precision must be fp16 or int8 (got {precision}).");
        Precision = precision;
    }

    /// <summary>The stored precision.</summary>
    public WeightPrecision Precision { get; }

    /// <inheritdoc/>
    public string Description => $"quantize({(Precision == WeightPrecision.Int8 ? "int8" : "fp16")})";

    /// <inheritdoc/>
    public void Project(IReadOnlyList<CompressibleWeight> weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        foreach (CompressibleWeight w in weights)
        {
            var scales = new float[w.Rows];
            if (Precision == WeightPrecision.Int8)
            {
                var values = new sbyte[w.Values.Length];
                RowQuantization.ToInt8(w.Values, w.Rows, w.Columns, values, scales);
                RowQuantization.Dequantize<sbyte>(values, scales, w.Columns, w.Values);
            }
            else
            {
                var values = new Half[w.Values.Length];
                RowQuantization.ToFloat16(w.Values, w.Rows, w.Columns, values, scales);
                RowQuantization.Dequantize<Half>(values, scales, w.Columns, w.Values);
            }
        }
    }

    /// <inheritdoc/>
    public StorageEstimate Account(CompressibleWeight weight, StorageEstimate before)
    {
        ArgumentNullException.ThrowIfNull(weight);
        return before with { BytesPerValue = Precision == WeightPrecision.Int8 ? 1 : 2, ScaleBytes = weight.Rows * sizeof(float) };
    }
}
