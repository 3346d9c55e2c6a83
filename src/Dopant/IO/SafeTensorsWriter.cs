using System.Buffers;
using System.Buffers.Binary;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Dopant.IO;

/// <summary>Serializes a <see cref="SafeTensorsFile"/>.</summary>
internal static class SafeTensorsWriter
{
    public static void Write(SafeTensorsFile file, Stream stream)
    {
        // Largest elements first: with no gaps allowed in the buffer this is the only way every tensor starts at a
        // multiple of its element size, which PyTorch's writer also guarantees and zero-copy readers rely on.
        // OrderBy is stable, so equal sizes keep the caller's order and the output is deterministic.
        SafeTensor[] dataOrder = file.Tensors.OrderByDescending(tensor => tensor.DType.ElementSize()).ToArray();
        byte[] header = BuildHeader(dataOrder, file.Metadata);
        if (header.Length > SafeTensorsHeader.MaxLength)
            throw new InvalidOperationException(
                $"The safetensors header would be {header.Length} bytes, more than the {SafeTensorsHeader.MaxLength} readers accept.");

        Span<byte> prefix = stackalloc byte[SafeTensorsHeader.LengthPrefixSize];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)header.Length);
        stream.Write(prefix);
        stream.Write(header);
        foreach (SafeTensor tensor in dataOrder)
            stream.Write(tensor.Data.Span);
    }

    private static byte[] BuildHeader(SafeTensor[] dataOrder, IReadOnlyDictionary<string, string> metadata)
    {
        var buffer = new ArrayBufferWriter<byte>();
        // Relaxed escaping keeps non-ASCII names readable; the header is never embedded in HTML.
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            if (metadata.Count > 0)
            {
                json.WriteStartObject(SafeTensorsHeader.MetadataKey);
                foreach ((string key, string value) in metadata.OrderBy(entry => entry.Key, StringComparer.Ordinal))
                    json.WriteString(key, value);
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (SafeTensor tensor in dataOrder)
            {
                json.WriteStartObject(tensor.Name);
                json.WriteString("dtype", tensor.DType.ToHeaderName());
                json.WriteStartArray("shape");
                foreach (long dimension in tensor.Shape)
                    json.WriteNumberValue(dimension);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                offset += tensor.Data.Length;
                json.WriteNumberValue(offset);
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        int padding = (SafeTensorsHeader.Alignment - buffer.WrittenCount % SafeTensorsHeader.Alignment) % SafeTensorsHeader.Alignment;
        buffer.GetSpan(padding)[..padding].Fill((byte)' ');
        buffer.Advance(padding);
        return buffer.WrittenSpan.ToArray();
    }
}
