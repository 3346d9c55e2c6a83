namespace Dopant.Models;

/// <summary>
/// Stored weights and bytes of a language model against its all-dense equivalent, for the LSTM layers alone (what the
/// compression factors of Thakker et al. refer to) and for the whole model. Weights are the forms'
/// <c>ParameterCount</c> (a pruned matrix counts its kept entries) plus biases; bytes are the forms'
/// <c>StorageBytes</c> (a pruned matrix in CSR, with its indices) plus biases at the model's precision. A tied decoder
/// weight is the embedding and counts once. Made by <see cref="LanguageModel{T}.CompressionReport"/>.
/// </summary>
/// <param name="DenseLstmParameters">Σ over layers of 4H·(I + H) + 2·4H: the LSTM layers with dense matrices.</param>
/// <param name="LstmParameters">Σ over layers of W_ih and W_hh's stored weights + 2·4H.</param>
/// <param name="DenseLstmBytes">DenseLstmParameters at the model's precision.</param>
/// <param name="LstmBytes">Σ over layers of W_ih and W_hh's storage bytes + the biases' bytes.</param>
/// <param name="DenseModelParameters">DenseLstmParameters + embedding V·E + decoder V·H (unless tied) + decoder bias V.</param>
/// <param name="ModelParameters">LstmParameters + the embedding's and the decoder's (unless tied) stored weights + decoder bias.</param>
/// <param name="DenseModelBytes">DenseModelParameters at the model's precision.</param>
/// <param name="ModelBytes">LstmBytes + the embedding, decoder and decoder bias bytes.</param>
public sealed record CompressionReport(
    long DenseLstmParameters, long LstmParameters, long DenseLstmBytes, long LstmBytes,
    long DenseModelParameters, long ModelParameters, long DenseModelBytes, long ModelBytes)
{
    /// <summary>Whether any weight matrix is stored in another form than dense (its weights or bytes differ from dense).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool IsCompressed => LstmParameters != DenseLstmParameters || LstmBytes != DenseLstmBytes
        || ModelParameters != DenseModelParameters || ModelBytes != DenseModelBytes;

    /// <summary>DenseLstmParameters / LstmParameters.</summary>
    public double LstmParameterFactor => (double)DenseLstmParameters / LstmParameters;

    /// <summary>DenseLstmBytes / LstmBytes.</summary>
    public double LstmByteFactor => (double)DenseLstmBytes / LstmBytes;

    /// <summary>DenseModelParameters / ModelParameters.</summary>
    public double ModelParameterFactor => (double)DenseModelParameters / ModelParameters;

    /// <summary>DenseModelBytes / ModelBytes.</summary>
    public double ModelByteFactor => (double)DenseModelBytes / ModelBytes;
}
