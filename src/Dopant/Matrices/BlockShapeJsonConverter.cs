using System.Text.Json;
using System.Text.Json.Serialization;

namespace Dopant.Matrices;

/// <summary>A <see cref="BlockShape"/> in JSON as its text (<c>"16x1"</c>, <c>"1x1@16x64"</c>), as the command line writes it.</summary>
public sealed class BlockShapeJsonConverter : JsonConverter<BlockShape>
{
    /// <inheritdoc/>
    public override BlockShape Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String) throw new JsonException("A block shape is a string such as \"16x1\".");
        try
        {
            return BlockShape.Parse(reader.GetString()!);
        }
        catch (FormatException e)
        {
            throw new JsonException(e.Message, e);
        }
    }

    /// <inheritdoc/>
    public override void Write(Utf8JsonWriter writer, BlockShape value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStringValue(value.ToString());
    }
}
