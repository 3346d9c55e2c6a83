using System.Text;

namespace Dopant.Data;

/// <summary>
/// Turns the Brown corpus files into "brown-chars", a character language-modeling corpus in PTB format: brown-ptb's
/// text (lower case, numbers as <c>N</c>, punctuation dropped; <see cref="BrownPtbConverter"/>) with no vocabulary cut,
/// so no word is <c>&lt;unk&gt;</c>, spelled out one sentence a line, each character a token and <c>_</c> between
/// words, as Mikolov's character-level Penn Treebank is laid out. Any PTB-format reader (Dopant's <c>train --task
/// charlm</c>) reads it, the line end being the sentence end.
/// </summary>
public static class BrownCharsConverter
{
    /// <summary>The token between two words.</summary>
    public const string WordBoundary = "_";

    /// <summary>Converts the corpus files (name → content; other names are ignored) to the three splits.</summary>
    public static PtbCorpusText Convert(IReadOnlyDictionary<string, string> files)
    {
        PtbCorpusText words = BrownPtbConverter.Convert(files, int.MaxValue);
        var characters = new HashSet<string>(StringComparer.Ordinal);
        PtbSplitText Spell(PtbSplitText split)
        {
            var text = new StringBuilder(split.Text.Length * 2);
            int tokens = 0;
            foreach (string line in split.Text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                string[] sentence = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                for (int w = 0; w < sentence.Length; w++)
                {
                    if (w > 0)
                    {
                        text.Append(WordBoundary).Append(' ');
                        tokens++;
                    }
                    foreach (Rune rune in sentence[w].EnumerateRunes())
                    {
                        string character = rune.ToString();
                        characters.Add(character);
                        text.Append(character).Append(' ');
                        tokens++;
                    }
                }
                text.Append('\n');
                tokens++;
            }
            return split with { Text = text.ToString(), TokenCount = tokens };
        }
        PtbSplitText train = Spell(words.Train), valid = Spell(words.Valid), test = Spell(words.Test);
        // The characters, the word boundary and <eos>.
        return new PtbCorpusText(train, valid, test, characters.Count + 2);
    }
}
