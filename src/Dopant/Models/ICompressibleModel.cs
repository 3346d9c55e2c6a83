using System.Numerics;
using Dopant.Matrices;
using Dopant.Numerics;

namespace Dopant.Models;

/// <summary>
/// A model seen as what compression, annealing and checkpoints need: its named weight matrices (PyTorch's state-dict
/// names, each in some form), its parameters in state-dict order, a way to give a matrix another form, and the random
/// stream its training draws from. Language models, taggers and classifiers are all one.
/// </summary>
public interface ICompressibleModel<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Every weight matrix by state-dict name, in state-dict order (a tied matrix once).</summary>
    IReadOnlyList<(string Name, IWeightMatrix<T> Matrix)> WeightMatrices { get; }

    /// <summary>Every distinct trainable tensor in state-dict order.</summary>
    IReadOnlyList<Parameter<T>> Parameters { get; }

    /// <summary>The generator that draws dropout masks (co-matrix dropout draws from it too).</summary>
    Xoshiro256 Random { get; set; }

    /// <summary>Replaces the weight matrix <paramref name="name"/> by <paramref name="form"/> of the same shape.</summary>
    /// <exception cref="ArgumentException">The model has no such matrix, or the form has another shape.</exception>
    void ReplaceMatrix(string name, IWeightMatrix<T> form);
}

/// <summary>Operations every <see cref="ICompressibleModel{T}"/> shares.</summary>
public static class CompressibleModels
{
    /// <summary>
    /// Replaces weight matrices by other forms built from their current values (<see cref="WeightForms.FromDense{T}"/>
    /// of <see cref="IWeightMatrix{T}.ToDense"/>): <paramref name="chooser"/> is asked for every matrix by name, in
    /// state-dict order, and returns the new form or null to keep the matrix.
    /// </summary>
    /// <returns>The number of matrices replaced.</returns>
    /// <exception cref="ArgumentException">A form does not fit its matrix; the model is then left unchanged.</exception>
    public static int Compress<T>(this ICompressibleModel<T> model, Func<string, WeightFormSpec?> chooser) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(chooser);
        // Convert everything before replacing anything, so that a failure leaves the model as it was.
        var converted = new List<(string Name, IWeightMatrix<T> Form)>();
        foreach ((string name, IWeightMatrix<T> matrix) in model.WeightMatrices)
            if (chooser(name) is { } spec)
                converted.Add((name, WeightForms.FromDense<T>(spec, name, matrix.ToDense(), matrix.Rows, matrix.Columns)));
        foreach ((string name, IWeightMatrix<T> form) in converted) model.ReplaceMatrix(name, form);
        return converted.Count;
    }

    /// <summary>Fills every parameter with uniform values in [−range, range] (Zaremba et al.), in state-dict order.</summary>
    public static void InitializeUniform<T>(this ICompressibleModel<T> model, double range, Xoshiro256 random) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(random);
        foreach (Parameter<T> p in model.Parameters)
            for (int k = 0; k < p.Value.Length; k++)
                p.Value[k] = T.CreateChecked((2 * random.NextDouble() - 1) * range);
    }

    /// <summary>Clears every gradient.</summary>
    public static void ZeroGradients<T>(this ICompressibleModel<T> model) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(model);
        foreach (Parameter<T> p in model.Parameters) p.ZeroGradient();
    }

    /// <summary>Every pruned part of the model's matrices (pruned forms, doped matrices' S), in state-dict order.</summary>
    public static IEnumerable<PrunedMatrix<T>> PrunedParts<T>(this ICompressibleModel<T> model) where T : unmanaged, IFloatingPointIeee754<T> =>
        model.WeightMatrices.SelectMany(m => WeightForms.PrunedParts(m.Matrix));

    /// <summary>Whether some weight matrix is stored in another form than dense.</summary>
    public static bool IsCompressed<T>(this ICompressibleModel<T> model) where T : unmanaged, IFloatingPointIeee754<T> =>
        model.WeightMatrices.Any(m => m.Matrix is not DenseMatrix<T>);
}
