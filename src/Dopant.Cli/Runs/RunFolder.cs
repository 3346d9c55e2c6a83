using System.Text;
using System.Text.Json;
using Dopant.Training;

namespace Dopant.Cli.Runs;

/// <summary>
/// The files of one run: its settings (<c>run.json</c>), corpus, model checkpoints, metrics and results as JSON
/// lines, and the report. Whole files are written atomically (temp file and rename); JSON-lines files are appended
/// one line at a time and read back ignoring a last line cut short by a kill (the next append drops it).
/// </summary>
internal sealed class RunFolder(string path)
{
    public string Path { get; } = path;
    public string Settings => Combine("run.json");
    public string Data => Combine("data");
    public string Results => Combine("results.jsonl");
    public string Metrics => Combine("metrics.jsonl");
    public string Speed => Combine("speed.jsonl");
    public string Report => Combine("report.html");

    public string Model(string name) => Combine("models", name + ".safetensors");

    /// <summary>The deployment file (`dopant export`) of a model: what the "file bytes" column measures.</summary>
    public string CompactModel(string name) => Combine("models", name + ".compact.safetensors");

    private string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    public static JsonSerializerOptions Json => ModelCheckpoint.Json;

    /// <summary>The JSON-lines file's records; a malformed last line (an append cut short) is ignored, any other is an error.</summary>
    public static List<T> ReadLines<T>(string file)
    {
        if (!File.Exists(file)) return [];
        string[] lines = File.ReadAllLines(file);
        var records = new List<T>();
        for (int i = 0; i < lines.Length; i++)
        {
            if (string.IsNullOrWhiteSpace(lines[i])) continue;
            try
            {
                records.Add(JsonSerializer.Deserialize<T>(lines[i], Json) ?? throw new JsonException("null record"));
            }
            catch (JsonException) when (i == lines.Length - 1)
            {
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"'{file}' line {i + 1} is not a valid record: {e.Message}");
            }
        }
        return records;
    }

    public static void Append<T>(string file, T record)
    {
        // A record cut short by a kill (no newline after it) is dropped first: it is redone by the resumed step.
        if (File.Exists(file))
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.ReadWrite);
            long end = stream.Length;
            while (end > 0)
            {
                stream.Seek(end - 1, SeekOrigin.Begin);
                if (stream.ReadByte() == '\n') break;
                end--;
            }
            stream.SetLength(end);
        }
        File.AppendAllText(file, JsonSerializer.Serialize(record, Json) + "\n", Encoding.UTF8);
    }

    public static void WriteAtomically(string file, string text)
    {
        string temporary = file + ".tmp";
        File.WriteAllText(temporary, text, new UTF8Encoding(false));
        File.Move(temporary, file, overwrite: true);
    }
}
