using System.Text.Json;
using Dopant.IO;

namespace Dopant.Training;

/// <summary>Reads a JSON value of a safetensors file's <c>__metadata__</c>, every problem one message naming the file and the key.</summary>
internal static class MetadataJson
{
    /// <summary>The value under <paramref name="key"/> of <paramref name="file"/> (read from <paramref name="path"/>), deserialized.</summary>
    /// <exception cref="InvalidDataException">The key is missing, or its value is null or not valid JSON of <typeparamref name="T"/>.</exception>
    public static T Parse<T>(SafeTensorsFile file, string path, string key) where T : class
    {
        if (!file.Metadata.TryGetValue(key, out string? text)) throw new InvalidDataException($"'{path}' has no '{key}' metadata.");
        try
        {
            return JsonSerializer.Deserialize<T>(text, ModelCheckpoint.Json) ?? throw new InvalidDataException($"'{path}': metadata '{key}' is null.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{path}': metadata '{key}' is not valid: {DiagnosticText.OneLine(e.Message)}", e);
        }
    }
}
