using System.Runtime.InteropServices;
using Dopant.IO;

namespace Dopant.Tests.IO;

public sealed class SafeTensorsRoundTripTests
{
    private static SafeTensor RoundTrip(SafeTensor tensor) =>
        Assert.Single(SafeTensorsBytes.Read(SafeTensorsBytes.Write(new SafeTensorsFile([tensor]))).Tensors);

    private static void AssertBitExact<T>(T[] values, params long[] shape) where T : unmanaged
    {
        SafeTensor read = RoundTrip(SafeTensor.Create<T>("t", values, shape));
        Assert.Equal(shape, read.Shape);
        Assert.Equal(MemoryMarshal.AsBytes<T>(values).ToArray(), read.Data.ToArray());
        Assert.Equal(MemoryMarshal.AsBytes<T>(values).ToArray(), MemoryMarshal.AsBytes(read.AsSpan<T>()).ToArray());
    }

    [Fact]
    public void Float32_special_values_round_trip_bit_for_bit()
    {
        float[] values =
        [
            0f, -0f, 1f, -1f, float.Epsilon, -float.Epsilon, 1e-40f, float.MaxValue, float.MinValue,
            float.PositiveInfinity, float.NegativeInfinity, float.NaN,
            BitConverter.UInt32BitsToSingle(0x7FC12345), BitConverter.UInt32BitsToSingle(0xFF800001), // quiet and signalling NaN payloads
        ];
        AssertBitExact(values, 2, 7);
    }

    [Fact]
    public void Every_integer_and_float_dtype_round_trips_bit_for_bit()
    {
        AssertBitExact(new[] { 0.0, -0.0, double.Epsilon, double.NaN, BitConverter.UInt64BitsToDouble(0x7FF0000000000001) }, 5);
        AssertBitExact(new[] { Half.Epsilon, Half.NegativeZero, Half.MaxValue, Half.NaN, BitConverter.UInt16BitsToHalf(0x7C01) }, 5);
        AssertBitExact(new[] { long.MinValue, -1L, 0L, long.MaxValue }, 2, 2);
        AssertBitExact(new[] { int.MinValue, -1, 0, int.MaxValue }, 4);
        AssertBitExact(new short[] { short.MinValue, -1, 0, short.MaxValue }, 4);
        AssertBitExact(new sbyte[] { sbyte.MinValue, -1, 0, sbyte.MaxValue }, 4);
        AssertBitExact(new[] { ulong.MinValue, ulong.MaxValue }, 2);
        AssertBitExact(new[] { uint.MinValue, uint.MaxValue }, 2);
        AssertBitExact(new ushort[] { 0, 1, ushort.MaxValue }, 3);
        AssertBitExact(new byte[] { 0, 1, 255 }, 3);
        AssertBitExact(new[] { true, false, true }, 3);
    }

    [Theory]
    [InlineData(SafeTensorsDType.BFloat16)]
    [InlineData(SafeTensorsDType.Float8E4M3)]
    [InlineData(SafeTensorsDType.Float8E5M2)]
    public void Dtypes_without_a_dotnet_type_round_trip_as_raw_bytes(SafeTensorsDType dtype)
    {
        byte[] data = Enumerable.Range(0, 12).Select(i => (byte)(i * 37 + 255)).ToArray();
        long count = data.Length / dtype.ElementSize();
        SafeTensor read = RoundTrip(SafeTensor.FromBytes("t", dtype, data, count));
        Assert.Equal(dtype, read.DType);
        Assert.Equal(data, read.Data.ToArray());
    }

    [Fact]
    public void Typed_accessors_return_the_values_written()
    {
        var file = SafeTensorsBytes.Read(SafeTensorsBytes.Write(new SafeTensorsFile(
        [
            SafeTensor.Create("f32", new[] { 1.5f, -2f }, 2),
            SafeTensor.Create("i8", new sbyte[] { -128, 127 }, 2),
            SafeTensor.Create("i32", new[] { -7, 7 }, 2),
            SafeTensor.Create("u16", new ushort[] { 65535, 1 }, 2),
            SafeTensor.Create("u8", new byte[] { 9, 8 }, 2),
        ])));
        Assert.True(file.TryGetTensor("f32", out var f32));
        Assert.Equal([1.5f, -2f], f32.AsSpan<float>().ToArray());
        Assert.Equal([1.5f, -2f], f32.ToSingleArray());
        Assert.True(file.TryGetTensor("i8", out var i8));
        Assert.Equal(new sbyte[] { -128, 127 }, i8.ToArray<sbyte>());
        Assert.True(file.TryGetTensor("i32", out var i32));
        Assert.Equal([-7, 7], i32.ToArray<int>());
        Assert.True(file.TryGetTensor("u16", out var u16));
        Assert.Equal(new ushort[] { 65535, 1 }, u16.ToArray<ushort>());
        Assert.True(file.TryGetTensor("u8", out var u8));
        Assert.Equal(new byte[] { 9, 8 }, u8.ToArray<byte>());
    }

    [Fact]
    public void Reading_with_the_wrong_element_type_names_both_types()
    {
        SafeTensor tensor = SafeTensor.Create("w", new[] { 1, 2 }, 2);
        var error = Assert.Throws<InvalidOperationException>(() => tensor.AsSpan<float>());
        Assert.Contains("'w' is I32", error.Message);
        Assert.Contains("F32", error.Message);
        Assert.Throws<InvalidOperationException>(() => tensor.ToSingleArray());
    }

    [Fact]
    public void Float16_and_bfloat16_widen_exactly_to_float()
    {
        Half[] halves = [(Half)1.5f, Half.NegativeZero, Half.Epsilon, Half.MaxValue, Half.NegativeInfinity];
        float[] widened = RoundTrip(SafeTensor.Create<Half>("h", halves, 5)).ToSingleArray();
        Assert.Equal(halves.Select(h => BitConverter.SingleToUInt32Bits((float)h)), widened.Select(BitConverter.SingleToUInt32Bits));

        ushort[] bf16 = [0x3FC0, 0x8000, 0x0001, 0x7F80, 0xFF81];
        float[] bfWidened = RoundTrip(SafeTensor.FromBytes("b", SafeTensorsDType.BFloat16, MemoryMarshal.AsBytes<ushort>(bf16), 5)).ToSingleArray();
        Assert.Equal(bf16.Select(b => (uint)b << 16), bfWidened.Select(BitConverter.SingleToUInt32Bits));
    }

    [Fact]
    public void FromSingles_rounds_to_nearest_even_when_narrowing()
    {
        float[] values =
        [
            1f, 1f + 1f / 256, 1f + 3f / 256, -2.5f, float.MaxValue,
            BitConverter.UInt32BitsToSingle(0x7FC00000), BitConverter.UInt32BitsToSingle(0x7F800001),
        ];
        SafeTensor bf16 = SafeTensor.FromSingles("b", SafeTensorsDType.BFloat16, values, values.Length);
        Assert.Equal(SafeTensorsDType.BFloat16, bf16.DType);
        // Both 1 + 2^-8 and 1 + 3·2^-8 are ties (bfloat16 steps by 2^-7 near 1): they go to the even 1 and 1 + 2^-6.
        // A NaN whose payload sits in the dropped bits must stay NaN, not become infinity.
        ushort[] expected = [0x3F80, 0x3F80, 0x3F82, 0xC020, 0x7F80, 0x7FC0, 0x7FC0];
        Assert.Equal(expected, MemoryMarshal.Cast<byte, ushort>(bf16.Data.Span).ToArray());

        SafeTensor f16 = SafeTensor.FromSingles("h", SafeTensorsDType.Float16, [1f / 3, 70000f], 2);
        Assert.Equal([(Half)(1f / 3), Half.PositiveInfinity], f16.ToArray<Half>());
        Assert.Throws<ArgumentException>(() => SafeTensor.FromSingles("i", SafeTensorsDType.Int32, [1f], 1));
    }

    [Fact]
    public void Metadata_round_trips_unicode_quotes_and_json_text()
    {
        var metadata = new Dictionary<string, string>
        {
            ["format"] = "pt",
            ["quote \" and \\ backslash"] = "line\nbreak\ttab \u0001",
            ["ünïcødé 名前 😀"] = "{\"lr\": 0.001, \"layers\": [1, 2]}",
            [""] = "",
        };
        byte[] bytes = SafeTensorsBytes.Write(new SafeTensorsFile([SafeTensor.Create("x", [1f], 1)], metadata));
        SafeTensorsFile read = SafeTensorsBytes.Read(bytes);
        Assert.Equal(metadata.OrderBy(e => e.Key, StringComparer.Ordinal), read.Metadata.OrderBy(e => e.Key, StringComparer.Ordinal));
    }

    [Fact]
    public void Unicode_tensor_names_round_trip()
    {
        string[] names = ["rnn.weight_ih_l0", "名前", "😀 \"quoted\"", "", "a\nb"];
        var file = new SafeTensorsFile(names.Select(n => SafeTensor.Create(n, [1f], 1)));
        Assert.Equal(names, SafeTensorsBytes.Read(SafeTensorsBytes.Write(file)).Tensors.Select(t => t.Name));
    }

    [Fact]
    public void Empty_tensors_and_scalars_round_trip()
    {
        var file = SafeTensorsBytes.Read(SafeTensorsBytes.Write(new SafeTensorsFile(
        [
            SafeTensor.Create("empty", ReadOnlySpan<float>.Empty, 0),
            SafeTensor.Create("empty2d", ReadOnlySpan<int>.Empty, 3, 0),
            SafeTensor.Create("scalar", [42.5], []),
            SafeTensor.Create("after", [7], 1),
        ])));
        SafeTensor empty = file.Require("empty", SafeTensorsDType.Float32, 0);
        Assert.Equal(0, empty.ElementCount);
        Assert.Empty(empty.ToSingleArray());
        Assert.Equal(0, file.Require("empty2d", SafeTensorsDType.Int32, 3, 0).ElementCount);
        SafeTensor scalar = file.Require("scalar", SafeTensorsDType.Float64);
        Assert.Empty(scalar.Shape);
        Assert.Equal(1, scalar.ElementCount);
        Assert.Equal([42.5], scalar.ToArray<double>());
        Assert.Equal([7], file.Require("after", SafeTensorsDType.Int32, 1).ToArray<int>());
    }

    [Fact]
    public void An_empty_file_round_trips()
    {
        byte[] bytes = SafeTensorsBytes.Write(new SafeTensorsFile([]));
        Assert.Equal("{}      ", SafeTensorsBytes.HeaderText(bytes));
        SafeTensorsFile read = SafeTensorsBytes.Read(bytes);
        Assert.Empty(read.Tensors);
        Assert.Empty(read.Metadata);
    }

    [Fact]
    public void Writer_pads_the_header_to_8_bytes_and_aligns_every_tensor_to_its_element_size()
    {
        var file = new SafeTensorsFile(
        [
            SafeTensor.Create("u8", new byte[] { 1, 2, 3 }, 3),
            SafeTensor.Create("f16", new[] { Half.One }, 1),
            SafeTensor.Create("f64", new[] { 1.0 }, 1),
            SafeTensor.Create("f32", new[] { 1f, 2f, 3f }, 3),
            SafeTensor.Create("i64", new[] { 5L }, 1),
        ]);
        byte[] bytes = SafeTensorsBytes.Write(file);
        string header = SafeTensorsBytes.HeaderText(bytes);
        Assert.Equal(0, header.Length % 8);
        Assert.Equal(header.TrimEnd(' ').Length, header.TrimEnd().Length);
        Assert.Equal(
            "{\"f64\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]}," +
            "\"i64\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[8,16]}," +
            "\"f32\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[16,28]}," +
            "\"f16\":{\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[28,30]}," +
            "\"u8\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[30,33]}}",
            header.TrimEnd(' '));
        Assert.Equal(8 + header.Length + 33, bytes.Length);
        Assert.Equal(["f64", "i64", "f32", "f16", "u8"], SafeTensorsBytes.Read(bytes).Tensors.Select(t => t.Name));
    }

    [Fact]
    public void Output_is_deterministic_and_reading_then_writing_reproduces_it()
    {
        var metadata = new Dictionary<string, string> { ["z"] = "1", ["a"] = "2" };
        SafeTensor[] tensors = [SafeTensor.Create("b", [1f, 2f], 2), SafeTensor.Create("a", new short[] { 3 }, 1)];
        byte[] first = SafeTensorsBytes.Write(new SafeTensorsFile(tensors, metadata));
        byte[] second = SafeTensorsBytes.Write(new SafeTensorsFile(tensors, metadata.Reverse().ToDictionary()));
        Assert.Equal(first, second);
        Assert.Equal(first, SafeTensorsBytes.Write(SafeTensorsBytes.Read(first)));
        Assert.StartsWith("{\"__metadata__\":{\"a\":\"2\",\"z\":\"1\"},", SafeTensorsBytes.HeaderText(first));
    }

    [Fact]
    public void Save_and_Load_round_trip_through_a_path()
    {
        string directory = Directory.CreateTempSubdirectory("dopant-io-").FullName;
        try
        {
            string path = Path.Combine(directory, "model.safetensors");
            float[] weights = Enumerable.Range(0, 3 * 5).Select(i => i * 0.25f - 1).ToArray();
            new SafeTensorsFile([SafeTensor.Create("w", weights, 3, 5)], new Dictionary<string, string> { ["step"] = "100" }).Save(path);

            SafeTensorsFile loaded = SafeTensorsFile.Load(path);
            Assert.Equal(path, loaded.Source);
            Assert.Equal("100", loaded.Metadata["step"]);
            Assert.Equal(weights, loaded.RequireSingles("w", 3, 5));
            Assert.Equal(["model.safetensors"], Directory.GetFiles(directory).Select(Path.GetFileName));

            using FileStream stream = File.OpenRead(path);
            Assert.Equal(path, SafeTensorsFile.Read(stream).Source);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void Reads_from_a_stream_that_cannot_seek()
    {
        byte[] bytes = SafeTensorsBytes.Write(new SafeTensorsFile([SafeTensor.Create("w", [1f, 2f, 3f], 3)]));
        SafeTensorsFile read = SafeTensorsFile.Read(new NonSeekableStream(bytes), "pipe");
        Assert.Equal([1f, 2f, 3f], read.RequireSingles("w", 3));
        Assert.Equal("pipe", read.Source);
    }

    [Fact]
    public void Construction_rejects_bad_arguments()
    {
        Assert.Throws<ArgumentException>(() => new SafeTensorsFile([SafeTensor.Create("a", [1f], 1), SafeTensor.Create("a", [2f], 1)]));
        Assert.Throws<ArgumentException>(() => SafeTensor.Create("__metadata__", [1f], 1));
        Assert.Throws<ArgumentException>(() => SafeTensor.Create("bad \ud800", [1f], 1));
        Assert.Throws<ArgumentException>(() => new SafeTensorsFile([], new Dictionary<string, string> { ["k"] = "\udc00" }));
        Assert.Throws<ArgumentException>(() => SafeTensor.Create("w", [1f, 2f, 3f], 2, 2));
        Assert.Throws<ArgumentException>(() => SafeTensor.Create("w", [1f], 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => SafeTensor.Create("w", ReadOnlySpan<float>.Empty, -1, 0));
        Assert.Throws<ArgumentException>(() => SafeTensor.Create("w", [1m], 1));
        Assert.Throws<ArgumentException>(() => SafeTensor.FromBytes("b", SafeTensorsDType.Bool, [0, 2], 2));
        Assert.Throws<ArgumentException>(() => SafeTensor.FromBytes("f", SafeTensorsDType.Float32, [0, 0, 0], 1));
        Assert.Throws<ArgumentNullException>(() => new SafeTensorsFile(null!));
        Assert.Throws<ArgumentNullException>(() => new SafeTensorsFile([null!]));
    }
}
