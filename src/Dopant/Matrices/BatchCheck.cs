namespace Dopant.Matrices;

/// <summary>Argument checks shared by the weight-matrix forms for a batch of row-major samples.</summary>
internal static class BatchCheck
{
    /// <summary>
    /// Throws unless <paramref name="count"/> ≥ 0 and the input and output spans hold count rows of their widths.
    /// </summary>
    public static void Rows(int inputLength, int inputWidth, int outputLength, int outputWidth, int count,
        string inputName, string outputName)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (inputLength < (long)count * inputWidth)
            throw new ArgumentException($"Expected at least {(long)count * inputWidth} values ({count}×{inputWidth}), got {inputLength}.", inputName);
        if (outputLength < (long)count * outputWidth)
            throw new ArgumentException($"Expected at least {(long)count * outputWidth} values ({count}×{outputWidth}), got {outputLength}.", outputName);
    }
}
