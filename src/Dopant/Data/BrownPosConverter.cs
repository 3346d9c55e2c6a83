using System.Text;

namespace Dopant.Data;

/// <summary>
/// Turns the tagged Brown corpus files into "brown-pos", a part-of-speech tagging corpus: <c>word&lt;TAB&gt;tag</c> a
/// line, a blank line after each sentence, split by file index as brown-ptb (<see cref="BrownPtbConverter.SplitOf"/>).
/// Pure: no files, no network.
/// </summary>
/// <remarks>
/// Every <c>word/tag</c> token of a non-empty line is kept, punctuation included. The word (before the last
/// <c>/</c>) keeps its case. The tag is Brown's base tag (<see cref="BaseTag"/>). The vocabulary and the unknown-word
/// rule are the tagger's (<see cref="LabeledCorpus"/>: training words seen at least twice, others read as
/// <c>&lt;unk&gt;</c>), so the files themselves hold every word. A compound tag of valid or test that train never
/// shows (15 tokens in Brown, such as <c>to+vb</c>) becomes its first part (<c>to</c>), so that every tag a model is
/// scored on is one it can predict.
/// </remarks>
public static class BrownPosConverter
{
    private static readonly string[] Suffixes = ["-tl", "-hl", "-nc"];

    /// <summary>Converts the corpus files (name → content; other names are ignored) to the three splits.</summary>
    public static PtbCorpusText Convert(IReadOnlyDictionary<string, string> files)
    {
        ArgumentNullException.ThrowIfNull(files);
        string[] names = BrownPtbConverter.CorpusFileNames(files);
        var texts = new[] { new StringBuilder(), new StringBuilder(), new StringBuilder() };
        var sentences = new int[3];
        var tokens = new int[3];
        var tags = new HashSet<string>(StringComparer.Ordinal);
        // Train first, so that its tag set is known when valid and test are written.
        foreach (int split in new[] { 0, 1, 2 })
            for (int i = 0; i < names.Length; i++)
            {
                if (BrownPtbConverter.SplitOf(i) != split) continue;
                foreach (List<(string Word, string Tag)> sentence in Sentences(files[names[i]]))
                {
                    foreach ((string word, string tag) in sentence)
                    {
                        string written = split == 0 || tags.Contains(tag) ? tag : tag[..Math.Max(0, tag.IndexOf('+'))] is { Length: > 0 } first && tags.Contains(first) ? first : tag;
                        texts[split].Append(word).Append('\t').Append(written).Append('\n');
                        if (split == 0) tags.Add(tag);
                    }
                    texts[split].Append('\n');
                    sentences[split]++;
                    tokens[split] += sentence.Count;
                }
            }
        PtbSplitText Split(int k, string name) => new(name, texts[k].ToString(), sentences[k], tokens[k]);
        return new PtbCorpusText(Split(0, PtbCorpus.TrainFileName), Split(1, PtbCorpus.ValidFileName), Split(2, PtbCorpus.TestFileName), tags.Count);
    }

    /// <summary>The sentences of one corpus file: each non-empty line's tokens as (word, base tag).</summary>
    public static IEnumerable<List<(string Word, string Tag)>> Sentences(string content)
    {
        using var reader = new StringReader(content);
        while (reader.ReadLine() is { } line)
        {
            var sentence = new List<(string, string)>();
            foreach (ReadOnlySpan<char> token in new WhitespaceTokenEnumerator(line))
            {
                int slash = token.LastIndexOf('/');
                if (slash <= 0 || slash == token.Length - 1) continue;
                sentence.Add((token[..slash].ToString(), BaseTag(token[(slash + 1)..].ToString())));
            }
            if (sentence.Count > 0) yield return sentence;
        }
    }

    /// <summary>
    /// Brown's base tag: lower case, the prefix <c>fw-</c> (foreign word) and the suffixes <c>-tl</c> (title),
    /// <c>-hl</c> (headline) and <c>-nc</c> (citation) removed wherever they end the tag; compound tags such as
    /// <c>ppss+md</c> stay whole.
    /// </summary>
    public static string BaseTag(string tag)
    {
        ArgumentNullException.ThrowIfNull(tag);
        string result = tag.ToLowerInvariant();
        if (result.StartsWith("fw-", StringComparison.Ordinal) && result.Length > 3) result = result[3..];
        for (bool stripped = true; stripped;)
        {
            stripped = false;
            foreach (string suffix in Suffixes)
                if (result.Length > suffix.Length && result.EndsWith(suffix, StringComparison.Ordinal))
                {
                    result = result[..^suffix.Length];
                    stripped = true;
                }
        }
        return result;
    }
}
