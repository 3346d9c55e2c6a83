using System.Runtime.InteropServices;
using Dopant.IO;

namespace Dopant.Onnx;

/// <summary>
/// An ONNX graph under construction: nodes in order, dense and sparse initializers, typed inputs and outputs; written
/// as one <c>ModelProto</c> (IR version 8, the default domain at opset 17) to a file, atomically.
/// </summary>
internal sealed class OnnxGraph
{
    /// <summary>ONNX's <c>TensorProto.DataType</c> codes for the element types Dopant writes.</summary>
    public enum ElementType { Float = 1, Int8 = 3, Int64 = 7, Float16 = 10 }

    public const int Opset = 17;
    private const int IrVersion = 8;

    private readonly List<ProtoWriter> _nodes = [];
    private readonly List<ProtoWriter> _initializers = [];
    private readonly List<ProtoWriter> _sparseInitializers = [];
    private readonly List<ProtoWriter> _inputs = [];
    private readonly List<ProtoWriter> _outputs = [];
    private readonly HashSet<string> _names = [];
    private int _next;

    /// <summary>A fresh value name beginning with <paramref name="stem"/>.</summary>
    public string Fresh(string stem)
    {
        string name = stem;
        while (!_names.Add(name)) name = $"{stem}_{++_next}";
        return name;
    }

    /// <summary>A dense float initializer.</summary>
    public string Initializer(string name, ReadOnlySpan<float> values, params long[] dims) =>
        AddInitializer(name, ElementType.Float, MemoryMarshal.AsBytes(values), values.Length, dims);

    /// <summary>A dense 8-bit integer initializer.</summary>
    public string Initializer(string name, ReadOnlySpan<sbyte> values, params long[] dims) =>
        AddInitializer(name, ElementType.Int8, MemoryMarshal.AsBytes(values), values.Length, dims);

    /// <summary>A dense 16-bit float initializer.</summary>
    public string Initializer(string name, ReadOnlySpan<Half> values, params long[] dims) =>
        AddInitializer(name, ElementType.Float16, MemoryMarshal.AsBytes(values), values.Length, dims);

    /// <summary>A dense 64-bit integer initializer.</summary>
    public string Initializer(string name, ReadOnlySpan<long> values, params long[] dims) =>
        AddInitializer(name, ElementType.Int64, MemoryMarshal.AsBytes(values), values.Length, dims);

    /// <summary>
    /// A sparse float initializer of shape <paramref name="dims"/>: its nonzero <paramref name="values"/> at the
    /// row-major <paramref name="flatIndices"/> (ascending).
    /// </summary>
    public string SparseInitializer(string name, ReadOnlySpan<float> values, ReadOnlySpan<long> flatIndices, params long[] dims)
    {
        if (values.Length != flatIndices.Length) throw new ArgumentException("One index per value.");
        name = Fresh(name);
        var sparse = new ProtoWriter()
            .Message(1, Tensor(name, ElementType.Float, MemoryMarshal.AsBytes(values), [values.Length]))
            .Message(2, Tensor(name + "_indices", ElementType.Int64, MemoryMarshal.AsBytes(flatIndices), [flatIndices.Length]))
            .PackedInts(3, dims);
        _sparseInitializers.Add(sparse);
        return name;
    }

    /// <summary>A node with one output, named from <paramref name="op"/>; returns the output's name.</summary>
    public string Node(string op, IReadOnlyList<string> inputs, params OnnxAttribute[] attributes) =>
        Node(op, inputs, 1, attributes)[0];

    /// <summary>A node with <paramref name="outputs"/> outputs; returns their names.</summary>
    public string[] Node(string op, IReadOnlyList<string> inputs, int outputs, params OnnxAttribute[] attributes)
    {
        string[] names = [.. Enumerable.Range(0, outputs).Select(_ => Fresh(op.ToLowerInvariant()))];
        AddNode(op, inputs, names, attributes);
        return names;
    }

    /// <summary>A node writing the given output names (graph outputs keep their names this way).</summary>
    public void NodeInto(string op, IReadOnlyList<string> inputs, IReadOnlyList<string> outputs, params OnnxAttribute[] attributes)
    {
        foreach (string output in outputs)
            if (!_names.Add(output)) throw new ArgumentException($"The value '{output}' is already defined.");
        AddNode(op, inputs, outputs, attributes);
    }

    /// <summary>A graph input; a dimension is a size (long) or a symbolic name (string).</summary>
    public void Input(string name, ElementType type, params object[] dims)
    {
        if (!_names.Add(name)) throw new ArgumentException($"The value '{name}' is already defined.");
        _inputs.Add(ValueInfo(name, type, dims));
    }

    /// <summary>A graph output (defined by a node before or after this call).</summary>
    public void Output(string name, ElementType type, params object[] dims) => _outputs.Add(ValueInfo(name, type, dims));

    /// <summary>Writes the model to <paramref name="path"/> (atomically) and returns its size in bytes.</summary>
    public long Write(string path, string graphName, string producerVersion, string documentation)
    {
        var graph = new ProtoWriter();
        foreach (ProtoWriter node in _nodes) graph.Message(1, node);
        graph.String(2, graphName);
        foreach (ProtoWriter initializer in _initializers) graph.Message(5, initializer);
        graph.String(10, documentation);
        foreach (ProtoWriter input in _inputs) graph.Message(11, input);
        foreach (ProtoWriter output in _outputs) graph.Message(12, output);
        foreach (ProtoWriter sparse in _sparseInitializers) graph.Message(15, sparse);
        var model = new ProtoWriter()
            .Int(1, IrVersion)
            .String(2, "dopant")
            .String(3, producerVersion)
            .Message(7, graph)
            .Message(8, new ProtoWriter().String(1, "").Int(2, Opset));
        AtomicFile.Write(path, model.CopyTo);
        return model.Length;
    }

    private string AddInitializer(string name, ElementType type, ReadOnlySpan<byte> data, int count, long[] dims)
    {
        if (dims.Aggregate(1L, (a, b) => a * b) != count) throw new ArgumentException($"{count} values do not fill [{string.Join(", ", dims)}].");
        name = Fresh(name);
        _initializers.Add(Tensor(name, type, data, dims));
        return name;
    }

    private static ProtoWriter Tensor(string name, ElementType type, ReadOnlySpan<byte> data, long[] dims)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("ONNX raw data is little-endian.");
        return new ProtoWriter().PackedInts(1, dims).Int(2, (int)type).String(8, name).Bytes(9, data);
    }

    private void AddNode(string op, IReadOnlyList<string> inputs, IReadOnlyList<string> outputs, OnnxAttribute[] attributes)
    {
        var node = new ProtoWriter();
        foreach (string input in inputs) node.String(1, input);
        foreach (string output in outputs) node.String(2, output);
        node.String(3, outputs[0] + "_node").String(4, op);
        foreach (OnnxAttribute attribute in attributes) node.Message(5, attribute.ToProto());
        _nodes.Add(node);
    }

    private static ProtoWriter ValueInfo(string name, ElementType type, object[] dims)
    {
        var shape = new ProtoWriter();
        foreach (object dim in dims)
            shape.Message(1, dim switch
            {
                long size => new ProtoWriter().Int(1, size),
                int size => new ProtoWriter().Int(1, size),
                string symbol => new ProtoWriter().String(2, symbol),
                _ => throw new ArgumentException($"A dimension is a size or a name, not {dim.GetType().Name}."),
            });
        var tensorType = new ProtoWriter().Int(1, (int)type).Message(2, shape);
        return new ProtoWriter().String(1, name).Message(2, new ProtoWriter().Message(1, tensorType));
    }
}

/// <summary>A node attribute: an integer, a float or a list of integers.</summary>
internal readonly record struct OnnxAttribute(string Name, long? Integer = null, float? Real = null, long[]? Integers = null)
{
    /// <summary>An integer attribute.</summary>
    public static OnnxAttribute Of(string name, long value) => new(name, Integer: value);

    /// <summary>A float attribute.</summary>
    public static OnnxAttribute Of(string name, float value) => new(name, Real: value);

    /// <summary>A list-of-integers attribute.</summary>
    public static OnnxAttribute Of(string name, long[] values) => new(name, Integers: values);

    /// <summary>ONNX's <c>AttributeProto</c>.</summary>
    public ProtoWriter ToProto()
    {
        var proto = new ProtoWriter().String(1, Name);
        if (Real is float f) return proto.Float(2, f).Int(20, 1);
        if (Integer is long i) return proto.Int(3, i).Int(20, 2);
        return proto.PackedInts(8, Integers ?? []).Int(20, 7);
    }
}
