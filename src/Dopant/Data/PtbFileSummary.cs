namespace Dopant.Data;

/// <summary>One file of a prepared PTB-format folder.</summary>
/// <param name="Path">The file's full path.</param>
/// <param name="Sha256">The SHA-256 of its bytes, lower-case hex.</param>
/// <param name="SentenceCount">The number of lines.</param>
/// <param name="TokenCount">The number of tokens, one <c>&lt;eos&gt;</c> a line included.</param>
/// <param name="Reused">True when the file already held exactly this content and was left untouched.</param>
public sealed record PtbFileSummary(string Path, string Sha256, int SentenceCount, int TokenCount, bool Reused);
