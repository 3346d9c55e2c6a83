using System.Buffers.Binary;
using System.Text.Json;
using System.Text.Unicode;

namespace Dopant.IO;

/// <summary>
/// Parses and validates safetensors data. Every defect becomes an <see cref="InvalidDataException"/> whose one-line
/// message names the source and the problem; no size taken from the file is allocated before it has been checked
/// against the actual length of the data.
/// </summary>
internal static class SafeTensorsReader
{
    private static readonly JsonDocumentOptions JsonOptions = new() { MaxDepth = 8 };

    private sealed record Entry(string Name, SafeTensorsDType DType, long[] Shape, long ElementCount, long Begin, long End, int HeaderIndex);

    public static SafeTensorsFile Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        // Opening a directory would fail with a misleading "access denied".
        if (Directory.Exists(path))
            throw new IOException($"'{path}' is a directory, not a safetensors file.");
        // Unbuffered: the reads below are few and large, and go straight to the file.
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0, FileOptions.SequentialScan);
        return Read(stream, path);
    }

    public static SafeTensorsFile Read(Stream stream, string? sourceName)
    {
        ArgumentNullException.ThrowIfNull(stream);
        string? source = sourceName ?? (stream as FileStream)?.Name;
        if (!stream.CanSeek)
        {
            // The length is unknown, so buffer what is actually there rather than trust the header's sizes.
            var buffered = new MemoryStream();
            stream.CopyTo(buffered);
            return Parse(buffered.GetBuffer().AsMemory(0, (int)buffered.Length), source);
        }

        long totalLength = Math.Max(0, stream.Length - stream.Position);
        Span<byte> prefix = stackalloc byte[SafeTensorsHeader.LengthPrefixSize];
        int prefixRead = stream.ReadAtLeast(prefix, prefix.Length, throwOnEndOfStream: false);
        int headerLength = CheckHeaderLength(prefix[..prefixRead], totalLength, source);

        var header = new byte[headerLength];
        ReadFully(stream, header, source);
        long dataLength = CheckDataLength(totalLength, headerLength, source);
        List<Entry> entries = ParseHeader(header, dataLength, source, out Dictionary<string, string> metadata);

        var data = new byte[dataLength];
        ReadFully(stream, data, source);
        if (stream.ReadByte() >= 0)
            throw new IOException($"{Describe(source)} grew while it was being read.");
        return Build(entries, metadata, data, source);
    }

    /// <summary>Parses a complete file held in memory; the tensors share <paramref name="bytes"/>.</summary>
    public static SafeTensorsFile Parse(ReadOnlyMemory<byte> bytes, string? source)
    {
        ReadOnlySpan<byte> span = bytes.Span;
        int headerLength = CheckHeaderLength(span[..Math.Min(span.Length, SafeTensorsHeader.LengthPrefixSize)], span.Length, source);
        int dataStart = SafeTensorsHeader.LengthPrefixSize + headerLength;
        List<Entry> entries = ParseHeader(
            span.Slice(SafeTensorsHeader.LengthPrefixSize, headerLength).ToArray(), span.Length - dataStart, source,
            out Dictionary<string, string> metadata);
        return Build(entries, metadata, bytes[dataStart..], source);
    }

    private static int CheckHeaderLength(ReadOnlySpan<byte> prefix, long totalLength, string? source)
    {
        if (totalLength < SafeTensorsHeader.LengthPrefixSize || prefix.Length < SafeTensorsHeader.LengthPrefixSize)
            throw Invalid(source, $"it is {totalLength} bytes long, shorter than the 8-byte header length.");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        ulong available = (ulong)(totalLength - SafeTensorsHeader.LengthPrefixSize);
        if (headerLength > available)
            throw Invalid(source, $"the header length {headerLength} exceeds the {available} bytes after the length field.");
        if (headerLength > SafeTensorsHeader.MaxLength)
            throw Invalid(source, $"the header length {headerLength} exceeds the {SafeTensorsHeader.MaxLength}-byte limit.");
        return (int)headerLength;
    }

    private static long CheckDataLength(long totalLength, int headerLength, string? source)
    {
        long dataLength = totalLength - SafeTensorsHeader.LengthPrefixSize - headerLength;
        if (dataLength > Array.MaxLength)
            throw Invalid(source, $"the data buffer of {dataLength} bytes exceeds the {Array.MaxLength} bytes this reader can hold.");
        return dataLength;
    }

    private static List<Entry> ParseHeader(byte[] header, long dataLength, string? source, out Dictionary<string, string> metadata)
    {
        // The reference implementation checks this too; with it, a header that parses is a JSON object.
        if (header.Length == 0 || header[0] != (byte)'{')
            throw Invalid(source, "the header does not start with '{'.");
        if (!Utf8.IsValid(header))
            throw Invalid(source, "the header is not valid UTF-8.");

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(header, JsonOptions);
        }
        catch (JsonException e)
        {
            throw Invalid(source, $"the header is not valid JSON: {e.Message}");
        }

        using (document)
        {
            try
            {
                return ParseEntries(document.RootElement, dataLength, source, out metadata);
            }
            catch (InvalidOperationException e)
            {
                // JSON escapes such as "\ud800" decode to strings .NET refuses to produce.
                throw Invalid(source, $"the header holds an undecodable string: {e.Message}");
            }
        }
    }

    private static List<Entry> ParseEntries(JsonElement root, long dataLength, string? source, out Dictionary<string, string> metadata)
    {
        metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        var entries = new List<Entry>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (JsonProperty property in root.EnumerateObject())
        {
            string name = property.Name;
            if (!seen.Add(name))
                throw Invalid(source, $"the header has two entries named {DiagnosticText.Quote(name)}.");
            if (name == SafeTensorsHeader.MetadataKey)
                metadata = ParseMetadata(property.Value, source);
            else
                entries.Add(ParseEntry(name, property.Value, entries.Count, dataLength, source));
        }

        entries.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin)
            : a.End != b.End ? a.End.CompareTo(b.End)
            : a.HeaderIndex.CompareTo(b.HeaderIndex));
        CheckCoverage(entries, dataLength, source);
        return entries;
    }

    private static Dictionary<string, string> ParseMetadata(JsonElement element, string? source)
    {
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        // The reference implementation deserializes an Option<HashMap<String, String>>, so null means no metadata.
        if (element.ValueKind == JsonValueKind.Null)
            return metadata;
        if (element.ValueKind != JsonValueKind.Object)
            throw Invalid(source, $"{SafeTensorsHeader.MetadataKey} is a JSON {Kind(element)}, not an object of strings.");
        foreach (JsonProperty property in element.EnumerateObject())
        {
            if (property.Value.ValueKind != JsonValueKind.String)
                throw Invalid(source,
                    $"{SafeTensorsHeader.MetadataKey} entry {DiagnosticText.Quote(property.Name)} is a JSON {Kind(property.Value)}, not a string.");
            if (!metadata.TryAdd(property.Name, property.Value.GetString()!))
                throw Invalid(source, $"{SafeTensorsHeader.MetadataKey} has two entries named {DiagnosticText.Quote(property.Name)}.");
        }
        return metadata;
    }

    private static Entry ParseEntry(string name, JsonElement element, int headerIndex, long dataLength, string? source)
    {
        string tensor = $"tensor {DiagnosticText.Quote(name)}";
        if (element.ValueKind != JsonValueKind.Object)
            throw Invalid(source, $"{tensor} is a JSON {Kind(element)}, not an object.");

        JsonElement? dtypeElement = null, shapeElement = null, offsetsElement = null;
        foreach (JsonProperty field in element.EnumerateObject())
        {
            switch (field.Name)
            {
                case "dtype": dtypeElement = OnlyValue(dtypeElement, field, tensor, source); break;
                case "shape": shapeElement = OnlyValue(shapeElement, field, tensor, source); break;
                case "data_offsets": offsetsElement = OnlyValue(offsetsElement, field, tensor, source); break;
                default: throw Invalid(source, $"{tensor} has an unknown field {DiagnosticText.Quote(field.Name)}.");
            }
        }

        if (dtypeElement is not { } dtypeValue)
            throw Invalid(source, $"{tensor} has no \"dtype\".");
        if (dtypeValue.ValueKind != JsonValueKind.String)
            throw Invalid(source, $"{tensor} has a \"dtype\" that is a JSON {Kind(dtypeValue)}, not a string.");
        string dtypeName = dtypeValue.GetString()!;
        if (!SafeTensorsDTypeExtensions.TryParseHeaderName(dtypeName, out SafeTensorsDType dtype))
            throw Invalid(source, $"{tensor} has unknown dtype {DiagnosticText.Quote(dtypeName)}.");

        if (shapeElement is not { } shapeValue)
            throw Invalid(source, $"{tensor} has no \"shape\".");
        long[] shape = ReadNonNegativeIntegers(shapeValue)
            ?? throw Invalid(source, $"{tensor} has a \"shape\" that is not an array of non-negative integers.");
        long elementCount = SafeTensor.CountElements(shape) ?? -1;
        if (elementCount < 0 || elementCount > long.MaxValue / dtype.ElementSize())
            throw Invalid(source, $"{tensor} has shape {SafeTensor.FormatShape(shape)}, too large to address.");
        long byteCount = elementCount * dtype.ElementSize();

        if (offsetsElement is not { } offsetsValue)
            throw Invalid(source, $"{tensor} has no \"data_offsets\".");
        long[] offsets = ReadNonNegativeIntegers(offsetsValue) is { Length: 2 } pair ? pair
            : throw Invalid(source, $"{tensor} has \"data_offsets\" that are not [begin, end] with non-negative integers.");
        (long begin, long end) = (offsets[0], offsets[1]);
        if (begin > end)
            throw Invalid(source, $"{tensor} has data_offsets [{begin}, {end}] that end before they begin.");
        if (end > dataLength)
            throw Invalid(source, $"{tensor} has data_offsets [{begin}, {end}] beyond the {dataLength}-byte data buffer.");
        if (end - begin != byteCount)
            throw Invalid(source,
                $"{tensor} has data_offsets [{begin}, {end}] spanning {end - begin} bytes, but {dtype.ToHeaderName()} " +
                $"shape {SafeTensor.FormatShape(shape)} needs {byteCount}.");
        return new Entry(name, dtype, shape, elementCount, begin, end, headerIndex);
    }

    private static JsonElement OnlyValue(JsonElement? earlier, JsonProperty field, string tensor, string? source) =>
        earlier is null ? field.Value : throw Invalid(source, $"{tensor} has two \"{field.Name}\" fields.");

    private static long[]? ReadNonNegativeIntegers(JsonElement element)
    {
        if (element.ValueKind != JsonValueKind.Array)
            return null;
        var values = new long[element.GetArrayLength()];
        int i = 0;
        foreach (JsonElement item in element.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out long value) || value < 0)
                return null;
            values[i++] = value;
        }
        return values;
    }

    /// <summary>The spec requires the tensors to tile the data buffer exactly: no hole, no overlap, nothing after.</summary>
    private static void CheckCoverage(List<Entry> sortedEntries, long dataLength, string? source)
    {
        long covered = 0;
        Entry? previous = null;
        foreach (Entry entry in sortedEntries)
        {
            if (entry.Begin > covered)
                throw Invalid(source, previous is null
                    ? $"data bytes [0, {entry.Begin}) before tensor {DiagnosticText.Quote(entry.Name)} belong to no tensor."
                    : $"data bytes [{covered}, {entry.Begin}) between tensors {DiagnosticText.Quote(previous.Name)} and " +
                      $"{DiagnosticText.Quote(entry.Name)} belong to no tensor.");
            if (entry.Begin < covered)
                throw Invalid(source,
                    $"tensors {DiagnosticText.Quote(previous!.Name)} [{previous.Begin}, {previous.End}] and " +
                    $"{DiagnosticText.Quote(entry.Name)} [{entry.Begin}, {entry.End}] overlap.");
            covered = entry.End;
            previous = entry;
        }
        if (covered != dataLength)
            throw Invalid(source, $"the last {dataLength - covered} of the {dataLength} data bytes belong to no tensor.");
    }

    private static SafeTensorsFile Build(List<Entry> entries, Dictionary<string, string> metadata, ReadOnlyMemory<byte> data, string? source)
    {
        var tensors = new List<SafeTensor>(entries.Count);
        foreach (Entry entry in entries)
        {
            ReadOnlyMemory<byte> bytes = data[(int)entry.Begin..(int)entry.End];
            if (entry.DType == SafeTensorsDType.Bool && bytes.Span.IndexOfAnyExcept((byte)0, (byte)1) is >= 0 and int at)
                throw Invalid(source,
                    $"BOOL tensor {DiagnosticText.Quote(entry.Name)} holds the byte {bytes.Span[at]}; only 0 and 1 are booleans.");
            tensors.Add(new SafeTensor(entry.Name, entry.DType, entry.Shape, entry.ElementCount, bytes));
        }
        return new SafeTensorsFile(tensors, metadata, source);
    }

    private static void ReadFully(Stream stream, Span<byte> buffer, string? source)
    {
        if (stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false) < buffer.Length)
            throw new IOException($"{Describe(source)} ended early; it was probably truncated while being read.");
    }

    private static string Kind(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => "object",
        JsonValueKind.Array => "array",
        JsonValueKind.String => "string",
        JsonValueKind.Number => "number",
        JsonValueKind.True or JsonValueKind.False => "boolean",
        _ => "null",
    };

    private static string Describe(string? source) => source is null ? "The safetensors stream" : $"Safetensors file '{source}'";

    private static InvalidDataException Invalid(string? source, string problem) =>
        new(source is null ? $"Invalid safetensors data: {problem}" : $"Invalid safetensors file '{source}': {problem}");
}
