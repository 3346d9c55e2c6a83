namespace Dopant.Cli;

/// <summary>Writes each progress message as a line on standard error, synchronously.</summary>
internal sealed class LineProgress : IProgress<string>
{
    public void Report(string value) => Console.Error.WriteLine(value);
}
