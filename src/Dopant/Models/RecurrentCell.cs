using System.Text.Json.Serialization;

namespace Dopant.Models;

/// <summary>The recurrent cell of a layer, with PyTorch's gate order and biases.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<RecurrentCell>))]
public enum RecurrentCell
{
    /// <summary>torch.nn.LSTM: gates i, f, g, o (4H rows), state (h, c).</summary>
    [JsonStringEnumMemberName("lstm")]
    Lstm,

    /// <summary>torch.nn.GRU: gates r, z, n (3H rows), state h.</summary>
    [JsonStringEnumMemberName("gru")]
    Gru,
}

/// <summary>What a <see cref="RecurrentCell"/> implies for a layer's shapes.</summary>
public static class RecurrentCells
{
    /// <summary>The gate blocks stacked in W_ih, W_hh and the biases: 4 for an LSTM, 3 for a GRU.</summary>
    public static int GateCount(this RecurrentCell cell) => cell switch
    {
        RecurrentCell.Lstm => 4,
        RecurrentCell.Gru => 3,
        _ => throw new ArgumentOutOfRangeException(nameof(cell), cell, "Unknown recurrent cell."),
    };

    /// <summary>Whether the state carries a cell vector c beside h (LSTM).</summary>
    public static bool HasCellState(this RecurrentCell cell) => cell == RecurrentCell.Lstm;

    /// <summary>The name used in files and on the command line: <c>lstm</c> or <c>gru</c>.</summary>
    public static string Name(this RecurrentCell cell) => cell switch
    {
        RecurrentCell.Lstm => "lstm",
        RecurrentCell.Gru => "gru",
        _ => throw new ArgumentOutOfRangeException(nameof(cell), cell, "Unknown recurrent cell."),
    };

    /// <summary>Parses <c>lstm</c> or <c>gru</c> (any case).</summary>
    /// <exception cref="ArgumentException">Any other name, quoted in the message.</exception>
    public static RecurrentCell Parse(string name) => name?.ToLowerInvariant() switch
    {
        "lstm" => RecurrentCell.Lstm,
        "gru" => RecurrentCell.Gru,
        _ => throw new ArgumentException($"Unknown recurrent cell '{name}'; Dopant supports lstm and gru."),
    };
}
