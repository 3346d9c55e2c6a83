using Dopant.Data;
using Dopant.Models;

namespace Dopant.Training;

/// <summary>
/// What a plain PyTorch state dict of a tagger or classifier does not say (<see cref="LabelerCheckpoint.Load"/>): its
/// words and labels in id order, its head and pooling, and how its tensor names map to Dopant's (<c>encoder</c>,
/// <c>rnn</c>, <c>decoder</c>).
/// </summary>
/// <param name="Vocabulary">The words in id order.</param>
/// <param name="Labels">The labels in id order.</param>
/// <param name="Head">A label per token, or per sentence.</param>
/// <param name="Pooling">How a sentence-label head pools.</param>
public sealed record LabelerImport(Vocabulary Vocabulary, IReadOnlyList<string> Labels, LabelHead Head, SentencePooling Pooling = SentencePooling.Final)
{
    /// <summary>Name prefixes to rewrite, in order, first match wins: e.g. (<c>embedding.</c>, <c>encoder.</c>), (<c>lstm.</c>, <c>rnn.</c>), (<c>fc.</c>, <c>decoder.</c>).</summary>
    public IReadOnlyList<(string From, string To)> Names { get; init; } = [];

    /// <summary>The name of tensor <paramref name="name"/> after <see cref="Names"/>.</summary>
    public string Rename(string name)
    {
        foreach ((string from, string to) in Names)
            if (name.StartsWith(from, StringComparison.Ordinal)) return to + name[from.Length..];
        return name;
    }

    /// <summary>Reads a names file: a line <c>FROM TO</c> per prefix (blank lines and lines starting with <c>#</c> skipped).</summary>
    /// <exception cref="InvalidDataException">A line does not hold two names; the message names the file and line.</exception>
    public static IReadOnlyList<(string From, string To)> ReadNames(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"Names file '{path}' does not exist.", path);
        var names = new List<(string, string)>();
        int number = 0;
        foreach (string line in File.ReadLines(path))
        {
            number++;
            string trimmed = line.Trim();
            if (trimmed.Length == 0 || trimmed.StartsWith('#')) continue;
            string[] fields = trimmed.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length != 2) throw new InvalidDataException($"'{path}' line {number}: expected FROM TO, a name prefix and its replacement.");
            names.Add((fields[0], fields[1]));
        }
        return names;
    }

    /// <summary>Reads a labels file: one label a line, in id order.</summary>
    /// <exception cref="InvalidDataException">A line is empty or a label appears twice; the message names the file and line.</exception>
    public static IReadOnlyList<string> ReadLabels(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"Labels file '{path}' does not exist.", path);
        var labels = new List<string>();
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (string raw in File.ReadLines(path))
        {
            string label = raw.TrimEnd('\r');
            int number = labels.Count + 1;
            if (label.Length == 0) throw new InvalidDataException($"'{path}' line {number}: empty; a labels file holds one label a line.");
            if (!seen.TryAdd(label, number)) throw new InvalidDataException($"'{path}' line {number}: '{label}' appears already on line {seen[label]}.");
            labels.Add(label);
        }
        return labels;
    }
}
