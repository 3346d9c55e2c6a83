using System.Collections.Immutable;

namespace Dopant.Models;

/// <summary>
/// Infers a language model's architecture from a PyTorch state dict's tensor names and shapes, as PyTorch's
/// examples/word_language_model <c>RNNModel</c> names them: <c>encoder.weight</c> [V, E], <c>rnn.weight_ih_l{k}</c>
/// [G·H_k, I], <c>rnn.weight_hh_l{k}</c> [G·H_k, H_k] (G = 4 for an LSTM, 3 for a GRU; H_k may differ between layers), <c>decoder.weight</c> [V, H]
/// (absent when tied to the embedding) and <c>decoder.bias</c> [V].
/// </summary>
public static class ModelArchitecture
{
    /// <summary>
    /// The architecture the tensors describe (dropout 0: a state dict does not record it). The shapes of the other
    /// tensors are checked when the weights are loaded.
    /// </summary>
    /// <param name="shapes">Every tensor's shape by name.</param>
    /// <exception cref="ArgumentException">A tensor that names the cell, a width or the layer count is missing or of an unexpected shape; the message names it.</exception>
    public static LanguageModelConfig Infer(IReadOnlyDictionary<string, ImmutableArray<long>> shapes)
    {
        ArgumentNullException.ThrowIfNull(shapes);

        if (shapes.Keys.FirstOrDefault(name => name.StartsWith("rnn.", StringComparison.Ordinal) && name.EndsWith("_reverse", StringComparison.Ordinal)) is { } reverse)
            throw new ArgumentException($"Tensor '{reverse}' belongs to a bidirectional layer; Dopant loads unidirectional language models only.");
        ImmutableArray<long> encoder = Matrix(shapes, "encoder.weight");
        (RecurrentCell cell, long hidden, int layers, LayerSizes sizes) = Recurrent(shapes);
        ImmutableArray<long> input = Matrix(shapes, "rnn.weight_ih_l0");
        if (input[1] != encoder[1])
            throw new ArgumentException($"Tensor 'rnn.weight_ih_l0' has {input[1]} columns but 'encoder.weight' is {encoder[1]} wide.");
        bool tied = !shapes.ContainsKey("decoder.weight");
        if (!tied)
        {
            ImmutableArray<long> decoder = Matrix(shapes, "decoder.weight");
            if (decoder[0] != encoder[0] || decoder[1] != hidden)
                throw new ArgumentException(
                    $"Tensor 'decoder.weight' has shape [{decoder[0]}, {decoder[1]}]; expected [{encoder[0]}, {hidden}] (vocabulary × hidden size).");
        }
        else if (encoder[1] != hidden)
            throw new ArgumentException(
                $"The state dict has no 'decoder.weight' (a decoder tied to the embedding), but 'encoder.weight' is {encoder[1]} wide and the hidden size {hidden}.");
        var config = new LanguageModelConfig((int)encoder[0], (int)hidden, layers, 0, tied) { Cell = cell, EmbeddingSize = (int)encoder[1], LayerSizes = sizes };
        config.Validate();
        return config;
    }

    /// <summary>
    /// The architecture of a tagger or classifier state dict (<c>encoder.weight</c> [V, E], <c>rnn.*</c> with
    /// <c>_reverse</c> tensors for a bidirectional stack, <c>decoder.weight</c> [C, D]); the head and pooling are not in
    /// the tensors and are given.
    /// </summary>
    /// <exception cref="ArgumentException">A tensor is missing or its shape does not fit the others; the message names it.</exception>
    public static SentenceModelConfig InferSentenceModel(IReadOnlyDictionary<string, ImmutableArray<long>> shapes, LabelHead head, SentencePooling pooling)
    {
        ArgumentNullException.ThrowIfNull(shapes);
        ImmutableArray<long> encoder = Matrix(shapes, "encoder.weight"), decoder = Matrix(shapes, "decoder.weight");
        (RecurrentCell cell, long hidden, int layers, LayerSizes sizes) = Recurrent(shapes);
        bool bidirectional = shapes.ContainsKey("rnn.weight_hh_l0_reverse");
        long output = bidirectional ? 2 * hidden : hidden;
        if (decoder[1] != output)
            throw new ArgumentException($"Tensor 'decoder.weight' has {decoder[1]} columns; the {(bidirectional ? "bidirectional " : "")}recurrent stack gives {output}.");
        var config = new SentenceModelConfig((int)encoder[0], (int)encoder[1], (int)hidden, layers, (int)decoder[0], head)
        {
            Cell = cell, Bidirectional = bidirectional, Pooling = pooling, LayerSizes = sizes,
        };
        config.Validate();
        return config;
    }

    // The cell from the rows of rnn.weight_hh_l0 (4H or 3H), each layer's H from the columns of its rnn.weight_hh_l{k},
    // the layers from the rnn.weight_ih_l{k} present; Hidden is the top layer's.
    private static (RecurrentCell Cell, long Hidden, int Layers, LayerSizes Sizes) Recurrent(IReadOnlyDictionary<string, ImmutableArray<long>> shapes)
    {
        ImmutableArray<long> recurrent = Matrix(shapes, "rnn.weight_hh_l0");
        long hidden = recurrent[1], rows = recurrent[0];
        RecurrentCell cell = rows == 4 * hidden ? RecurrentCell.Lstm
            : rows == 3 * hidden ? RecurrentCell.Gru
            : throw new ArgumentException(
                $"Tensor 'rnn.weight_hh_l0' has shape [{rows}, {hidden}]: {rows} rows are neither 4H (an LSTM) nor 3H (a GRU) for H = {hidden}.");
        int layers = 0;
        while (shapes.ContainsKey($"rnn.weight_ih_l{layers}")) layers++;
        if (layers == 0) throw new ArgumentException("The state dict has no tensor 'rnn.weight_ih_l0'.");
        var sizes = new int[layers];
        for (int l = 0; l < layers; l++)
        {
            ImmutableArray<long> layer = Matrix(shapes, $"rnn.weight_hh_l{l}");
            if (layer[0] != cell.GateCount() * layer[1])
                throw new ArgumentException(
                    $"Tensor 'rnn.weight_hh_l{l}' has shape [{layer[0]}, {layer[1]}]; a {cell.Name().ToUpperInvariant()} layer of {layer[1]} units has {cell.GateCount() * layer[1]} rows.");
            sizes[l] = (int)layer[1];
        }
        return (cell, sizes[^1], layers, new LayerSizes(sizes));
    }

    private static ImmutableArray<long> Matrix(IReadOnlyDictionary<string, ImmutableArray<long>> shapes, string name) =>
        !shapes.TryGetValue(name, out ImmutableArray<long> shape) ? throw new ArgumentException($"The state dict has no tensor '{name}'.")
        : shape.Length != 2 || shape[0] < 1 || shape[1] < 1 || shape[0] > int.MaxValue || shape[1] > int.MaxValue
            ? throw new ArgumentException($"Tensor '{name}' has shape [{string.Join(", ", shape)}]; expected a matrix.")
        : shape;
}
