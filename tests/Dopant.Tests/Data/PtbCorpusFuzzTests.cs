using System.Diagnostics;
using System.Text;
using Dopant.Data;

namespace Dopant.Tests.Data;

/// <summary>
/// Feeds mutated PTB-format text (binary garbage, invalid UTF-8, NUL bytes, byte-order marks, odd line ends, long lines
/// and words, empty files) to the corpus reader: every load either gives exactly the words and lines of a reference
/// reading (strict UTF-8, <see cref="StringReader.ReadLine"/>, Python's <c>str.split()</c>), or fails with a one-line
/// <see cref="InvalidDataException"/> naming the file.
/// </summary>
public sealed class PtbCorpusFuzzTests : IDisposable
{
    private const int Iterations = 1000;
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
    private readonly TemporaryFolder _folder = new();

    private static readonly string[] Seeds =
    [
        " the cat sat on the <unk> \n a dog ran in N parks \n",
        "no newline at the end",
        "\r\nwindows\r\nline ends\r\n\r\n",
        "old\rmac\rline ends",
        "tabs\tand\u00A0non-breaking\u2028separators\u001Fhere\n",
        "emoji 😀 and accents é ü\n\n\n",
        "   \n\t\n",
        "",
    ];

    private static readonly byte[][] Fragments =
    [
        [0x00], [0xFF], [0xC0, 0xAF], [0x80], [0xE2, 0x82], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xEF, 0xBB, 0xBF],
        [0xFF, 0xFE], [0xFE, 0xFF], [(byte)'\r'], [(byte)'\n'], [(byte)'\r', (byte)'\n'], [(byte)' '], [0x1C], [0xC2, 0x85],
        [0xE2, 0x80, 0xA8], [0xF0, 0x9F, 0x98, 0x80], "<eos>"u8.ToArray(), "<unk>"u8.ToArray(),
    ];

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void Mutated_text_loads_as_the_reference_reads_it_or_is_refused_with_one_line()
    {
        var random = new Random(31337);
        int loaded = 0, rejected = 0;
        var clock = Stopwatch.StartNew();
        string folder = Path.Combine(_folder.Path, "corpus");
        Directory.CreateDirectory(folder);
        var foreign = new Vocabulary(["<unk>", "<eos>", "the", "cat", "a", "dog"]);
        string[] splits = ["train.txt", "valid.txt", "test.txt"];
        foreach (string name in splits) File.WriteAllBytes(Path.Combine(folder, name), "a b\n"u8.ToArray());
        for (int iteration = 0; iteration < Iterations; iteration++)
        {
            // One split at a time is mutated (files are slow to write on a busy machine), the others hold "a b".
            string split = splits[iteration * 3 / Iterations];
            if (iteration > 0 && split != splits[(iteration - 1) * 3 / Iterations])
                File.WriteAllBytes(Path.Combine(folder, splits[(iteration - 1) * 3 / Iterations]), "a b\n"u8.ToArray());
            (byte[] bytes, string change) = Mutate(Encoding.UTF8.GetBytes(Seeds[random.Next(Seeds.Length)]), random);
            string description = $"iteration {iteration}, {split}: {change}";
            File.WriteAllBytes(Path.Combine(folder, split), bytes);

            List<string>? expected = Reference(bytes);
            PtbCorpus? corpus = null;
            try
            {
                corpus = PtbCorpus.Load(folder);
            }
            catch (InvalidDataException e)
            {
                Assert.True(expected is null, $"{description}: refused ({e.Message}) although the reference reads it");
                Assert.True(e.Message.Contains(split) && !e.Message.Contains('\n') && e.Message.Length < 600, $"{description}: {e.Message}");
                rejected++;
                continue;
            }
            catch (Exception e)
            {
                Assert.Fail($"{description} threw {e.GetType().Name}: {e.Message}\n{e.StackTrace}");
            }
            Assert.True(expected is not null, $"{description}: loaded although the reference refuses it");
            loaded++;

            int[] ids = split switch { "train.txt" => corpus!.Train, "valid.txt" => corpus!.Valid, _ => corpus!.Test };
            Assert.True(expected.SequenceEqual(ids.Select(id => corpus.Vocabulary.Words[id])), $"{description}: words differ from the reference");

            // Onto its own vocabulary the text reads with the same ids; onto another one it reads or names a word.
            Assert.Equal(ids, PtbCorpus.ReadFile(Path.Combine(folder, split), corpus.Vocabulary));
            if (iteration % 8 != 0) continue;
            Assert.Equal(corpus.Train, PtbCorpus.Load(folder, corpus.Vocabulary).Train);
            try
            {
                PtbCorpus.Load(folder, foreign);
            }
            catch (InvalidDataException e)
            {
                Assert.True(e.Message.Contains("is not in the vocabulary") && !e.Message.Contains('\n'), $"{description}: {e.Message}");
            }
        }
        Assert.True(rejected > Iterations / 20, $"{rejected} rejected");
        Assert.True(loaded > Iterations / 5, $"{loaded} loaded");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"took {clock.Elapsed}");
    }

    [Fact]
    public void An_enormous_line_streams_through_without_being_held_whole()
    {
        string path = Path.Combine(_folder.Path, "line.txt");
        using (var writer = new StreamWriter(path))
        {
            writer.Write("a ");
            writer.Write(new string(' ', 8_000_000));
            writer.Write(" b\n");
        }
        var vocabulary = new Vocabulary(["a", "b", "<eos>"]);
        long before = GC.GetAllocatedBytesForCurrentThread();
        int[] ids = PtbCorpus.ReadFile(path, vocabulary);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 8_000_000, "a line is read through a buffer, not as one string");
        Assert.Equal([0, 1, 2], ids);
    }

    [Fact]
    public void An_enormous_word_is_refused_with_the_file_and_line()
    {
        using TemporaryFolder folder = Folders("a\n\nb " + new string('x', PtbTokenReader.MaxWordLength + 1) + " c\n", "a\n", "a\n");
        var error = Assert.Throws<InvalidDataException>(() => PtbCorpus.Load(folder.Path));
        Assert.Equal($"{Path.Combine(folder.Path, "train.txt")} line 3: a word longer than 65,536 characters, which word-level text does not have.", error.Message);

        using TemporaryFolder longest = Folders(new string('x', PtbTokenReader.MaxWordLength) + "\n", "", "");
        Assert.Equal(PtbTokenReader.MaxWordLength, PtbCorpus.Load(longest.Path).Vocabulary.Words[0].Length);
    }

    [Fact]
    public void Invalid_utf8_is_refused_with_the_file_named()
    {
        using TemporaryFolder folder = Folders("a\n", "a\n", "a\n");
        File.WriteAllBytes(Path.Combine(folder.Path, "valid.txt"), [.. "a\nb "u8, 0xC0, 0xAF, .. " c\n"u8]);
        var error = Assert.Throws<InvalidDataException>(() => PtbCorpus.Load(folder.Path));
        Assert.Equal($"{Path.Combine(folder.Path, "valid.txt")}: not UTF-8 text: an invalid byte sequence (0xC0) at or after line 1.", error.Message);
    }

    [Fact]
    public void Nul_bytes_are_part_of_words_and_are_escaped_in_messages()
    {
        using TemporaryFolder folder = Folders("a\0b c\n", "a\0b\n", "x\0y\n");
        PtbCorpus corpus = PtbCorpus.Load(folder.Path);
        Assert.Equal(["a\0b", "c", "<eos>", "x\0y"], corpus.Vocabulary.Words);
        var error = Assert.Throws<InvalidDataException>(() => PtbCorpus.Load(folder.Path, new Vocabulary(["a\0b", "c", "<eos>"])));
        Assert.Contains("the word 'x\\u0000y'", error.Message);
    }

    [Fact]
    public void Empty_files_give_empty_splits_and_a_vocabulary_without_eos_is_refused_for_scoring()
    {
        using TemporaryFolder folder = Folders("", "", "");
        PtbCorpus corpus = PtbCorpus.Load(folder.Path);
        Assert.Empty(corpus.Train);
        Assert.Equal(0, corpus.Vocabulary.Count);
        Assert.Empty(PtbCorpus.ReadFile(Path.Combine(folder.Path, "test.txt"), new Vocabulary(["<eos>"])));
        var error = Assert.Throws<ArgumentException>(() => PtbCorpus.ReadFile(Path.Combine(folder.Path, "test.txt"), new Vocabulary(["a"])));
        Assert.Contains("no <eos>", error.Message);
    }

    private static TemporaryFolder Folders(string train, string valid, string test)
    {
        var folder = new TemporaryFolder();
        folder.Write("train.txt", train);
        folder.Write("valid.txt", valid);
        folder.Write("test.txt", test);
        return folder;
    }

    // The words and <eos> marks of the text as a simple reading gives them, or null when the text is not readable.
    private static List<string>? Reference(byte[] bytes)
    {
        string text;
        try
        {
            using var reader = new StreamReader(new MemoryStream(bytes), StrictUtf8, detectEncodingFromByteOrderMarks: true);
            text = reader.ReadToEnd();
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
        var words = new List<string>();
        using var lines = new StringReader(text);
        while (lines.ReadLine() is { } line)
        {
            var word = new StringBuilder();
            foreach (char c in line + " ")
            {
                if (!char.IsWhiteSpace(c) && c is not (>= '\u001C' and <= '\u001F'))
                {
                    word.Append(c);
                    continue;
                }
                if (word.Length > PtbTokenReader.MaxWordLength) return null;
                if (word.Length > 0) words.Add(word.ToString());
                word.Clear();
            }
            words.Add("<eos>");
        }
        return words;
    }

    private static (byte[], string) Mutate(byte[] seed, Random random)
    {
        var bytes = new List<byte>(seed);
        var description = new StringBuilder($"seed of {seed.Length} bytes");
        int count = 1 + random.Next(4);
        for (int m = 0; m < count; m++)
        {
            int at = random.Next(bytes.Count + 1);
            switch (random.Next(7))
            {
                case 0:
                {
                    byte[] fragment = Fragments[random.Next(Fragments.Length)];
                    bytes.InsertRange(at, fragment);
                    description.Append($"; inserted [{Convert.ToHexString(fragment)}] at {at}");
                    break;
                }
                case 1:
                {
                    var garbage = new byte[1 + random.Next(64)];
                    random.NextBytes(garbage);
                    bytes.InsertRange(at, garbage);
                    description.Append($"; inserted {garbage.Length} random bytes [{Convert.ToHexString(garbage)}] at {at}");
                    break;
                }
                case 2 when bytes.Count > 0:
                {
                    int length = Math.Min(1 + random.Next(8), bytes.Count - Math.Min(at, bytes.Count - 1));
                    at = Math.Min(at, bytes.Count - 1);
                    bytes.RemoveRange(at, length);
                    description.Append($"; removed {length} bytes at {at}");
                    break;
                }
                case 3 when bytes.Count > 0:
                {
                    at = Math.Min(at, bytes.Count - 1);
                    bytes[at] ^= (byte)(1 << random.Next(8));
                    description.Append($"; flipped a bit of byte {at}");
                    break;
                }
                case 4:
                {
                    int length = random.Next(8) switch { 0 => PtbTokenReader.MaxWordLength, 1 => PtbTokenReader.MaxWordLength + 1, _ => 1 + random.Next(200) };
                    bytes.InsertRange(at, Enumerable.Repeat((byte)'w', length));
                    description.Append($"; inserted a run of {length} 'w' at {at}");
                    break;
                }
                case 5:
                {
                    int words = random.Next(8) == 0 ? 20_000 : 1 + random.Next(200);
                    bytes.InsertRange(at, Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat(" ab", words))));
                    description.Append($"; inserted a line of {words} words at {at}");
                    break;
                }
                default:
                {
                    int length = random.Next(bytes.Count + 1);
                    bytes.RemoveRange(length, bytes.Count - length);
                    description.Append($"; truncated to {length} bytes");
                    break;
                }
            }
        }
        return ([.. bytes], description.ToString());
    }
}
