using System.Text;
using System.Text.RegularExpressions;

namespace Dopant.Data;

/// <summary>
/// Turns the tagged Brown corpus files into a PTB-format corpus ("brown-ptb"): lower-cased words, numbers as
/// <c>N</c>, punctuation dropped, a closed vocabulary with <c>&lt;unk&gt;</c>. Pure: no files, no network.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>Files: those named <c>c[a-r]NN</c>, sorted by name (ordinal); the file with index <c>i</c> goes to valid
/// when <c>i % 10 == 8</c>, to test when <c>i % 10 == 9</c>, to train otherwise.</item>
/// <item>Each line is a sentence of whitespace-separated <c>word/tag</c> tokens. The word is the part before the
/// last <c>/</c> (the whole token when it has none), lower-cased (invariant). A word with no letter or digit is
/// dropped; a word matching <c>^[0-9][0-9.,:/-]*$</c> becomes <c>N</c>. A sentence left with no word (a blank
/// line included) is dropped.</item>
/// <item>Vocabulary: the <see cref="RankedWordCount"/> most frequent words of train, ties broken by first
/// occurrence in train, plus <c>&lt;unk&gt;</c> and <c>&lt;eos&gt;</c>; every other word in all splits becomes
/// <c>&lt;unk&gt;</c>.</item>
/// <item>A literal <c>&lt;unk&gt;</c> or <c>&lt;eos&gt;</c> in the text (after lower-casing) becomes
/// <c>&lt;unk&gt;</c> and takes no place among the ranked words: <c>&lt;unk&gt;</c> already means an unknown word,
/// and a written <c>&lt;eos&gt;</c> would read back as a sentence end. The Brown corpus has neither.</item>
/// <item>Output: one line <c>" w1 w2 ... wn \n"</c> per sentence, as the PTB files are laid out.</item>
/// </list>
/// </remarks>
public static partial class BrownPtbConverter
{
    /// <summary>The number of ranked words kept in the vocabulary, besides <c>&lt;unk&gt;</c> and <c>&lt;eos&gt;</c>.</summary>
    public const int RankedWordCount = 9_998;

    /// <summary>The word that every number becomes.</summary>
    public const string NumberWord = "N";

    /// <summary>Whether <paramref name="fileName"/> names a Brown corpus text file (<c>c[a-r]NN</c>).</summary>
    /// <param name="fileName">A bare file name, without folders.</param>
    /// <returns>True for names like <c>ca01</c> or <c>cr09</c>.</returns>
    public static bool IsCorpusFileName(string fileName)
    {
        ArgumentNullException.ThrowIfNull(fileName);
        return CorpusFileName().IsMatch(fileName);
    }

    /// <summary>Converts the Brown corpus files to the three splits of a PTB-format corpus.</summary>
    /// <param name="files">File name → content; names that are not <c>c[a-r]NN</c> are ignored.</param>
    /// <param name="rankedWordCount">How many of the most frequent train words to keep.</param>
    /// <returns>The text of <c>train.txt</c>, <c>valid.txt</c> and <c>test.txt</c>.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rankedWordCount"/> is negative.</exception>
    public static PtbCorpusText Convert(IReadOnlyDictionary<string, string> files, int rankedWordCount = RankedWordCount)
    {
        ArgumentNullException.ThrowIfNull(files);
        ArgumentOutOfRangeException.ThrowIfNegative(rankedWordCount);

        string[] names = CorpusFileNames(files);
        var splits = new List<string[]>[] { [], [], [] };
        // Interning keeps one string per distinct word, which also makes the ranking pass cheap.
        var interned = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < names.Length; i++)
        {
            List<string[]> sentences = splits[SplitOf(i)];
            using var reader = new StringReader(files[names[i]] ?? throw new ArgumentException($"The content of '{names[i]}' is null.", nameof(files)));
            var words = new List<string>();
            while (reader.ReadLine() is { } line)
            {
                words.Clear();
                foreach (ReadOnlySpan<char> token in new WhitespaceTokenEnumerator(line))
                {
                    if (ToWord(token) is { } word)
                        words.Add(interned.TryGetValue(word, out string? known) ? known : interned[word] = word);
                }
                if (words.Count > 0)
                    sentences.Add(words.ToArray());
            }
        }

        HashSet<string> kept = RankTrainWords(splits[0], rankedWordCount);
        bool anyUnknown = false;
        PtbSplitText Write(string fileName, List<string[]> sentences)
        {
            var text = new StringBuilder();
            int tokens = 0;
            foreach (string[] sentence in sentences)
            {
                text.Append(' ');
                foreach (string word in sentence)
                {
                    bool known = kept.Contains(word);
                    anyUnknown |= !known;
                    text.Append(known ? word : Vocabulary.UnknownWord).Append(' ');
                }
                text.Append('\n');
                tokens += sentence.Length + 1;
            }
            return new PtbSplitText(fileName, text.ToString(), sentences.Count, tokens);
        }

        PtbSplitText train = Write(PtbCorpus.TrainFileName, splits[0]);
        PtbSplitText valid = Write(PtbCorpus.ValidFileName, splits[1]);
        PtbSplitText test = Write(PtbCorpus.TestFileName, splits[2]);
        bool anySentence = splits.Any(s => s.Count > 0);
        int vocabularySize = kept.Count + (anyUnknown ? 1 : 0) + (anySentence ? 1 : 0);
        return new PtbCorpusText(train, valid, test, vocabularySize);
    }

    /// <summary>
    /// The split of the corpus file at <paramref name="index"/> in name order, as every Brown dataset splits it:
    /// 0 (train), 1 (valid, when index % 10 is 8) or 2 (test, when it is 9).
    /// </summary>
    public static int SplitOf(int index) => (index % 10) switch { 8 => 1, 9 => 2, _ => 0 };

    /// <summary>The corpus file names of <paramref name="files"/> in the order that <see cref="SplitOf"/> indexes.</summary>
    public static string[] CorpusFileNames(IReadOnlyDictionary<string, string> files) =>
        [.. files.Keys.Where(IsCorpusFileName).Order(StringComparer.Ordinal)];

    /// <summary>The normalized word of a <c>word/tag</c> token, or null when the word is dropped.</summary>
    private static string? ToWord(ReadOnlySpan<char> token)
    {
        int slash = token.LastIndexOf('/');
        ReadOnlySpan<char> raw = slash >= 0 ? token[..slash] : token;
        bool hasLetterOrDigit = false;
        foreach (Rune rune in raw.EnumerateRunes())
        {
            if (Rune.IsLetterOrDigit(rune))
            {
                hasLetterOrDigit = true;
                break;
            }
        }
        if (!hasLetterOrDigit)
            return null;
        if (Number().IsMatch(raw))
            return NumberWord;
        string word = raw.ToString().ToLowerInvariant();
        return word is Vocabulary.UnknownWord or Vocabulary.EndOfSentenceWord ? Vocabulary.UnknownWord : word;
    }

    /// <summary>The <paramref name="count"/> most frequent words of train, ties broken by first occurrence.</summary>
    private static HashSet<string> RankTrainWords(List<string[]> train, int count)
    {
        var frequency = new Dictionary<string, (int Count, int First)>(StringComparer.Ordinal);
        foreach (string[] sentence in train)
        {
            foreach (string word in sentence)
            {
                if (word == Vocabulary.UnknownWord)
                    continue;
                frequency[word] = frequency.TryGetValue(word, out var seen) ? (seen.Count + 1, seen.First) : (1, frequency.Count);
            }
        }
        return frequency
            .OrderByDescending(w => w.Value.Count)
            .ThenBy(w => w.Value.First)
            .Take(count)
            .Select(w => w.Key)
            .ToHashSet(StringComparer.Ordinal);
    }

    [GeneratedRegex(@"^c[a-r][0-9][0-9]\z", RegexOptions.CultureInvariant)]
    private static partial Regex CorpusFileName();

    [GeneratedRegex(@"^[0-9][0-9.,:/-]*$", RegexOptions.CultureInvariant)]
    private static partial Regex Number();
}
