using System.Text;

namespace Dopant.Data;

/// <summary>
/// Turns the Brown corpus files and their categories (<c>cats.txt</c>: <c>ca01 news</c> a line) into "brown-genre", a
/// text classification corpus: <c>genre&lt;TAB&gt;text</c> a line, each example <see cref="SentencesPerExample"/>
/// consecutive sentences of one file (a file's last, shorter group is dropped), the words as brown-pos keeps them
/// (case and punctuation included) separated by spaces; split by file index as brown-ptb, so no file is in two splits.
/// </summary>
public static class BrownGenreConverter
{
    /// <summary>Sentences per example.</summary>
    public const int SentencesPerExample = 10;

    /// <summary>The name of the categories file in the package.</summary>
    public const string CategoriesFileName = "cats.txt";

    /// <summary>Converts the corpus files (name → content, <c>cats.txt</c> among them) to the three splits.</summary>
    /// <exception cref="InvalidDataException"><c>cats.txt</c> is missing, malformed, or lacks a corpus file.</exception>
    public static PtbCorpusText Convert(IReadOnlyDictionary<string, string> files)
    {
        ArgumentNullException.ThrowIfNull(files);
        if (!files.TryGetValue(CategoriesFileName, out string? categories))
            throw new InvalidDataException($"The corpus has no {CategoriesFileName}, which names each file's genre.");
        Dictionary<string, string> genres = ReadCategories(categories);
        string[] names = BrownPtbConverter.CorpusFileNames(files);
        var texts = new[] { new StringBuilder(), new StringBuilder(), new StringBuilder() };
        var examples = new int[3];
        var tokens = new int[3];
        for (int i = 0; i < names.Length; i++)
        {
            if (!genres.TryGetValue(names[i], out string? genre))
                throw new InvalidDataException($"{CategoriesFileName} names no genre for '{names[i]}'.");
            int split = BrownPtbConverter.SplitOf(i);
            var group = new List<string>();
            int count = 0;
            foreach (List<(string Word, string Tag)> sentence in BrownPosConverter.Sentences(files[names[i]]))
            {
                group.AddRange(sentence.Select(t => t.Word));
                if (++count < SentencesPerExample) continue;
                texts[split].Append(genre).Append('\t').AppendJoin(' ', group).Append('\n');
                examples[split]++;
                tokens[split] += group.Count;
                group.Clear();
                count = 0;
            }
        }
        PtbSplitText Split(int k, string name) => new(name, texts[k].ToString(), examples[k], tokens[k]);
        return new PtbCorpusText(Split(0, PtbCorpus.TrainFileName), Split(1, PtbCorpus.ValidFileName), Split(2, PtbCorpus.TestFileName),
            genres.Values.Distinct(StringComparer.Ordinal).Count());
    }

    private static Dictionary<string, string> ReadCategories(string text)
    {
        var genres = new Dictionary<string, string>(StringComparer.Ordinal);
        int number = 0;
        foreach (string raw in text.Split('\n'))
        {
            number++;
            string line = raw.Trim();
            if (line.Length == 0) continue;
            string[] fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length != 2) throw new InvalidDataException($"{CategoriesFileName} line {number}: expected 'FILE GENRE'.");
            genres[fields[0]] = fields[1];
        }
        return genres;
    }
}
