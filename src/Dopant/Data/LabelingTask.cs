namespace Dopant.Data;

/// <summary>What a labeled corpus labels.</summary>
public enum LabelingTask
{
    /// <summary>Every token (part-of-speech tagging): files of <c>word&lt;TAB&gt;tag</c> lines, a blank line after each sentence.</summary>
    Tagging,

    /// <summary>Every example (text classification): files of <c>label&lt;TAB&gt;text</c> lines, one example a line.</summary>
    Classification,
}
