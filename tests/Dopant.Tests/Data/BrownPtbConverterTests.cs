using Dopant.Data;

namespace Dopant.Tests.Data;

public sealed class BrownPtbConverterTests
{
    /// <summary>Converts files that all land in train (a single file has index 0).</summary>
    private static PtbCorpusText ConvertTrain(string content, int rankedWordCount = 100) =>
        BrownPtbConverter.Convert(new Dictionary<string, string> { ["ca01"] = content }, rankedWordCount);

    [Fact]
    public void WordIsThePartBeforeTheLastSlash()
    {
        PtbCorpusText text = ConvertTrain("and/or/cc hi/fi/nn plain\n");

        Assert.Equal(" and/or hi/fi plain \n", text.Train.Text);
    }

    [Fact]
    public void WordsAreLowerCased()
    {
        PtbCorpusText text = ConvertTrain("The/at FULTON/np-tl County/nn-tl\n");

        Assert.Equal(" the fulton county \n", text.Train.Text);
    }

    [Fact]
    public void WordsWithoutLetterOrDigitAreDropped()
    {
        PtbCorpusText text = ConvertTrain("``/`` Yes/rb ,/, he's/pps+bez --/-- ok/uh ''/'' ./. //. ;/.\n");

        Assert.Equal(" yes he's ok \n", text.Train.Text);
    }

    [Fact]
    public void NumbersBecomeN()
    {
        PtbCorpusText text = ConvertTrain("1960/cd 3.5/cd 1,000/cd 10:30/cd 1/2/cd 5-6/cd 1st/od '60s/nns 5-year/jj x1/nn\n");

        Assert.Equal(" N N N N N N 1st '60s 5-year x1 \n", text.Train.Text);
    }

    [Fact]
    public void SentencesLeftWithoutWordsAreDropped()
    {
        PtbCorpusText text = ConvertTrain("\n\n\ta/at b/nn\n\n\t,/, ./.\n   \nc/nn\n");

        Assert.Equal(" a b \n c \n", text.Train.Text);
        Assert.Equal(2, text.Train.SentenceCount);
        Assert.Equal(5, text.Train.TokenCount);
    }

    [Fact]
    public void FilesAreSortedByNameAndSplitByIndex()
    {
        var files = new Dictionary<string, string>();
        // Inserted in reverse so that only sorting can put them in order.
        foreach (char genre in "ba")
            for (int n = 10; n >= 1; n--)
                files[$"c{genre}{n:00}"] = $"w{genre}{n:00}/nn\n";
        // ca01 (train) names every file's word first, so that valid and test words are in the vocabulary.
        string all = string.Join(' ', files.Keys.Order(StringComparer.Ordinal).Select(name => $"w{name[1..]}/nn"));
        files["ca01"] = all + "\nwa01/nn\n";
        files["README"] = "readme/nn\n";
        files["cs01"] = "outside/nn\n";
        files["ca1"] = "short/nn\n";
        files["CA11"] = "upper/nn\n";
        files["ca11.txt"] = "suffixed/nn\n";

        PtbCorpusText text = BrownPtbConverter.Convert(files);

        // Sorted: ca01..ca10 (index 0..9), cb01..cb10 (10..19); index % 10 == 8 valid, == 9 test.
        Assert.Equal(" wa09 \n wb09 \n", text.Valid.Text);
        Assert.Equal(" wa10 \n wb10 \n", text.Test.Text);
        Assert.Equal(" " + all.Replace("/nn", "") + " \n"
            + string.Concat(Enumerable.Range(1, 8).Select(n => $" wa{n:00} \n"))
            + string.Concat(Enumerable.Range(1, 8).Select(n => $" wb{n:00} \n")), text.Train.Text);
        Assert.Equal("train.txt", text.Train.FileName);
        Assert.Equal("valid.txt", text.Valid.FileName);
        Assert.Equal("test.txt", text.Test.FileName);
    }

    [Fact]
    public void VocabularyKeepsTheMostFrequentTrainWordsWithTiesByFirstOccurrence()
    {
        // Counts in train: a 2, b 2, c 1, d 1; b occurs before a, c before d.
        PtbCorpusText two = ConvertTrain("b/x a/x c/x\na/x d/x b/x\n", rankedWordCount: 2);
        PtbCorpusText three = ConvertTrain("b/x a/x c/x\na/x d/x b/x\n", rankedWordCount: 3);
        PtbCorpusText one = ConvertTrain("b/x a/x c/x\na/x d/x b/x\n", rankedWordCount: 1);

        Assert.Equal(" b a <unk> \n a <unk> b \n", two.Train.Text);
        Assert.Equal(" b a c \n a <unk> b \n", three.Train.Text);
        Assert.Equal(" b <unk> <unk> \n <unk> <unk> b \n", one.Train.Text);
        Assert.Equal(2 + 2, two.VocabularySize);
        Assert.Equal(3 + 2, three.VocabularySize);
    }

    [Fact]
    public void WordsOutsideTheVocabularyBecomeUnkInEverySplit()
    {
        var files = new Dictionary<string, string>();
        for (int n = 1; n <= 10; n++)
            files[$"ca{n:00}"] = "common/nn\n";
        files["ca01"] = "common/nn common/nn rare/jj\n";
        // Frequent in valid and test, absent from train: not ranked at all.
        files["ca09"] = "common/nn heldout/nn heldout/nn heldout/nn\n";
        files["ca10"] = "rare/jj heldout/nn\n";

        PtbCorpusText text = BrownPtbConverter.Convert(files, rankedWordCount: 1);

        Assert.StartsWith(" common common <unk> \n common \n", text.Train.Text);
        Assert.Equal(" common <unk> <unk> <unk> \n", text.Valid.Text);
        Assert.Equal(" <unk> <unk> \n", text.Test.Text);
        Assert.Equal(3, text.VocabularySize);
    }

    [Fact]
    public void LiteralUnkAndEosBecomeUnkAndTakeNoRank()
    {
        PtbCorpusText text = ConvertTrain("<UNK>/nn <eos>/nn <unk>/nn <eos>/nn a/at\n", rankedWordCount: 1);

        Assert.Equal(" <unk> <unk> <unk> <unk> a \n", text.Train.Text);
        Assert.Equal(3, text.VocabularySize);
    }

    [Fact]
    public void TokenCountsIncludeOneEosPerSentence()
    {
        var files = new Dictionary<string, string>();
        for (int n = 1; n <= 10; n++)
            files[$"cb{n:00}"] = "a/at b/nn\nc/nn\n";

        PtbCorpusText text = BrownPtbConverter.Convert(files);

        Assert.Equal(8 * (3 + 2), text.Train.TokenCount);
        Assert.Equal(8 * 2, text.Train.SentenceCount);
        Assert.Equal(5, text.Valid.TokenCount);
        Assert.Equal(5, text.Test.TokenCount);
    }

    [Fact]
    public void OutputReadsBackAsTheSameTokensThroughPtbCorpus()
    {
        var files = new Dictionary<string, string>();
        for (int n = 1; n <= 10; n++)
            files[$"cc{n:00}"] = $"The/at {n}/cd dogs/nns ,/, w{n}/nn ./.\n\n\tBark/vb !/.\n";

        // Ranked: the, N, dogs, bark (8 each); every w{n} occurs once and becomes <unk>.
        PtbCorpusText text = BrownPtbConverter.Convert(files, rankedWordCount: 4);
        using var folder = new TemporaryFolder();
        foreach (PtbSplitText split in text.Splits)
            folder.Write(split.FileName, split.Text);
        PtbCorpus corpus = PtbCorpus.Load(folder.Path);

        Assert.Equal(text.Train.TokenCount, corpus.Train.Length);
        Assert.Equal(text.Valid.TokenCount, corpus.Valid.Length);
        Assert.Equal(text.Test.TokenCount, corpus.Test.Length);
        Assert.Equal(text.VocabularySize, corpus.Vocabulary.Count);
        Assert.Equal(["the", "N", "dogs", "<unk>", "<eos>", "bark"], corpus.Vocabulary.Words);
    }

    [Theory]
    [InlineData("ca01", true)]
    [InlineData("cr44", true)]
    [InlineData("cs01", false)]
    [InlineData("ca1", false)]
    [InlineData("ca001", false)]
    [InlineData("Ca01", false)]
    [InlineData("ca01\n", false)]
    [InlineData("cats.txt", false)]
    public void CorpusFileNamesAreCAToRFollowedByTwoDigits(string name, bool expected)
    {
        Assert.Equal(expected, BrownPtbConverter.IsCorpusFileName(name));
    }
}
