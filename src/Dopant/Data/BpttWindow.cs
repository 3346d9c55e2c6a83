namespace Dopant.Data;

/// <summary>
/// One truncated-backpropagation-through-time window of a <see cref="BatchedTokenStream"/>: inputs are rows
/// <see cref="Start"/> .. <see cref="Start"/> + <see cref="Length"/> - 1, targets the rows one step later.
/// </summary>
/// <param name="Start">The time step of the first input row.</param>
/// <param name="Length">The number of time steps.</param>
public readonly record struct BpttWindow(int Start, int Length);
