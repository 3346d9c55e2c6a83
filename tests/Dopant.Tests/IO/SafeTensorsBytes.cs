using System.Buffers.Binary;
using System.Text;
using Dopant.IO;

namespace Dopant.Tests.IO;

/// <summary>Builds safetensors files byte by byte, independently of the writer under test.</summary>
internal static class SafeTensorsBytes
{
    /// <summary>The length field, the header text as UTF-8 followed by <paramref name="padding"/> spaces, then the data.</summary>
    public static byte[] Build(string header, ReadOnlySpan<byte> data, int padding = 0) =>
        Build(Encoding.UTF8.GetBytes(header + new string(' ', padding)), data);

    /// <summary>The length field, the raw header bytes, then the data.</summary>
    public static byte[] Build(ReadOnlySpan<byte> header, ReadOnlySpan<byte> data)
    {
        var bytes = new byte[8 + header.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)header.Length);
        header.CopyTo(bytes.AsSpan(8));
        data.CopyTo(bytes.AsSpan(8 + header.Length));
        return bytes;
    }

    /// <summary>A header followed by <paramref name="dataLength"/> zero bytes of data.</summary>
    public static byte[] Build(string header, int dataLength) => Build(header, new byte[dataLength]);

    public static SafeTensorsFile Read(byte[] bytes) => SafeTensorsFile.Read(new MemoryStream(bytes, writable: false));

    public static byte[] Write(SafeTensorsFile file)
    {
        var stream = new MemoryStream();
        file.Write(stream);
        return stream.ToArray();
    }

    /// <summary>The header text of a written file, padding included.</summary>
    public static string HeaderText(byte[] file) =>
        Encoding.UTF8.GetString(file, 8, (int)BinaryPrimitives.ReadUInt64LittleEndian(file));
}
