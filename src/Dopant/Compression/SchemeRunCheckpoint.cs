using Dopant.IO;

namespace Dopant.Compression;

/// <summary>
/// A <see cref="SchemeCompressionRun"/>'s checkpoint files in one safetensors file, so that the run can resume on another
/// machine (a search trial's checkpoint in a trial storage): the output (the fine-tuning checkpoint) as the U8 tensor
/// <c>output</c> and the L-C state as <c>lc_state</c>, each present when the run has written it, marked by the metadata
/// key <see cref="MarkerKey"/>.
/// </summary>
public static class SchemeRunCheckpoint
{
    /// <summary>The metadata key that marks a packed checkpoint.</summary>
    public const string MarkerKey = "dopant.scheme_run_checkpoint";

    private const string OutputTensor = "output", StateTensor = "lc_state";

    /// <summary>The run's checkpoint files packed, or null when the run writing <paramref name="output"/> has written neither.</summary>
    public static byte[]? Pack(string output)
    {
        ArgumentException.ThrowIfNullOrEmpty(output);
        var tensors = new List<SafeTensor>();
        foreach ((string name, string path) in (ReadOnlySpan<(string, string)>)[(OutputTensor, output), (StateTensor, SchemeCompressionRun.StatePath(output))])
            if (File.Exists(path))
            {
                byte[] bytes = File.ReadAllBytes(path);
                tensors.Add(SafeTensor.FromBytes(name, SafeTensorsDType.UInt8, bytes, bytes.Length));
            }
        if (tensors.Count == 0) return null;
        using var stream = new MemoryStream();
        new SafeTensorsFile(tensors, new Dictionary<string, string> { [MarkerKey] = "1" }).Write(stream);
        return stream.ToArray();
    }

    /// <summary>
    /// Writes a packed checkpoint's files for a run writing <paramref name="output"/>, to resume it with
    /// <see cref="SchemeCompressionRun.Run"/>; a finished run's model (not packed) is written as the output, which
    /// resuming evaluates again.
    /// </summary>
    /// <exception cref="InvalidDataException">The bytes are neither a packed checkpoint nor a safetensors file.</exception>
    public static void Unpack(ReadOnlyMemory<byte> checkpoint, string output)
    {
        ArgumentException.ThrowIfNullOrEmpty(output);
        SafeTensorsFile file = SafeTensorsReader.Parse(checkpoint, "the stored checkpoint");
        if (!file.Metadata.ContainsKey(MarkerKey))
        {
            AtomicFile.Write(output, stream => stream.Write(checkpoint.Span));
            return;
        }
        foreach ((string name, string path) in (ReadOnlySpan<(string, string)>)[(OutputTensor, output), (StateTensor, SchemeCompressionRun.StatePath(output))])
            if (file.TryGetTensor(name, out SafeTensor? tensor))
                AtomicFile.Write(path, stream => stream.Write(tensor.AsSpan<byte>()));
    }
}
