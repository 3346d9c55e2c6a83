using Dopant.Data;

namespace Dopant.Tests.Data;

public sealed class VocabularyTests
{
    [Fact]
    public void FromTokensNumbersWordsInFirstOccurrenceOrderAcrossSources()
    {
        Vocabulary vocabulary = Vocabulary.FromTokens(["b", "a", "b"], ["c", "a", "<eos>"], ["<unk>", "d"]);

        Assert.Equal(["b", "a", "c", "<eos>", "<unk>", "d"], vocabulary.Words);
        Assert.Equal(6, vocabulary.Count);
        Assert.Equal(2, vocabulary.GetId("c"));
        Assert.Equal(2, vocabulary["c"]);
        Assert.Equal(3, vocabulary.EndOfSentenceId);
        Assert.Equal(4, vocabulary.UnknownId);
    }

    [Fact]
    public void ExplicitWordListKeepsItsOrder()
    {
        var vocabulary = new Vocabulary(["<eos>", "the", "<unk>"]);

        Assert.Equal(0, vocabulary.EndOfSentenceId);
        Assert.Equal(1, vocabulary.GetId("the"));
        Assert.Equal(2, vocabulary.UnknownId);
    }

    [Fact]
    public void ExplicitWordListRejectsDuplicatesNamingTheWordAndIds()
    {
        var error = Assert.Throws<ArgumentException>(() => new Vocabulary(["a", "b", "a"]));

        Assert.Contains("'a'", error.Message);
        Assert.Contains("0 and 2", error.Message);
    }

    [Fact]
    public void ExplicitWordListRejectsNullWords()
    {
        Assert.Throws<ArgumentNullException>(() => new Vocabulary(["a", null!]));
    }

    [Fact]
    public void MissingSpecialWordsHaveIdMinusOne()
    {
        var vocabulary = new Vocabulary(["a"]);

        Assert.Equal(-1, vocabulary.UnknownId);
        Assert.Equal(-1, vocabulary.EndOfSentenceId);
    }

    [Fact]
    public void TryGetIdFindsWordsGivenAsStringsOrSpans()
    {
        var vocabulary = new Vocabulary(["x", "yz"]);

        Assert.True(vocabulary.TryGetId("yz", out int fromString));
        Assert.True(vocabulary.TryGetId("xyz".AsSpan(1), out int fromSpan));
        Assert.False(vocabulary.TryGetId("q", out int missing));
        Assert.False(vocabulary.TryGetId("Q".AsSpan(), out int missingSpan));

        Assert.Equal(1, fromString);
        Assert.Equal(1, fromSpan);
        Assert.Equal(-1, missing);
        Assert.Equal(-1, missingSpan);
    }

    [Fact]
    public void GetIdOfAnUnknownWordThrowsNamingIt()
    {
        var vocabulary = new Vocabulary(["a"]);

        var error = Assert.Throws<KeyNotFoundException>(() => vocabulary.GetId("zebra"));
        Assert.Contains("'zebra'", error.Message);
        Assert.Throws<KeyNotFoundException>(() => vocabulary["zebra"]);
    }

    [Fact]
    public void GetIdOrUnknownMapsUnknownWordsToUnk()
    {
        var withUnknown = new Vocabulary(["a", "<unk>"]);
        var withoutUnknown = new Vocabulary(["a"]);

        Assert.Equal(0, withUnknown.GetIdOrUnknown("a"));
        Assert.Equal(1, withUnknown.GetIdOrUnknown("zebra"));
        var error = Assert.Throws<KeyNotFoundException>(() => withoutUnknown.GetIdOrUnknown("zebra"));
        Assert.Contains("<unk>", error.Message);
    }

    [Fact]
    public void BuilderGivesNewWordsTheNextIdAndOldWordsTheirOwn()
    {
        var builder = new VocabularyBuilder();

        Assert.Equal(0, builder.Add("a"));
        Assert.Equal(1, builder.Add("bc".AsSpan()));
        Assert.Equal(0, builder.Add("a".AsSpan()));
        Assert.Equal(1, builder.Add("bc"));
        Assert.Equal(2, builder.Count);
        Assert.Equal(["a", "bc"], builder.Build().Words);
    }
}
