using System.Collections.ObjectModel;
using System.Diagnostics.CodeAnalysis;

namespace Dopant.IO;

/// <summary>
/// The contents of a safetensors file: named tensors and string metadata. Reads strictly (any defect in a file is
/// an <see cref="InvalidDataException"/> naming the file and the problem) and writes the layout PyTorch's writer
/// produces. Immutable.
/// </summary>
/// <remarks>
/// The format (huggingface/safetensors): an 8-byte little-endian header length N, N bytes of UTF-8 JSON
/// <c>{name: {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {string: string}}</c>
/// padded with spaces, then the data buffer; offsets are relative to its start and the tensors must cover it
/// exactly, without gaps or overlaps.
/// </remarks>
/// <example>
/// <code>
/// var file = new SafeTensorsFile([SafeTensor.Create("w", weights, rows, cols)], new Dictionary&lt;string, string&gt; { ["step"] = "100" });
/// file.Save("model.safetensors");
/// float[] w = SafeTensorsFile.Load("model.safetensors").RequireSingles("w", rows, cols);
/// </code>
/// </example>
public sealed class SafeTensorsFile
{
    private readonly Dictionary<string, SafeTensor> _byName;

    /// <summary>Collects tensors and metadata to write.</summary>
    /// <param name="tensors">The tensors; names must be unique.</param>
    /// <param name="metadata">String metadata (store structured values as JSON text); null for none.</param>
    /// <exception cref="ArgumentNullException">A tensor, or a metadata key or value, is null.</exception>
    /// <exception cref="ArgumentException">Two tensors share a name, or a metadata string has an unpaired surrogate.</exception>
    public SafeTensorsFile(IEnumerable<SafeTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var list = new List<SafeTensor>();
        var byName = new Dictionary<string, SafeTensor>(StringComparer.Ordinal);
        foreach (SafeTensor tensor in tensors)
        {
            ArgumentNullException.ThrowIfNull(tensor, nameof(tensors));
            if (!byName.TryAdd(tensor.Name, tensor))
                throw new ArgumentException($"Two tensors are named {DiagnosticText.Quote(tensor.Name)}.", nameof(tensors));
            list.Add(tensor);
        }
        var copy = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach ((string key, string value) in metadata ?? ReadOnlyDictionary<string, string>.Empty)
        {
            ArgumentNullException.ThrowIfNull(key, nameof(metadata));
            ArgumentNullException.ThrowIfNull(value, nameof(metadata));
            if (!SafeTensorsHeader.IsWellFormed(key) || !SafeTensorsHeader.IsWellFormed(value))
                throw new ArgumentException(
                    $"Metadata entry {DiagnosticText.Quote(key)} contains an unpaired surrogate, which JSON cannot carry.", nameof(metadata));
            copy.Add(key, value);
        }
        Tensors = list.AsReadOnly();
        Metadata = copy.AsReadOnly();
        _byName = byName;
    }

    /// <summary>Wraps tensors and metadata the reader has already validated.</summary>
    internal SafeTensorsFile(List<SafeTensor> tensors, Dictionary<string, string> metadata, string? source)
    {
        Tensors = tensors.AsReadOnly();
        Metadata = metadata.AsReadOnly();
        Source = source;
        _byName = tensors.ToDictionary(tensor => tensor.Name, StringComparer.Ordinal);
    }

    /// <summary>
    /// The tensors: in the order given to the constructor, or for a file that was read, in the order of their data.
    /// </summary>
    public IReadOnlyList<SafeTensor> Tensors { get; }

    /// <summary>The header's <c>__metadata__</c> entries; empty when there are none.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>The path or name the file was read from, used in error messages; null for a file built in memory.</summary>
    public string? Source { get; }

    /// <summary>Finds a tensor by name.</summary>
    /// <param name="name">The tensor's name.</param>
    /// <param name="tensor">The tensor, or null when there is none of that name.</param>
    /// <returns>Whether the tensor exists.</returns>
    public bool TryGetTensor(string name, [NotNullWhen(true)] out SafeTensor? tensor)
    {
        ArgumentNullException.ThrowIfNull(name);
        return _byName.TryGetValue(name, out tensor);
    }

    /// <summary>
    /// Returns the tensor called <paramref name="name"/>, checking that it has the expected dtype and shape, as a
    /// model does when it loads its parameters.
    /// </summary>
    /// <param name="name">The tensor's name.</param>
    /// <param name="dtype">The dtype the tensor must have.</param>
    /// <param name="shape">The shape the tensor must have; empty for a scalar.</param>
    /// <exception cref="InvalidDataException">The tensor is missing or has another dtype or shape; the message names both.</exception>
    public SafeTensor Require(string name, SafeTensorsDType dtype, params ReadOnlySpan<long> shape)
    {
        SafeTensor tensor = RequireShape(name, shape);
        if (tensor.DType != dtype)
            throw new InvalidDataException(
                $"Tensor {DiagnosticText.Quote(name)} in the {Origin} is {tensor.DType.ToHeaderName()}; expected {dtype.ToHeaderName()}.");
        return tensor;
    }

    /// <summary>
    /// Returns the elements of the floating-point tensor called <paramref name="name"/> as <see cref="float"/>,
    /// checking its shape; F16 and BF16 are widened exactly.
    /// </summary>
    /// <param name="name">The tensor's name.</param>
    /// <param name="shape">The shape the tensor must have; empty for a scalar.</param>
    /// <exception cref="InvalidDataException">The tensor is missing, has another shape, or is not F32, F16 or BF16.</exception>
    public float[] RequireSingles(string name, params ReadOnlySpan<long> shape)
    {
        SafeTensor tensor = RequireShape(name, shape);
        if (tensor.DType is not (SafeTensorsDType.Float32 or SafeTensorsDType.Float16 or SafeTensorsDType.BFloat16))
            throw new InvalidDataException(
                $"Tensor {DiagnosticText.Quote(name)} in the {Origin} is {tensor.DType.ToHeaderName()}; expected F32, F16 or BF16.");
        return tensor.ToSingleArray();
    }

    /// <summary>Reads and validates a safetensors file.</summary>
    /// <param name="path">The file's path.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not valid safetensors; the message names the file and the defect.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static SafeTensorsFile Load(string path) => SafeTensorsReader.Load(path);

    /// <summary>Reads and validates safetensors data from the current position to the end of <paramref name="stream"/>.</summary>
    /// <param name="stream">The stream; read to its end.</param>
    /// <param name="sourceName">A name for error messages; defaults to the path of a <see cref="FileStream"/>.</param>
    /// <exception cref="InvalidDataException">The data is not valid safetensors; the message names the source and the defect.</exception>
    /// <exception cref="IOException">The stream cannot be read.</exception>
    public static SafeTensorsFile Read(Stream stream, string? sourceName = null) => SafeTensorsReader.Read(stream, sourceName);

    /// <summary>
    /// Writes the file to <paramref name="path"/> atomically (see <see cref="AtomicFile"/>): readers see either the
    /// old file or the complete new one.
    /// </summary>
    /// <param name="path">The destination; its directory must exist.</param>
    /// <exception cref="IOException">The file cannot be written; any previous file at <paramref name="path"/> is left as it was.</exception>
    public void Save(string path) => AtomicFile.Write(path, Write);

    /// <summary>
    /// Writes the file to <paramref name="stream"/>: tensors ordered by decreasing element size, then in
    /// <see cref="Tensors"/> order, so every tensor is aligned to its element size; metadata keys sorted ordinally;
    /// the header padded with spaces to a multiple of 8 bytes.
    /// </summary>
    /// <param name="stream">A writable stream.</param>
    public void Write(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        SafeTensorsWriter.Write(this, stream);
    }

    private string Origin => Source is null ? "safetensors file" : $"safetensors file '{Source}'";

    /// <summary>The tensor called <paramref name="name"/>, checked to have <paramref name="shape"/>, whatever its dtype.</summary>
    /// <exception cref="InvalidDataException">The tensor is missing or has another shape; the message names both.</exception>
    internal SafeTensor RequireShape(string name, ReadOnlySpan<long> shape)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!_byName.TryGetValue(name, out SafeTensor? tensor))
            throw new InvalidDataException($"The {Origin} has no tensor {DiagnosticText.Quote(name)}.");
        if (!tensor.Shape.AsSpan().SequenceEqual(shape))
            throw new InvalidDataException(
                $"Tensor {DiagnosticText.Quote(name)} in the {Origin} has shape {SafeTensor.FormatShape(tensor.Shape.AsSpan())}; " +
                $"expected {SafeTensor.FormatShape(shape)}.");
        return tensor;
    }
}
