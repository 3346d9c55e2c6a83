using Dopant.Tests.Data;

namespace Dopant.Tests.Cli;

/// <summary>A PTB-format corpus of a few repeated sentences, small enough for end-to-end command tests.</summary>
internal static class TinyCorpus
{
    /// <summary>Writes <c>data/train.txt</c>, <c>valid.txt</c> and <c>test.txt</c> into <paramref name="folder"/> and returns the data folder.</summary>
    public static string Write(TemporaryFolder folder)
    {
        string[] sentences = ["the cat sat on the mat", "a dog ran in the park", "the bird sang a song", "my cat likes the dog"];
        var random = new Random(7);
        string Text(int lines) => string.Concat(Enumerable.Range(0, lines).Select(_ => " " + sentences[random.Next(sentences.Length)] + " \n"));
        folder.Write("data/train.txt", Text(120));
        folder.Write("data/valid.txt", Text(20));
        folder.Write("data/test.txt", Text(20));
        return Path.Combine(folder.Path, "data");
    }
}
