namespace Dopant.Matrices;

/// <summary>How the streaming runtime stores the dense weight matrices of a model (LSTM and decoder).</summary>
public enum WeightPrecision
{
    /// <summary>32-bit floats, as trained: the outputs equal the training forward up to float rounding.</summary>
    Float32,

    /// <summary>
    /// 16-bit floats scaled per row (each row divided by its largest magnitude): half the bytes; relative error of a
    /// weight at most 2⁻¹¹ of its row's largest.
    /// </summary>
    Float16,

    /// <summary>
    /// 8-bit integers with one float scale per row (symmetric, the row's largest magnitude maps to 127): a quarter of
    /// the bytes; error of a weight at most half a step, 1/254 of its row's largest magnitude.
    /// </summary>
    Int8,
}
