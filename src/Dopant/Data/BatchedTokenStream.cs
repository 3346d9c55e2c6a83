namespace Dopant.Data;

/// <summary>
/// A token stream cut into <see cref="BatchSize"/> contiguous segments that are read side by side, one token of
/// each per time step: PyTorch's <c>batchify</c> from examples/word_language_model.
/// </summary>
/// <remarks>
/// The stream is trimmed to <see cref="Length"/> · <see cref="BatchSize"/> tokens and segment <c>b</c> holds
/// tokens <c>b·Length .. (b+1)·Length - 1</c>, so the token at time <c>t</c> in column <c>b</c> is
/// <c>tokens[b·Length + t]</c>. Storage is one row-major [time][batch] array, so a window's inputs and targets
/// are each one contiguous copy.
/// </remarks>
public sealed class BatchedTokenStream
{
    private readonly int[] _data;

    /// <summary>Lays out <paramref name="tokens"/> as <paramref name="batchSize"/> side-by-side segments.</summary>
    /// <param name="tokens">The token ids; the last <c>tokens.Length % batchSize</c> are dropped.</param>
    /// <param name="batchSize">The number of segments (columns).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> is not positive.</exception>
    /// <exception cref="ArgumentException">There are fewer tokens than <paramref name="batchSize"/>.</exception>
    public BatchedTokenStream(ReadOnlySpan<int> tokens, int batchSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        if (tokens.Length < batchSize)
            throw new ArgumentException($"A stream of {tokens.Length} tokens cannot fill a batch of {batchSize} columns.", nameof(tokens));
        BatchSize = batchSize;
        Length = tokens.Length / batchSize;
        _data = new int[Length * batchSize];
        for (int b = 0; b < batchSize; b++)
        {
            ReadOnlySpan<int> segment = tokens.Slice(b * Length, Length);
            for (int t = 0; t < Length; t++)
                _data[t * batchSize + b] = segment[t];
        }
    }

    /// <summary>The number of columns: segments read side by side.</summary>
    public int BatchSize { get; }

    /// <summary>The number of time steps (rows): tokens per column.</summary>
    public int Length { get; }

    /// <summary>
    /// The number of tokens predicted in one pass over all windows, <c>(Length - 1) · BatchSize</c>: every token
    /// but each column's first is a target exactly once.
    /// </summary>
    public long TargetCount => (long)(Length - 1) * BatchSize;

    /// <summary>The token at time <paramref name="t"/> in column <paramref name="b"/>.</summary>
    /// <param name="t">The time step, 0 ≤ t &lt; <see cref="Length"/>.</param>
    /// <param name="b">The column, 0 ≤ b &lt; <see cref="BatchSize"/>.</param>
    public int this[int t, int b]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)t, (uint)Length, nameof(t));
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)b, (uint)BatchSize, nameof(b));
            return _data[t * BatchSize + b];
        }
    }

    /// <summary>The <see cref="BatchSize"/> tokens at time <paramref name="t"/>, one per column.</summary>
    /// <param name="t">The time step, 0 ≤ t &lt; <see cref="Length"/>.</param>
    /// <returns>The row.</returns>
    public ReadOnlySpan<int> Row(int t)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)t, (uint)Length, nameof(t));
        return _data.AsSpan(t * BatchSize, BatchSize);
    }

    /// <summary>The number of windows <see cref="Windows"/> yields for <paramref name="bptt"/>.</summary>
    /// <param name="bptt">The longest window, in time steps.</param>
    /// <returns><c>ceil((Length - 1) / bptt)</c>.</returns>
    public int WindowCount(int bptt)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bptt);
        return (int)(((long)Length - 1 + bptt - 1) / bptt);
    }

    /// <summary>
    /// The window starting at <paramref name="start"/>: <c>min(bptt, Length - 1 - start)</c> steps, so that its
    /// targets stay inside the stream (PyTorch's <c>get_batch</c>).
    /// </summary>
    /// <param name="start">The first input row, 0 ≤ start &lt; <see cref="Length"/> - 1.</param>
    /// <param name="bptt">The longest window, in time steps.</param>
    /// <returns>The window.</returns>
    public BpttWindow WindowAt(int start, int bptt)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bptt);
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(start, Length - 1);
        return new BpttWindow(start, Math.Min(bptt, Length - 1 - start));
    }

    /// <summary>
    /// The windows of one pass, starting at 0, <paramref name="bptt"/>, 2·<paramref name="bptt"/>, ...; the
    /// last may be shorter.
    /// </summary>
    /// <param name="bptt">The longest window, in time steps.</param>
    /// <returns>The windows in order.</returns>
    public IEnumerable<BpttWindow> Windows(int bptt)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bptt);
        return Enumerate(bptt);

        IEnumerable<BpttWindow> Enumerate(int step)
        {
            for (long start = 0; start < Length - 1; start += step)
                yield return WindowAt((int)start, step);
        }
    }

    /// <summary>
    /// Copies a window's inputs and targets into caller-owned buffers, time-major (<c>[t·BatchSize + b]</c>), so
    /// training can reuse one pair of buffers for every window.
    /// </summary>
    /// <param name="window">The window, as from <see cref="Windows"/> or <see cref="WindowAt"/>.</param>
    /// <param name="inputs">Receives rows <c>Start .. Start + Length - 1</c>; at least <c>Length · BatchSize</c> long.</param>
    /// <param name="targets">Receives rows <c>Start + 1 .. Start + Length</c>; at least <c>Length · BatchSize</c> long.</param>
    /// <returns>The number of values written to each buffer, <c>window.Length · BatchSize</c>.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The window does not fit the stream.</exception>
    /// <exception cref="ArgumentException">A buffer is too short.</exception>
    public int CopyWindow(BpttWindow window, Span<int> inputs, Span<int> targets)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(window.Start, nameof(window));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(window.Length, nameof(window));
        if ((long)window.Start + window.Length >= Length)
            throw new ArgumentOutOfRangeException(nameof(window), window, $"The window's targets run past the stream's {Length} time steps.");
        int count = window.Length * BatchSize;
        if (inputs.Length < count)
            throw new ArgumentException($"The inputs buffer holds {inputs.Length} values; the window needs {count}.", nameof(inputs));
        if (targets.Length < count)
            throw new ArgumentException($"The targets buffer holds {targets.Length} values; the window needs {count}.", nameof(targets));
        _data.AsSpan(window.Start * BatchSize, count).CopyTo(inputs);
        _data.AsSpan((window.Start + 1) * BatchSize, count).CopyTo(targets);
        return count;
    }
}
