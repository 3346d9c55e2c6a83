namespace Dopant.Compression;

/// <summary>
/// A dense weight matrix that compression operators read and project in place: its state-dict name, its kind, its
/// shape and its row-major values (a view of the model's own parameter, so that projecting it changes the model).
/// </summary>
public sealed class CompressibleWeight
{
    /// <summary>Wraps <paramref name="values"/> (not copied) as a <paramref name="rows"/> × <paramref name="columns"/> matrix.</summary>
    /// <param name="name">The state-dict name.</param>
    /// <param name="kind">What the matrix is.</param>
    /// <param name="rows">Rows.</param>
    /// <param name="columns">Columns.</param>
    /// <param name="values">rows × columns values, row-major.</param>
    /// <param name="gradient">
    /// The gradient accumulated for these values during training (the parameter's own array), for the learning step of
    /// <see cref="LearningCompressionOptimizer"/>; null when the weight is not trained.
    /// </param>
    public CompressibleWeight(string name, WeightKind kind, int rows, int columns, float[] values, float[]? gradient = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(values);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(columns);
        if (values.Length != (long)rows * columns)
            throw new ArgumentException($"'{name}': {values.Length} values do not make a {rows}×{columns} matrix.", nameof(values));
        Name = name;
        Kind = kind;
        Rows = rows;
        Columns = columns;
        if (gradient is not null && gradient.Length != values.Length)
            throw new ArgumentException($"'{name}': the gradient has {gradient.Length} values, not {values.Length}.", nameof(gradient));
        Values = values;
        Gradient = gradient;
    }

    /// <summary>The PyTorch-style state-dict name, such as <c>rnn.weight_hh_l0</c>.</summary>
    public string Name { get; }

    /// <summary>What the matrix is.</summary>
    public WeightKind Kind { get; }

    /// <summary>Rows (outputs).</summary>
    public int Rows { get; }

    /// <summary>Columns (inputs).</summary>
    public int Columns { get; }

    /// <summary>The row-major values.</summary>
    public float[] Values { get; }

    /// <summary>The training gradient of <see cref="Values"/>, or null.</summary>
    public float[]? Gradient { get; }

    /// <summary>A copy with its own values, for keeping a state aside.</summary>
    public CompressibleWeight Clone() => new(Name, Kind, Rows, Columns, (float[])Values.Clone());

    /// <inheritdoc/>
    public override string ToString() => $"{Name} [{Rows}, {Columns}]";
}
