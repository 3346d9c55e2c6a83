using System.Text.RegularExpressions;

namespace Dopant.Tests;

/// <summary>
/// The C# examples of docs/GUIDE.md compile: samples/GuideExamples (built with the tests, which reference it) must hold
/// every csharp block of the guide, its using lines at the top of one file and its other lines in that file in order.
/// </summary>
public class GuideExamplesTests
{
    internal static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
            if (File.Exists(Path.Combine(folder.FullName, "Dopant.slnx"))) return folder.FullName;
        throw new DirectoryNotFoundException("The repository (Dopant.slnx) is not above the test binaries.");
    }

    [Fact]
    public void Every_csharp_block_of_the_guide_is_in_the_compiled_samples()
    {
        string root = RepositoryRoot();
        string guide = File.ReadAllText(Path.Combine(root, "docs", "GUIDE.md"));
        string[] blocks = [.. Regex.Matches(guide, "```csharp\n(.*?)```", RegexOptions.Singleline).Select(m => m.Groups[1].Value)];
        Assert.True(blocks.Length >= 3, $"the guide has {blocks.Length} csharp blocks");
        string[][] samples = [.. Directory.GetFiles(Path.Combine(root, "samples", "GuideExamples"), "*.cs")
            .Select(f => File.ReadAllLines(f).Select(l => l.Trim()).ToArray())];
        foreach (string block in blocks)
        {
            string[] lines = [.. block.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0)];
            string[] usings = [.. lines.Where(l => l.StartsWith("using ", StringComparison.Ordinal))];
            string[] body = [.. lines.Where(l => !l.StartsWith("using ", StringComparison.Ordinal))];
            Assert.True(samples.Any(file => usings.All(file.Contains) && ContainsInOrder(file, body)),
                $"no file of samples/GuideExamples holds the guide's block starting '{body.FirstOrDefault()}'");
        }
    }

    private static bool ContainsInOrder(string[] file, string[] body)
    {
        for (int start = 0; start + body.Length <= file.Length; start++)
            if (file.AsSpan(start, body.Length).SequenceEqual(body)) return true;
        return false;
    }
}
