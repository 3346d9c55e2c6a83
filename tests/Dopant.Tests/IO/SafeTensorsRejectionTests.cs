using System.Buffers.Binary;
using System.Text;
using Dopant.IO;

namespace Dopant.Tests.IO;

public sealed class SafeTensorsRejectionTests
{
    private const string A = "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}";

    private static InvalidDataException Rejects(byte[] bytes)
    {
        var error = Assert.Throws<InvalidDataException>(() => SafeTensorsBytes.Read(bytes));
        Assert.StartsWith("Invalid safetensors data: ", error.Message);
        Assert.DoesNotContain('\n', error.Message);
        return error;
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(7)]
    public void Rejects_files_shorter_than_the_length_field(int length)
    {
        Assert.Contains($"it is {length} bytes long, shorter than the 8-byte header length", Rejects(new byte[length]).Message);
    }

    [Theory]
    [InlineData(63UL, "the header length 63 exceeds the 62 bytes after the length field")]
    [InlineData(ulong.MaxValue, "the header length 18446744073709551615 exceeds the 62 bytes")]
    [InlineData(9223372036854775808UL, "the header length 9223372036854775808 exceeds")]
    public void Rejects_header_lengths_beyond_the_file(ulong headerLength, string expected)
    {
        byte[] bytes = SafeTensorsBytes.Build("{" + A + "}", 8);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, headerLength);
        Assert.Contains(expected, Rejects(bytes).Message);
    }

    [Fact]
    public void Rejects_a_header_length_over_the_cap_without_allocating_it()
    {
        var prefix = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, 150_000_000);
        var stream = new ClaimedLengthStream(prefix, claimedLength: 200_000_000);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var error = Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Read(stream));
        Assert.Contains("the header length 150000000 exceeds the 100000000-byte limit", error.Message);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1_000_000);
    }

    [Fact]
    public void Rejects_a_data_buffer_larger_than_an_array_before_allocating_it()
    {
        byte[] prefix = SafeTensorsBytes.Build("{}      ", 0);
        var error = Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Read(new ClaimedLengthStream(prefix, 5L << 30)));
        Assert.Contains("exceeds the", error.Message);
        Assert.Contains("bytes this reader can hold", error.Message);
    }

    [Theory]
    [InlineData("", "does not start with '{'")]
    [InlineData("[]", "does not start with '{'")]
    [InlineData(" {}", "does not start with '{'")]
    [InlineData("\"{}\"", "does not start with '{'")]
    [InlineData("{\"a\":", "the header is not valid JSON")]
    [InlineData("{} {}", "the header is not valid JSON")]
    [InlineData("{\"a\":1,}", "the header is not valid JSON")]
    [InlineData("{/*c*/}", "the header is not valid JSON")]
    [InlineData("{}\0\0", "the header is not valid JSON")]
    [InlineData("{\"a\":[[[[[[[[[[]]]]]]]]]]}", "the header is not valid JSON")]
    [InlineData("{\"\\ud800\":{}}", "undecodable string")]
    [InlineData("{\"a\":[]}", "tensor 'a' is a JSON array, not an object")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[]}}", "tensor 'a' has no \"data_offsets\"")]
    [InlineData("{\"a\":{\"shape\":[],\"data_offsets\":[0,4]}}", "tensor 'a' has no \"dtype\"")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", "tensor 'a' has no \"shape\"")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4],\"extra\":1}}", "tensor 'a' has an unknown field 'extra'")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}}", "tensor 'a' has two \"dtype\" fields")]
    [InlineData("{\"a\":{\"dtype\":\"F17\",\"shape\":[],\"data_offsets\":[0,4]}}", "tensor 'a' has unknown dtype 'F17'")]
    [InlineData("{\"a\":{\"dtype\":\"f32\",\"shape\":[],\"data_offsets\":[0,4]}}", "tensor 'a' has unknown dtype 'f32'")]
    [InlineData("{\"a\":{\"dtype\":32,\"shape\":[],\"data_offsets\":[0,4]}}", "tensor 'a' has a \"dtype\" that is a JSON number, not a string")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", "tensor 'a' has a \"shape\" that is not an array of non-negative integers")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[1.0],\"data_offsets\":[0,4]}}", "not an array of non-negative integers")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[\"1\"],\"data_offsets\":[0,4]}}", "not an array of non-negative integers")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":1,\"data_offsets\":[0,4]}}", "not an array of non-negative integers")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[99999999999999999999],\"data_offsets\":[0,4]}}", "not an array of non-negative integers")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,4]}}", "tensor 'a' has shape [4294967296, 4294967296], too large to address")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[2305843009213693952],\"data_offsets\":[0,4]}}", "too large to address")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", "tensor 'a' has \"data_offsets\" that are not [begin, end]")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", "not [begin, end]")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", "not [begin, end]")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":{}}}", "not [begin, end]")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}", "tensor 'a' has data_offsets [4, 0] that end before they begin")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12]}}", "tensor 'a' has data_offsets [0, 12] beyond the 8-byte data buffer")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,8]}}", "tensor 'a' has data_offsets [0, 8] spanning 8 bytes, but F32 shape [1] needs 4")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[2,6]}}", "tensors 'a' [0, 4] and 'b' [2, 6] overlap")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[4,4]}}", "tensors 'a' [0, 8] and 'b' [4, 4] overlap")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", "tensors 'a' [0, 8] and 'b' [0, 8] overlap")]
    [InlineData("{\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]},\"b\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[6,8]}}", "data bytes [2, 6) between tensors 'a' and 'b' belong to no tensor")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", "data bytes [0, 4) before tensor 'a' belong to no tensor")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", "the last 4 of the 8 data bytes belong to no tensor")]
    [InlineData("{}", "the last 8 of the 8 data bytes belong to no tensor")]
    [InlineData("{" + A + "," + A + "}", "the header has two entries named 'a'")]
    [InlineData("{\"__metadata__\":{},\"__metadata__\":{}," + A + "}", "two entries named '__metadata__'")]
    [InlineData("{\"__metadata__\":[]," + A + "}", "__metadata__ is a JSON array, not an object of strings")]
    [InlineData("{\"__metadata__\":\"x\"," + A + "}", "__metadata__ is a JSON string, not an object of strings")]
    [InlineData("{\"__metadata__\":{\"lr\":0.1}," + A + "}", "__metadata__ entry 'lr' is a JSON number, not a string")]
    [InlineData("{\"__metadata__\":{\"cfg\":{\"a\":\"b\"}}," + A + "}", "__metadata__ entry 'cfg' is a JSON object, not a string")]
    [InlineData("{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}," + A + "}", "__metadata__ has two entries named 'k'")]
    [InlineData("{\"a\":{\"dtype\":\"BOOL\",\"shape\":[8],\"data_offsets\":[0,8]}}", "BOOL tensor 'a' holds the byte 2")]
    public void Rejects_invalid_headers_with_a_message_naming_the_problem(string header, string expected)
    {
        byte[] data = [0, 1, 2, 3, 4, 5, 6, 7];
        Assert.Contains(expected, Rejects(SafeTensorsBytes.Build(header, data)).Message);
    }

    [Fact]
    public void Rejects_invalid_utf8()
    {
        byte[] header = [.. "{\"a"u8, 0xFF, .. "\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[0,0]}}"u8];
        Assert.Contains("the header is not valid UTF-8", Rejects(SafeTensorsBytes.Build(header, [])).Message);
        byte[] overlong = [.. "{\"a"u8, 0xC0, 0xAF, .. "\":{}}"u8];
        Assert.Contains("the header is not valid UTF-8", Rejects(SafeTensorsBytes.Build(overlong, [])).Message);
    }

    [Fact]
    public void Long_or_multiline_names_stay_on_one_short_line()
    {
        string name = "line1\nline2" + new string('x', 500);
        string header = "{\"" + name.Replace("\n", "\\n") + "\":{\"dtype\":\"F17\",\"shape\":[],\"data_offsets\":[0,0]}}";
        string message = Rejects(SafeTensorsBytes.Build(header, 0)).Message;
        Assert.Contains("'line1\\u000aline2xxx", message);
        Assert.True(message.Length < 250, message);
    }

    [Fact]
    public void Load_names_the_file_in_the_message()
    {
        string path = Path.Combine(Path.GetTempPath(), $"dopant-bad-{Guid.NewGuid():N}.safetensors");
        try
        {
            File.WriteAllBytes(path, SafeTensorsBytes.Build("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 5));
            var error = Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Load(path));
            Assert.Equal($"Invalid safetensors file '{path}': the last 1 of the 5 data bytes belong to no tensor.", error.Message);

            File.WriteAllBytes(path, [1, 2, 3]);
            error = Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Load(path));
            Assert.Equal($"Invalid safetensors file '{path}': it is 3 bytes long, shorter than the 8-byte header length.", error.Message);

            using (FileStream stream = File.OpenRead(path))
                Assert.Contains($"'{path}'", Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Read(stream)).Message);
            Assert.Contains("'named'", Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Read(new MemoryStream([1]), "named")).Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Load_of_a_missing_file_throws_FileNotFoundException_naming_it()
    {
        string path = Path.Combine(Path.GetTempPath(), $"dopant-missing-{Guid.NewGuid():N}.safetensors");
        var error = Assert.Throws<FileNotFoundException>(() => SafeTensorsFile.Load(path));
        Assert.Contains(path, error.Message);
    }

    [Fact]
    public void Load_of_a_directory_throws_IOException_saying_so()
    {
        string directory = Directory.CreateTempSubdirectory("dopant-dir-").FullName;
        try
        {
            var error = Assert.Throws<IOException>(() => SafeTensorsFile.Load(directory));
            Assert.Equal($"'{directory}' is a directory, not a safetensors file.", error.Message);
        }
        finally
        {
            Directory.Delete(directory);
        }
    }

    [Fact]
    public void Non_seekable_streams_are_checked_as_strictly()
    {
        byte[] bytes = SafeTensorsBytes.Build("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 6);
        var error = Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Read(new NonSeekableStream(bytes)));
        Assert.Contains("the last 2 of the 6 data bytes belong to no tensor", error.Message);
        Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Read(new NonSeekableStream(Encoding.UTF8.GetBytes("short"))));
    }
}
