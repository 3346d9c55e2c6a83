using Dopant.Data;

namespace Dopant.Tests.Data;

/// <summary>brown-pos, brown-genre and brown-chars from small corpus files: formats, tags, grouping, splits, refusals.</summary>
public sealed class BrownDatasetsTests
{
    // Ten files, so that index 8 (ca09) is valid and index 9 (ca10) is test.
    private static Dictionary<string, string> TenFiles(Func<int, string> content) =>
        Enumerable.Range(1, 10).ToDictionary(i => $"ca{i:00}", i => content(i));

    [Theory]
    [InlineData("nn", "nn")]
    [InlineData("NP-TL", "np")]
    [InlineData("nn-tl-hl", "nn")]
    [InlineData("fw-nn", "nn")]
    [InlineData("fw-in-tl", "in")]
    [InlineData("ppss+md", "ppss+md")]
    [InlineData("np$-hl", "np$")]
    [InlineData("vb-nc", "vb")]
    [InlineData("-tl", "-tl")]
    public void Base_tags_drop_the_title_headline_citation_and_foreign_marks(string tag, string expected) =>
        Assert.Equal(expected, BrownPosConverter.BaseTag(tag));

    [Fact]
    public void Pos_writes_word_tab_tag_lines_with_a_blank_line_after_each_sentence_and_keeps_case_and_punctuation()
    {
        PtbCorpusText text = BrownPosConverter.Convert(new Dictionary<string, string> { ["ca01"] = "\n\tThe/at Fulton/np-tl ,/, said/vbd ./.\n\n\tI'm/ppss+bem here/rb\n", ["cats.txt"] = "" });
        Assert.Equal("The\tat\nFulton\tnp\n,\t,\nsaid\tvbd\n.\t.\n\nI'm\tppss+bem\nhere\trb\n\n", text.Train.Text);
        Assert.Equal(2, text.Train.SentenceCount);
        Assert.Equal(7, text.Train.TokenCount);
        Assert.Equal(7, text.VocabularySize);  // tags
    }

    [Fact]
    public void Pos_splits_by_file_index_and_maps_a_compound_tag_train_never_shows_to_its_first_part()
    {
        PtbCorpusText text = BrownPosConverter.Convert(TenFiles(i => i switch
        {
            9 => "To/to+vb go/vb\n",      // valid: to+vb unseen in train, to seen
            10 => "odd/xx+yy\n",          // test: neither xx+yy nor xx seen: kept, and LabeledCorpus will refuse it
            _ => $"to/to w{i}/vb\n",
        }));
        Assert.Equal("To\tto\ngo\tvb\n\n", text.Valid.Text);
        Assert.Equal("odd\txx+yy\n\n", text.Test.Text);
        Assert.Equal(8, text.Train.SentenceCount);
    }

    [Fact]
    public void Genre_groups_ten_sentences_of_one_file_into_an_example_and_drops_the_short_rest()
    {
        string file = string.Join("\n", Enumerable.Range(0, 23).Select(s => $"w{s}/nn ./."));
        var files = TenFiles(_ => file);
        files["cats.txt"] = string.Join("\n", Enumerable.Range(1, 10).Select(i => $"ca{i:00} {(i % 2 == 0 ? "news" : "humor")}")) + "\n";
        PtbCorpusText text = BrownGenreConverter.Convert(files);
        string[] train = text.Train.Text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(16, train.Length);  // 8 files × 2 whole groups of 10
        Assert.Equal("humor\tw0 . w1 . w2 . w3 . w4 . w5 . w6 . w7 . w8 . w9 .", train[0]);
        Assert.StartsWith("humor\tw10 . ", train[1]);
        Assert.Equal(2, text.Valid.SentenceCount);
        Assert.StartsWith("news\t", text.Test.Text);
        Assert.Equal(2, text.VocabularySize);
    }

    [Fact]
    public void Genre_refuses_a_corpus_without_categories_or_a_file_without_a_genre()
    {
        var files = TenFiles(_ => "a/at\n");
        Assert.Contains("cats.txt", Assert.Throws<InvalidDataException>(() => BrownGenreConverter.Convert(files)).Message);
        files["cats.txt"] = "ca01 news\n";
        Assert.Contains("'ca02'", Assert.Throws<InvalidDataException>(() => BrownGenreConverter.Convert(files)).Message);
        files["cats.txt"] = "ca01\n";
        Assert.Contains("line 1", Assert.Throws<InvalidDataException>(() => BrownGenreConverter.Convert(files)).Message);
    }

    [Fact]
    public void Chars_spells_brown_ptb_text_without_unknown_words_with_underscores_between_words()
    {
        PtbCorpusText text = BrownCharsConverter.Convert(new Dictionary<string, string> { ["ca01"] = "The/at Zyzzyva/nn ,/, 1960/cd ./.\n" });
        Assert.Equal("t h e _ z y z z y v a _ N \n", text.Train.Text);
        Assert.Equal(14, text.Train.TokenCount);  // 13 tokens and the sentence end
        Assert.Equal(10, text.VocabularySize);   // t h e z y v a N, _ and <eos>
    }

    [Fact]
    public void Dataset_names_parse_back_and_unknown_ones_are_refused()
    {
        foreach (BrownDataset dataset in Enum.GetValues<BrownDataset>())
            Assert.Equal(dataset, BrownDatasets.Parse(dataset.Name()));
        Assert.Contains("brown-pos", Assert.Throws<ArgumentException>(() => BrownDatasets.Parse("brown-tags")).Message);
    }
}
