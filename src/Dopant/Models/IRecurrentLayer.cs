using System.Numerics;
using Dopant.Matrices;

namespace Dopant.Models;

/// <summary>
/// One recurrent layer (LSTM or GRU, PyTorch's semantics and state-dict names) whose weight matrices W_ih (G·H × I)
/// and W_hh (G·H × H) are reached through <see cref="IWeightMatrix{T}"/>, so that compressed forms can replace them.
/// </summary>
/// <remarks>
/// Shapes (T steps, B batch, I input, H hidden, G gates): x [T·B, I] time-major, h0 and c0 [B, H] (c only for an LSTM;
/// empty for a GRU), output [T·B, H]. The layer keeps the activations of the last forward for the backward pass.
/// </remarks>
public interface IRecurrentLayer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The cell.</summary>
    RecurrentCell Cell { get; }

    /// <summary>Layer index in the stack (the suffix of its parameter names).</summary>
    int Index { get; }

    /// <summary>Input size I.</summary>
    int InputSize { get; }

    /// <summary>Hidden size H.</summary>
    int HiddenSize { get; }

    /// <summary>W_ih, G·H × I.</summary>
    /// <exception cref="InvalidOperationException">The layer has a combined matrix (<see cref="CombinedWeights"/>).</exception>
    IWeightMatrix<T> InputWeights { get; }

    /// <summary>W_hh, G·H × H.</summary>
    /// <exception cref="InvalidOperationException">The layer has a combined matrix (<see cref="CombinedWeights"/>).</exception>
    IWeightMatrix<T> RecurrentWeights { get; }

    /// <summary>W = [W_ih | W_hh] once an LSTM layer's matrices are combined (<see cref="LstmLayer{T}.CombineWeights"/>); else null.</summary>
    IWeightMatrix<T>? CombinedWeights { get; }

    /// <summary>The layer's weight matrices by state-dict name: W_ih and W_hh, or the combined matrix alone.</summary>
    IReadOnlyList<(string Name, IWeightMatrix<T> Matrix)> WeightMatrices { get; }

    /// <summary>b_ih, G·H.</summary>
    Parameter<T> InputBias { get; }

    /// <summary>b_hh, G·H.</summary>
    Parameter<T> RecurrentBias { get; }

    /// <summary>The state-dict name of W_ih, <c>rnn.weight_ih_l{Index}</c> (a compressed form's tensors start with it).</summary>
    string InputWeightsName { get; }

    /// <summary>The state-dict name of W_hh, <c>rnn.weight_hh_l{Index}</c>.</summary>
    string RecurrentWeightsName { get; }

    /// <summary>The state-dict name of a combined matrix [W_ih | W_hh], <c>rnn.weight_l{Index}</c>.</summary>
    string CombinedWeightsName { get; }

    /// <summary>Stored weights: the forms' <see cref="IWeightMatrix{T}.ParameterCount"/> plus the 2·G·H biases.</summary>
    long ParameterCount { get; }

    /// <summary>Storage bytes: the forms' <see cref="IWeightMatrix{T}.StorageBytes"/> plus the biases.</summary>
    long StorageBytes { get; }

    /// <summary>All parameters in PyTorch's order: weight_ih, weight_hh (or the combined matrix), bias_ih, bias_hh.</summary>
    IEnumerable<Parameter<T>> Parameters { get; }

    /// <summary>Replaces the weight forms (same shapes), e.g. by compressed ones.</summary>
    void ReplaceWeights(IWeightMatrix<T> inputWeights, IWeightMatrix<T> recurrentWeights);

    /// <summary>The outputs h1..hT of the last forward, [T·B, H].</summary>
    ReadOnlySpan<T> Output { get; }

    /// <summary>h_T of the last forward, [B, H].</summary>
    ReadOnlySpan<T> FinalHidden { get; }

    /// <summary>c_T of the last forward, [B, H] for an LSTM; empty for a GRU.</summary>
    ReadOnlySpan<T> FinalCell { get; }

    /// <summary>Runs <paramref name="steps"/> time steps over x [T·B, I] from (h0, c0), keeping the tape for <see cref="Backward"/>.</summary>
    void Forward(ReadOnlySpan<T> x, ReadOnlySpan<T> h0, ReadOnlySpan<T> c0, int steps, int batch);

    /// <summary>
    /// Back-propagates through the last forward, whose input was <paramref name="x"/> [T·B, I].
    /// <paramref name="dOutput"/> is ∂L/∂h_t for t = 1..T, [T·B, H]; <paramref name="dFinalHidden"/> and
    /// <paramref name="dFinalCell"/> (empty means zero) flow in from beyond the window.
    /// Writes ∂L/∂x into <paramref name="dInput"/> and ∂L/∂(h0, c0) into the last two spans (each skipped when empty)
    /// and accumulates the parameter gradients.
    /// </summary>
    void Backward(ReadOnlySpan<T> x, ReadOnlySpan<T> dOutput, Span<T> dInput,
        ReadOnlySpan<T> dFinalHidden, ReadOnlySpan<T> dFinalCell, Span<T> dInitialHidden, Span<T> dInitialCell);
}
