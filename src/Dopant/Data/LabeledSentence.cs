namespace Dopant.Data;

/// <summary>
/// A sentence as token ids with its labels: one per token for tagging, a single one for classification; and the line
/// of its file where it starts, for messages.
/// </summary>
/// <param name="Tokens">The token ids, at least one.</param>
/// <param name="Labels">The label ids: as many as tokens (tagging) or one (classification).</param>
/// <param name="Line">The 1-based line of the file where the sentence starts.</param>
public sealed record LabeledSentence(int[] Tokens, int[] Labels, int Line);
