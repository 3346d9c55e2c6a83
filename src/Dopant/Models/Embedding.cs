using System.Numerics;
using Dopant.Matrices;

namespace Dopant.Models;

/// <summary>
/// A lookup table of word vectors, <c>encoder.weight</c> [V, E], held as a weight matrix in any form: a token's vector
/// is its row, read without forming the dense table (<see cref="IWeightMatrix{T}.GatherRows"/>).
/// </summary>
public sealed class Embedding<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Creates a zero dense table of <paramref name="vocabularySize"/> rows of width <paramref name="dimension"/>.</summary>
    public Embedding(int vocabularySize, int dimension, string name = "encoder.weight")
        : this(new DenseMatrix<T>(name, vocabularySize, dimension))
    {
    }

    /// <summary>Creates an embedding over a table in any form (V rows of width E).</summary>
    public Embedding(IWeightMatrix<T> table)
    {
        ArgumentNullException.ThrowIfNull(table);
        Table = table;
    }

    /// <summary>The table, [V, E], in its form.</summary>
    public IWeightMatrix<T> Table { get; private set; }

    /// <summary>The dense table's parameter, [V, E].</summary>
    /// <exception cref="InvalidOperationException">The table is in a compressed form (read it through <see cref="Table"/>).</exception>
    public Parameter<T> Weight => Table is DenseMatrix<T> dense ? dense.Weight
        : throw new InvalidOperationException($"The embedding is stored as {WeightForms.Describe(Table).Kind}, not as a dense table.");

    /// <summary>Vocabulary size V.</summary>
    public int VocabularySize => Table.Rows;

    /// <summary>Vector width E.</summary>
    public int Dimension => Table.Columns;

    /// <summary>Replaces the table by another form of the same shape.</summary>
    public void Replace(IWeightMatrix<T> table)
    {
        ArgumentNullException.ThrowIfNull(table);
        if (table.Rows != Table.Rows || table.Columns != Table.Columns)
            throw new ArgumentException($"The new table is {table.Rows} × {table.Columns}; the embedding is {Table.Rows} × {Table.Columns}.", nameof(table));
        Table = table;
    }

    /// <summary>output[r] = W[tokens[r]] for every token; output is [tokens.Length, E].</summary>
    public void Forward(ReadOnlySpan<int> tokens, Span<T> output)
    {
        CheckTokens(tokens);
        Table.GatherRows(tokens, output);
    }

    /// <summary>∂L/∂W[tokens[r]] += dOutput[r] (through the form's parameters).</summary>
    public void Backward(ReadOnlySpan<int> tokens, ReadOnlySpan<T> dOutput)
    {
        CheckTokens(tokens);
        Table.AccumulateRowGradients(tokens, dOutput);
    }

    private void CheckTokens(ReadOnlySpan<int> tokens)
    {
        foreach (int token in tokens)
            if ((uint)token >= (uint)VocabularySize)
                throw new ArgumentOutOfRangeException(nameof(tokens), $"Token id {token} is outside the vocabulary of {VocabularySize} words.");
    }
}
