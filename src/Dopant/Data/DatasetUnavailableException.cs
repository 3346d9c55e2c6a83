namespace Dopant.Data;

/// <summary>
/// A data set could not be fetched (its tool is missing, failed or timed out); the message is one line that
/// says why and what to use instead.
/// </summary>
public sealed class DatasetUnavailableException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">One line: why, and what to do instead.</param>
    public DatasetUnavailableException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with the failure that caused it.</summary>
    /// <param name="message">One line: why, and what to do instead.</param>
    /// <param name="innerException">The failure that caused it.</param>
    public DatasetUnavailableException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception with the full output of the tool that failed.</summary>
    /// <param name="message">One line: why, and what to do instead.</param>
    /// <param name="toolOutput">The tool's standard output and error, for a log or a verbose mode.</param>
    /// <param name="innerException">The failure that caused it, if any.</param>
    public DatasetUnavailableException(string message, string? toolOutput, Exception? innerException)
        : base(message, innerException) => ToolOutput = toolOutput;

    /// <summary>The full output of the tool that failed, when one ran.</summary>
    public string? ToolOutput { get; }
}
