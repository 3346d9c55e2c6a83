using System.Text.Json.Serialization;

namespace Dopant.Models;

/// <summary>What a sentence model predicts.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<LabelHead>))]
public enum LabelHead
{
    /// <summary>A label for every token (tagging): the top layer's output at each position through the decoder.</summary>
    [JsonStringEnumMemberName("token_labels")]
    TokenLabels,

    /// <summary>One label per sentence (classification): the top layer's output pooled over the sentence (<see cref="SentencePooling"/>).</summary>
    [JsonStringEnumMemberName("sequence_label")]
    SequenceLabel,
}

/// <summary>How a sequence-label head pools the top layer's outputs over a sentence.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<SentencePooling>))]
public enum SentencePooling
{
    /// <summary>The final states: the forward direction's h after the last word, and the reverse direction's after the first (PyTorch's h_n).</summary>
    [JsonStringEnumMemberName("final")]
    Final,

    /// <summary>The mean of the outputs over the sentence's positions.</summary>
    [JsonStringEnumMemberName("mean")]
    Mean,
}
