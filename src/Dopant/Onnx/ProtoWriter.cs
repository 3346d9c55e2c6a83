using System.Buffers.Binary;
using System.Text;

namespace Dopant.Onnx;

/// <summary>
/// The protocol-buffers wire format, written field by field: varints, 32-bit floats, length-delimited strings, bytes,
/// packed repeated integers and nested messages (written to their own writer, then copied in with their length).
/// Enough for ONNX's messages, with no code generator and no dependency.
/// </summary>
internal sealed class ProtoWriter
{
    private const int Varint = 0, Fixed32 = 5, LengthDelimited = 2;

    private readonly MemoryStream _stream = new();

    /// <summary>The bytes written so far.</summary>
    public long Length => _stream.Length;

    /// <summary>An integer field (int32, int64 and enums share the varint encoding; negative values take ten bytes).</summary>
    public ProtoWriter Int(int field, long value)
    {
        Tag(field, Varint);
        WriteVarint((ulong)value);
        return this;
    }

    /// <summary>A 32-bit float field.</summary>
    public ProtoWriter Float(int field, float value)
    {
        Tag(field, Fixed32);
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteSingleLittleEndian(bytes, value);
        _stream.Write(bytes);
        return this;
    }

    /// <summary>A UTF-8 string field.</summary>
    public ProtoWriter String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

    /// <summary>A bytes field.</summary>
    public ProtoWriter Bytes(int field, ReadOnlySpan<byte> value)
    {
        Tag(field, LengthDelimited);
        WriteVarint((ulong)value.Length);
        _stream.Write(value);
        return this;
    }

    /// <summary>A repeated integer field, packed.</summary>
    public ProtoWriter PackedInts(int field, IEnumerable<long> values)
    {
        var packed = new ProtoWriter();
        foreach (long value in values) packed.WriteVarint((ulong)value);
        return Message(field, packed);
    }

    /// <summary>A nested message field.</summary>
    public ProtoWriter Message(int field, ProtoWriter message)
    {
        Tag(field, LengthDelimited);
        WriteVarint((ulong)message._stream.Length);
        message._stream.Position = 0;
        message._stream.CopyTo(_stream);
        return this;
    }

    /// <summary>Copies everything written to <paramref name="destination"/>.</summary>
    public void CopyTo(Stream destination)
    {
        _stream.Position = 0;
        _stream.CopyTo(destination);
    }

    private void Tag(int field, int wireType) => WriteVarint((ulong)field << 3 | (uint)wireType);

    private void WriteVarint(ulong value)
    {
        while (value >= 0x80)
        {
            _stream.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }
        _stream.WriteByte((byte)value);
    }
}
