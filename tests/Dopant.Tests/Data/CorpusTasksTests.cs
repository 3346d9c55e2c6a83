using Dopant.Data;

namespace Dopant.Tests.Data;

public sealed class CorpusTasksTests : IDisposable
{
    private readonly TemporaryFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private string Corpus(string name, string train)
    {
        _folder.Write(System.IO.Path.Combine(name, "train.txt"), train);
        return System.IO.Path.Combine(_folder.Path, name);
    }

    [Theory]
    [InlineData("the cat sat\na dog ran <unk>\n", CorpusTask.LanguageModel)]
    [InlineData("t h e _ c a t\na _ d o g <unk>\n", CorpusTask.CharacterLanguageModel)]
    [InlineData("The\tat\ncat\tnn\n\nA\tat\ndog\tnn\n", CorpusTask.Tagging)]
    [InlineData("news\tThe cat sat .\nfiction\tA dog ran .\n", CorpusTask.Classification)]
    public void The_task_follows_from_the_first_lines_of_train_txt(string train, CorpusTask expected) =>
        Assert.Equal(expected, CorpusTasks.Infer(Corpus("c", train)));

    [Fact]
    public void A_file_that_mixes_labeled_and_plain_lines_is_refused_with_its_line()
    {
        string folder = Corpus("mixed", "The\tat\ncat\tnn\nplain words here\n");
        var error = Assert.Throws<InvalidDataException>(() => CorpusTasks.Infer(folder));
        Assert.Contains("line 3: no TAB", error.Message);
        Assert.Throws<InvalidDataException>(() => CorpusTasks.Infer(Corpus("empty", "\n\n")));
        Assert.Throws<FileNotFoundException>(() => CorpusTasks.Infer(System.IO.Path.Combine(_folder.Path, "none")));
    }

    [Fact]
    public void Names_parse_back_and_labeling_tasks_map_to_their_labeling()
    {
        foreach (CorpusTask task in Enum.GetValues<CorpusTask>()) Assert.Equal(task, CorpusTasks.Parse(task.Name()));
        Assert.Equal(LabelingTask.Tagging, CorpusTask.Tagging.Labeling());
        Assert.Equal(LabelingTask.Classification, CorpusTask.Classification.Labeling());
        Assert.False(CorpusTask.CharacterLanguageModel.IsLabeling());
        Assert.Throws<ArgumentException>(() => CorpusTask.LanguageModel.Labeling());
        Assert.Contains("expected one of: lm, charlm, tag, classify", Assert.Throws<ArgumentException>(() => CorpusTasks.Parse("chars")).Message);
    }

    [Fact]
    public void A_vocabulary_of_single_characters_is_character_level()
    {
        Assert.True(new Vocabulary(["<unk>", "<eos>", "a", "_", "é"]).IsCharacterLevel);
        Assert.False(new Vocabulary(["<unk>", "<eos>", "a", "ab"]).IsCharacterLevel);
        Assert.False(new Vocabulary([]).IsCharacterLevel);
    }
}
