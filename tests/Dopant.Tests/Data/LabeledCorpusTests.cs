using Dopant.Data;
using Dopant.Numerics;

namespace Dopant.Tests.Data;

public sealed class LabeledCorpusTests : IDisposable
{
    private readonly TemporaryFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private string Tagged(string train, string valid = "a\tDT\ncat\tNN\n", string test = "the\tDT\ndog\tNN\n\n")
    {
        _folder.Write("tag/train.txt", train);
        _folder.Write("tag/valid.txt", valid);
        _folder.Write("tag/test.txt", test);
        return Path.Combine(_folder.Path, "tag");
    }

    [Fact]
    public void Tagged_sentences_read_with_the_vocabulary_rule_and_labels_in_first_occurrence_order()
    {
        string folder = Tagged("the\tDT\ncat\tNN\nsat\tVB\n\n\nthe\tDT\ndog\tNN\r\nran\tVB\n\nThe\tDT\ncat\tNN\n");
        LabeledCorpus corpus = LabeledCorpus.Load(folder, LabelingTask.Tagging);
        Assert.Equal(["<unk>", "the", "cat"], corpus.Vocabulary.Words);   // seen twice or more; case kept
        Assert.Equal(["DT", "NN", "VB"], corpus.Labels);
        Assert.Equal(3, corpus.Train.Count);
        Assert.Equal([1, 2, 0], corpus.Train[0].Tokens);
        Assert.Equal([0, 1, 2], corpus.Train[0].Labels);
        Assert.Equal((1, 6, 10), (corpus.Train[0].Line, corpus.Train[1].Line, corpus.Train[2].Line));
        Assert.Equal([0, 2], corpus.Valid[0].Tokens);
        LabeledCorpus all = LabeledCorpus.Load(folder, LabelingTask.Tagging, minCount: 1);
        Assert.Equal(["<unk>", "the", "cat", "sat", "dog", "ran", "The"], all.Vocabulary.Words);
    }

    [Theory]
    [InlineData("the DT\n", "train.txt' line 1: expected word<TAB>tag")]
    [InlineData("the\tDT\ncat\n", "train.txt' line 2: expected word<TAB>tag")]
    [InlineData("\n\n", "train.txt' holds no sentences")]
    public void Malformed_tagged_lines_are_named(string train, string expected) =>
        Assert.Contains(expected, Assert.Throws<InvalidDataException>(() => LabeledCorpus.Load(Tagged(train), LabelingTask.Tagging)).Message);

    [Fact]
    public void A_label_that_training_never_shows_is_refused_with_its_line()
    {
        string folder = Tagged("the\tDT\ncat\tNN\n", valid: "a\tDT\ncat\tXX\n");
        Assert.Contains("valid.txt' line 2: the label 'XX' does not occur in train.txt",
            Assert.Throws<InvalidDataException>(() => LabeledCorpus.Load(folder, LabelingTask.Tagging)).Message);
    }

    [Theory]
    [InlineData("news\tthe cat sat\nsport the dog ran\n", "line 2: expected label<TAB>text")]
    [InlineData("news\tthe cat sat\nsport\t   \n", "line 2: the text is empty")]
    public void Malformed_examples_are_named(string train, string expected)
    {
        _folder.Write("cls/train.txt", train);
        _folder.Write("cls/valid.txt", "news\tthe cat\n");
        _folder.Write("cls/test.txt", "news\ta dog\n");
        Assert.Contains(expected, Assert.Throws<InvalidDataException>(() => LabeledCorpus.Load(Path.Combine(_folder.Path, "cls"), LabelingTask.Classification)).Message);
    }

    [Fact]
    public void Batches_group_similar_lengths_pad_time_major_and_refuse_a_sentence_beyond_the_longest()
    {
        LabeledSentence S(int length, int line) => new([.. Enumerable.Range(1, length)], [.. Enumerable.Range(0, length).Select(k => k % 3)], line);
        LabeledSentence[] sentences = [S(5, 1), S(1, 7), S(3, 9), S(2, 13), S(4, 16)];
        var batches = new SentenceBatches(sentences, LabelingTask.Tagging, batchSize: 2, maxLength: 5, "train.txt");
        Assert.Equal(3, batches.Count);
        var tokens = new int[10];
        var labels = new int[10];
        var lengths = new int[2];
        (int steps, int batch) = batches.Fill(0, tokens, lengths, labels);   // the two shortest: lengths 1 and 2
        Assert.Equal((2, 2), (steps, batch));
        Assert.Equal([1, 2], lengths);
        Assert.Equal([1, 1, 0, 2], tokens[..4]);
        Assert.Equal([0, 0, 0, 1], labels[..4]);
        Assert.Equal(15, batches.Labels);
        int[] order = batches.Order(new Xoshiro256(3));
        Assert.Equal([0, 1, 2], order.Order());
        Assert.Contains("'train.txt' line 1: a sentence of 5 tokens is longer than the longest batch allows (4",
            Assert.Throws<InvalidDataException>(() => new SentenceBatches(sentences, LabelingTask.Tagging, 2, 4, "train.txt")).Message);
    }
}
