namespace Dopant.Data;

/// <summary>The corpora Dopant prepares from the Brown corpus, one per application.</summary>
public enum BrownDataset
{
    /// <summary>"brown-ptb": word language modeling (<see cref="BrownPtbConverter"/>).</summary>
    Ptb,

    /// <summary>"brown-pos": part-of-speech tagging (<see cref="BrownPosConverter"/>).</summary>
    PartOfSpeech,

    /// <summary>"brown-genre": genre classification (<see cref="BrownGenreConverter"/>).</summary>
    Genre,

    /// <summary>"brown-chars": character language modeling (<see cref="BrownCharsConverter"/>).</summary>
    Characters,
}

/// <summary>Names and conversions of <see cref="BrownDataset"/>.</summary>
public static class BrownDatasets
{
    private static readonly string[] Names = ["brown-ptb", "brown-pos", "brown-genre", "brown-chars"];

    /// <summary>Every dataset's name, in enum order.</summary>
    public static IReadOnlyList<string> All => Names;

    /// <summary>The dataset's name, e.g. <c>brown-pos</c>; also its cache folder's name.</summary>
    public static string Name(this BrownDataset dataset) => Names[(int)dataset];

    /// <summary>Parses a name of <see cref="All"/>.</summary>
    /// <exception cref="ArgumentException">Not a dataset's name; the message lists them.</exception>
    public static BrownDataset Parse(string name)
    {
        int index = Array.IndexOf(Names, name);
        return index >= 0 ? (BrownDataset)index : throw new ArgumentException($"Unknown dataset '{name}'; expected one of: {string.Join(", ", Names)}.");
    }

    /// <summary>What the count of <see cref="PreparedPtbFolder.VocabularySize"/> counts for the dataset.</summary>
    public static string CountedUnit(this BrownDataset dataset) => dataset switch
    {
        BrownDataset.Ptb => "words",
        BrownDataset.PartOfSpeech => "tags",
        BrownDataset.Genre => "genres",
        _ => "symbols",
    };

    /// <summary>Converts the package's files (corpus files and <c>cats.txt</c>) to the dataset's three splits.</summary>
    public static PtbCorpusText Convert(this BrownDataset dataset, IReadOnlyDictionary<string, string> files) => dataset switch
    {
        BrownDataset.Ptb => BrownPtbConverter.Convert(files),
        BrownDataset.PartOfSpeech => BrownPosConverter.Convert(files),
        BrownDataset.Genre => BrownGenreConverter.Convert(files),
        BrownDataset.Characters => BrownCharsConverter.Convert(files),
        _ => throw new ArgumentOutOfRangeException(nameof(dataset), dataset, "Unknown Brown dataset."),
    };
}
