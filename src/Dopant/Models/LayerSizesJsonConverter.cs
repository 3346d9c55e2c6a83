using System.Text.Json;
using System.Text.Json.Serialization;

namespace Dopant.Models;

/// <summary>Reads and writes <see cref="LayerSizes"/> as a JSON array of integers.</summary>
internal sealed class LayerSizesJsonConverter : JsonConverter<LayerSizes>
{
    public override LayerSizes Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        new(JsonSerializer.Deserialize<int[]>(ref reader, options) ?? []);

    public override void Write(Utf8JsonWriter writer, LayerSizes value, JsonSerializerOptions options)
    {
        writer.WriteStartArray();
        foreach (int size in value) writer.WriteNumberValue(size);
        writer.WriteEndArray();
    }
}
