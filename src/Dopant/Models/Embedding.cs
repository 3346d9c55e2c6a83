using System.Numerics;
using System.Numerics.Tensors;
using Dopant.Matrices;

namespace Dopant.Models;

/// <summary>A lookup table of word vectors, <c>encoder.weight</c> [V, E].</summary>
public sealed class Embedding<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Creates a zero table of <paramref name="vocabularySize"/> rows of width <paramref name="dimension"/>.</summary>
    public Embedding(int vocabularySize, int dimension, string name = "encoder.weight")
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(vocabularySize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        Weight = new Parameter<T>(name, vocabularySize, dimension);
    }

    /// <summary>The table, [V, E].</summary>
    public Parameter<T> Weight { get; }

    /// <summary>Vocabulary size V.</summary>
    public int VocabularySize => Weight.Shape[0];

    /// <summary>Vector width E.</summary>
    public int Dimension => Weight.Shape[1];

    /// <summary>output[r] = W[tokens[r]] for every token; output is [tokens.Length, E].</summary>
    public void Forward(ReadOnlySpan<int> tokens, Span<T> output)
    {
        int e = Dimension;
        for (int r = 0; r < tokens.Length; r++)
            Weight.Value.AsSpan(CheckedRow(tokens[r]) * e, e).CopyTo(output.Slice(r * e, e));
    }

    /// <summary>∂L/∂W[tokens[r]] += dOutput[r].</summary>
    public void Backward(ReadOnlySpan<int> tokens, ReadOnlySpan<T> dOutput)
    {
        int e = Dimension;
        for (int r = 0; r < tokens.Length; r++)
        {
            Span<T> row = Weight.Gradient.AsSpan(CheckedRow(tokens[r]) * e, e);
            TensorPrimitives.Add(row, dOutput.Slice(r * e, e), row);
        }
    }

    private int CheckedRow(int token) =>
        (uint)token < (uint)VocabularySize ? token
        : throw new ArgumentOutOfRangeException(nameof(token), $"Token id {token} is outside the vocabulary of {VocabularySize} words.");
}
