namespace Dopant.Training;

/// <summary>
/// How well a tagger or classifier labels a split: accuracy over all labels, over the tokens whose word training never
/// showed (tagging), and the macro-averaged F1 over the labels that occur in the split or are predicted.
/// </summary>
/// <param name="Labels">Labels scored (tokens, or sentences).</param>
/// <param name="Accuracy">Correct / labels.</param>
/// <param name="UnknownWordLabels">Tagging: tokens read as <c>&lt;unk&gt;</c> (words outside the vocabulary: unseen in training, or seen fewer than <see cref="LabelerOptions.MinCount"/> times); 0 for classification.</param>
/// <param name="UnknownWordAccuracy">Accuracy on those tokens (NaN when there are none).</param>
/// <param name="MacroF1">The mean over labels of 2·precision·recall / (precision + recall).</param>
/// <param name="Loss">Mean cross-entropy per label (natural log).</param>
public sealed record LabelingScore(long Labels, double Accuracy, long UnknownWordLabels, double UnknownWordAccuracy, double MacroF1, double Loss);
