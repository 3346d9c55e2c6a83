using Dopant.Matrices;
using Dopant.Models;

namespace Dopant.Compression;

/// <summary>An <see cref="LstmCompression"/> applied to a model: the selected matrices take the method's forms, initialized from their values.</summary>
public static class MethodCompression
{
    /// <summary>
    /// Replaces every recurrent matrix of <paramref name="model"/> (or those <see cref="LstmCompression.Matrices"/> selects, or, when
    /// <see cref="LstmCompression.Concatenated"/>, every layer's [W_ih | W_hh]) by its form under this method, initialized from the
    /// current dense values (nearest Kronecker product, truncated SVD; S = W − M), and returns the accounting.
    /// </summary>
    /// <exception cref="ArgumentException"><see cref="LstmCompression.Matrices"/> selects none of the model's matrices, or a form does not fit.</exception>
    public static CompressionReport Apply(this LstmCompression compression, LanguageModel<float> model)
    {
        ArgumentNullException.ThrowIfNull(compression);
        ArgumentNullException.ThrowIfNull(model);
        compression.Validate();
        if (!compression.Concatenated)
        {
            compression.ApplyForms(model);
            return model.CompressionReport();
        }
        if (model.Config.Cell != RecurrentCell.Lstm)
            throw new ArgumentException($"--concatenate needs LSTM layers; a {model.Config.Cell.Name().ToUpperInvariant()} multiplies W_hn·h by its reset gate, so W_ih and W_hh stay apart.");
        var layers = model.Layers.ToDictionary(l => l.CombinedWeightsName);
        model.CombineLstm(name => compression.SpecFor(name, 4 * layers[name].HiddenSize, layers[name].InputSize + layers[name].HiddenSize));
        return model.CompressionReport();
    }

    /// <summary>
    /// Gives every matrix of any model that this method selects (<see cref="LstmCompression.Matrices"/>, default the recurrent ones)
    /// its form, initialized from the current values, and returns how many it replaced.
    /// </summary>
    /// <exception cref="ArgumentException">The selection is empty, a form does not fit, or <see cref="LstmCompression.Concatenated"/> is asked of a model that is not a language model.</exception>
    public static int ApplyForms(this LstmCompression compression, ICompressibleModel<float> model)
    {
        ArgumentNullException.ThrowIfNull(compression);
        ArgumentNullException.ThrowIfNull(model);
        compression.Validate();
        if (compression.Concatenated) throw new ArgumentException("--concatenate combines the layers of a language model; compress the matrices one by one here.");
        var sizes = model.WeightMatrices.ToDictionary(m => m.Name, m => (m.Matrix.Rows, m.Matrix.Columns));
        NamePattern? selector = compression.Matrices is null ? null : NamePattern.Parse(compression.Matrices);
        bool Selected(string name) => selector?.IsMatch(name) ?? LanguageModel<float>.IsRecurrent(name);
        CheckMatrixFactorsSelect(compression, sizes.Keys.Where(Selected));
        int compressed = model.Compress(name => Selected(name) ? compression.SpecFor(name, sizes[name].Rows, sizes[name].Columns) : null);
        if (compressed == 0)
            throw new ArgumentException($"--matrices '{compression.Matrices}' selects none of the model's weight matrices ({string.Join(", ", sizes.Keys)}).");
        return compressed;
    }

    /// <summary>
    /// Checks that the factor leaves at least one stored weight of every matrix this method would compress in
    /// <paramref name="model"/>, before anything is built or trained.
    /// </summary>
    /// <exception cref="ArgumentException">The factor is above some selected matrix's size; the message names the matrix.</exception>
    public static void CheckFactorFits(this LstmCompression compression, ICompressibleModel<float> model)
    {
        ArgumentNullException.ThrowIfNull(compression);
        ArgumentNullException.ThrowIfNull(model);
        NamePattern? selector = compression.Matrices is null ? null : NamePattern.Parse(compression.Matrices);
        IEnumerable<(string Name, long Rows, long Columns)> sizes = compression.Concatenated && model is LanguageModel<float> language
            ? language.Layers.Select(l => (l.CombinedWeightsName, (long)language.Config.GateCount * l.HiddenSize, (long)(l.InputSize + l.HiddenSize)))
            : model.WeightMatrices.Where(m => selector?.IsMatch(m.Name) ?? LanguageModel<float>.IsRecurrent(m.Name))
                .Select(m => (m.Name, (long)m.Matrix.Rows, (long)m.Matrix.Columns));
        var selected = sizes.ToList();
        CheckMatrixFactorsSelect(compression, selected.Select(s => s.Name));
        foreach ((string name, long rows, long columns) in selected)
            if (rows * columns / compression.FactorFor(name) < 1)
                throw new ArgumentException(
                    $"{(compression.FactorFor(name) == compression.Factor ? "--factor" : "--matrix-factor")} {compression.FactorFor(name):G} leaves less than one stored weight of '{name}' " +
                    $"({rows} × {columns} = {rows * columns:N0} weights); the factor can be at most {rows * columns:N0}.");
    }

    // A factor or method for matrices that are not compressed is a mistake in the command (a misspelt name, or a matrix left out
    // of --matrices): said, rather than silently compressing everything at --factor by --method.
    private static void CheckMatrixFactorsSelect(LstmCompression compression, IEnumerable<string> compressed)
    {
        List<string> names = [.. compressed];
        foreach (MatrixFactor matrixFactor in compression.MatrixFactors ?? [])
            if (!names.Any(matrixFactor.Selects))
                throw new ArgumentException(
                    $"--matrix-factor {DiagnosticText.Quote(matrixFactor.ToString())} selects none of the compressed matrices ({string.Join(", ", names)}); widen --matrices to compress it.");
        foreach (MatrixMethod matrixMethod in compression.MatrixMethods ?? [])
            if (!names.Any(matrixMethod.Selects))
                throw new ArgumentException(
                    $"--matrix-method {DiagnosticText.Quote(matrixMethod.ToString())} selects none of the compressed matrices ({string.Join(", ", names)}); widen --matrices to compress it.");
    }

    /// <summary>
    /// <see cref="Apply(LstmCompression, LanguageModel{float})"/>, then every pruned part (the doping matrices S, or the pruned matrices) pruned by magnitude
    /// straight to its matrix's <see cref="LstmCompression.FinalSparsityFor"/> in one shot, without training: the final shapes and nonzero counts of
    /// a finished run, for timing or sizing a method before training it.
    /// </summary>
    public static CompressionReport ApplyFinal(this LstmCompression compression, LanguageModel<float> model)
    {
        compression.Apply(model);
        foreach ((string name, IWeightMatrix<float> matrix) in model.WeightMatrices)
            foreach (PrunedMatrix<float> part in WeightForms.PrunedParts(matrix))
                part.PruneToSparsity(compression.FinalSparsityFor(name));
        return model.CompressionReport();
    }
}
