using Dopant.Data;

namespace Dopant.Tests.Data;

public sealed class PtbCorpusTests
{
    private static TemporaryFolder Folder(string train, string valid, string test)
    {
        var folder = new TemporaryFolder();
        folder.Write("train.txt", train);
        folder.Write("valid.txt", valid);
        folder.Write("test.txt", test);
        return folder;
    }

    [Fact]
    public void VocabularyFollowsFirstOccurrenceOverTrainThenValidThenTest()
    {
        using TemporaryFolder folder = Folder(" a b \n\n c a \n", "d a\n", "e");

        PtbCorpus corpus = PtbCorpus.Load(folder.Path);

        Assert.Equal(["a", "b", "<eos>", "c", "d", "e"], corpus.Vocabulary.Words);
        // The empty line is a sentence of its own, as line.split() + ['<eos>'] makes it.
        Assert.Equal([0, 1, 2, 2, 3, 0, 2], corpus.Train);
        Assert.Equal([4, 0, 2], corpus.Valid);
        // A last line without a newline still gets its <eos>.
        Assert.Equal([5, 2], corpus.Test);
        Assert.Equal(-1, corpus.Vocabulary.UnknownId);
    }

    [Fact]
    public void TokensSplitOnAnyWhitespaceAndLinesOnAnyNewline()
    {
        using TemporaryFolder folder = Folder("a\tb  c\r\nd\u00A0e\u001Ff\rg\n", "a\n", "a\n");

        PtbCorpus corpus = PtbCorpus.Load(folder.Path);

        string[] words = corpus.Train.Select(id => corpus.Vocabulary.Words[id]).ToArray();
        Assert.Equal(["a", "b", "c", "<eos>", "d", "e", "f", "<eos>", "g", "<eos>"], words);
    }

    [Fact]
    public void LoadOntoAnExistingVocabularyUsesItsIds()
    {
        using TemporaryFolder folder = Folder("a b\n", "a <unk>\n", "<unk>\n");
        var vocabulary = new Vocabulary(["<unk>", "<eos>", "b", "a", "unused"]);

        PtbCorpus corpus = PtbCorpus.Load(folder.Path, vocabulary);

        Assert.Same(vocabulary, corpus.Vocabulary);
        Assert.Equal([3, 2, 1], corpus.Train);
        Assert.Equal([3, 0, 1], corpus.Valid);
        Assert.Equal([0, 1], corpus.Test);
    }

    [Fact]
    public void A_word_outside_the_vocabulary_means_another_corpus_even_with_unk()
    {
        // A PTB-format corpus writes its rare words as <unk> already: a word the vocabulary lacks is from another corpus.
        using TemporaryFolder folder = Folder("a b\n", "a zebra\n", "quagga\n");
        var vocabulary = new Vocabulary(["<unk>", "<eos>", "b", "a"]);

        var error = Assert.Throws<InvalidDataException>(() => PtbCorpus.Load(folder.Path, vocabulary));

        Assert.Equal($"{Path.Combine(folder.Path, "valid.txt")} line 1: the word 'zebra' is not in the vocabulary (4 words), so the text is not from " +
                     "the corpus the vocabulary (the model's) was built from; PTB-format text writes words outside it as <unk>.", error.Message);
        string file = folder.Write("other.txt", "b a\n\nb quagga a\n");
        Assert.Contains("other.txt line 3: the word 'quagga'", Assert.Throws<InvalidDataException>(() => PtbCorpus.ReadFile(file, vocabulary)).Message);
    }

    [Fact]
    public void UnknownWordWithoutUnkNamesFileLineAndWord()
    {
        using TemporaryFolder folder = Folder("a\n", "a\na zebra\n", "a\n");
        var vocabulary = new Vocabulary(["a", "<eos>"]);

        var error = Assert.Throws<InvalidDataException>(() => PtbCorpus.Load(folder.Path, vocabulary));

        Assert.Contains("valid.txt line 2", error.Message);
        Assert.Contains("'zebra'", error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void ExistingVocabularyMustHoldEos()
    {
        using TemporaryFolder folder = Folder("a\n", "a\n", "a\n");

        var error = Assert.Throws<ArgumentException>(() => PtbCorpus.Load(folder.Path, new Vocabulary(["a", "<unk>"])));
        Assert.Contains("<eos>", error.Message);
    }

    [Fact]
    public void MissingFolderIsAOneLineError()
    {
        string missing = Path.Combine(Path.GetTempPath(), $"dopant-missing-{Guid.NewGuid():N}");

        var error = Assert.Throws<DirectoryNotFoundException>(() => PtbCorpus.Load(missing));
        Assert.Equal($"PTB-format folder '{missing}' does not exist.", error.Message);
    }

    [Theory]
    [InlineData("train.txt")]
    [InlineData("valid.txt")]
    [InlineData("test.txt")]
    public void MissingSplitFileIsNamed(string absent)
    {
        using TemporaryFolder folder = Folder("a\n", "a\n", "a\n");
        File.Delete(Path.Combine(folder.Path, absent));

        var error = Assert.Throws<FileNotFoundException>(() => PtbCorpus.Load(folder.Path));
        Assert.Equal($"PTB-format folder '{folder.Path}' has no {absent}.", error.Message);
        Assert.Equal(Path.Combine(folder.Path, absent), error.FileName);
        Assert.Throws<FileNotFoundException>(() => PtbCorpus.Load(folder.Path, new Vocabulary(["<eos>"])));
    }
}
