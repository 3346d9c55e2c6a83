namespace Dopant.Data;

/// <summary>A PTB-format folder written (or found up to date) on disk, ready for <see cref="PtbCorpus.Load(string)"/>.</summary>
/// <param name="Folder">The folder's full path.</param>
/// <param name="Train">The <c>train.txt</c> file.</param>
/// <param name="Valid">The <c>valid.txt</c> file.</param>
/// <param name="Test">The <c>test.txt</c> file.</param>
/// <param name="VocabularySize">The number of distinct tokens, <c>&lt;unk&gt;</c> and <c>&lt;eos&gt;</c> included.</param>
public sealed record PreparedPtbFolder(string Folder, PtbFileSummary Train, PtbFileSummary Valid, PtbFileSummary Test, int VocabularySize)
{
    /// <summary>The files in the order train, valid, test.</summary>
    public IReadOnlyList<PtbFileSummary> Files => [Train, Valid, Test];
}
