using System.Runtime.InteropServices;
using Dopant.IO;

namespace Dopant.Tests.IO;

/// <summary>Files assembled byte by byte from the format description, as other writers produce them.</summary>
public sealed class SafeTensorsSpecCompatibilityTests
{
    private static byte[] Floats(params float[] values) => MemoryMarshal.AsBytes<float>(values).ToArray();

    [Fact]
    public void Reads_the_minimal_example_from_the_format_description()
    {
        byte[] bytes = SafeTensorsBytes.Build("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", Floats(1.5f, -3f));
        SafeTensorsFile file = SafeTensorsBytes.Read(bytes);
        SafeTensor a = Assert.Single(file.Tensors);
        Assert.Equal("a", a.Name);
        Assert.Equal(SafeTensorsDType.Float32, a.DType);
        Assert.Equal(new long[] { 2 }, a.Shape);
        Assert.Equal([1.5f, -3f], a.AsSpan<float>().ToArray());
        Assert.Empty(file.Metadata);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(64)]
    public void Accepts_header_padding_with_spaces(int padding)
    {
        byte[] bytes = SafeTensorsBytes.Build("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", Floats(2f), padding);
        Assert.Equal([2f], SafeTensorsBytes.Read(bytes).RequireSingles("a", 1));
    }

    [Fact]
    public void Accepts_whitespace_inside_the_header_and_other_json_whitespace_after_it()
    {
        byte[] bytes = SafeTensorsBytes.Build(
            "{ \"a\" : { \"shape\" : [ 1 ] ,\n \"data_offsets\" : [ 0 , 4 ], \"dtype\" : \"F32\" } }\n\t\r ", Floats(2f));
        Assert.Equal([2f], SafeTensorsBytes.Read(bytes).RequireSingles("a", 1));
    }

    [Fact]
    public void Reads_a_file_laid_out_like_pytorchs_writer_output()
    {
        // PyTorch's writer: __metadata__ first, tensors sorted by dtype alignment then name, header padded to 8.
        string header =
            """{"__metadata__":{"format":"pt"},"decoder.bias":{"dtype":"F32","shape":[3],"data_offsets":[0,12]},"embedding.weight":{"dtype":"F16","shape":[2,2],"data_offsets":[12,20]},"mask":{"dtype":"BOOL","shape":[2],"data_offsets":[20,22]}}""";
        byte[] data = [.. Floats(0.5f, -0.25f, 8f), .. MemoryMarshal.AsBytes<Half>([(Half)1, (Half)2, (Half)(-3), (Half)0.5f]), 1, 0];
        byte[] bytes = SafeTensorsBytes.Build(header, data, (8 - header.Length % 8) % 8);

        SafeTensorsFile file = SafeTensorsBytes.Read(bytes);
        Assert.Equal("pt", file.Metadata["format"]);
        Assert.Equal([0.5f, -0.25f, 8f], file.RequireSingles("decoder.bias", 3));
        Assert.Equal([1f, 2f, -3f, 0.5f], file.RequireSingles("embedding.weight", 2, 2));
        Assert.Equal([true, false], file.Require("mask", SafeTensorsDType.Bool, 2).ToArray<bool>());
    }

    [Fact]
    public void Header_order_need_not_follow_data_order()
    {
        string header =
            """{"second":{"dtype":"I32","shape":[1],"data_offsets":[4,8]},"first":{"dtype":"I32","shape":[1],"data_offsets":[0,4]}}""";
        byte[] data = MemoryMarshal.AsBytes<int>([11, 22]).ToArray();
        SafeTensorsFile file = SafeTensorsBytes.Read(SafeTensorsBytes.Build(header, data));
        Assert.Equal(["first", "second"], file.Tensors.Select(t => t.Name));
        Assert.Equal([22], file.Require("second", SafeTensorsDType.Int32, 1).ToArray<int>());
    }

    [Fact]
    public void Reads_unaligned_tensors_written_in_insertion_order_by_other_writers()
    {
        string header =
            """{"b":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"f":{"dtype":"F32","shape":[2],"data_offsets":[1,9]}}""";
        byte[] bytes = SafeTensorsBytes.Build(header, [7, .. Floats(1f, 2f)]);
        Assert.Equal([1f, 2f], SafeTensorsBytes.Read(bytes).Require("f", SafeTensorsDType.Float32, 2).ToArray<float>());
    }

    [Fact]
    public void Zero_length_tensors_may_sit_anywhere_in_the_buffer()
    {
        string header =
            """{"e0":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},""" +
            """ "e2":{"dtype":"F64","shape":[5,0],"data_offsets":[2,2]},"b":{"dtype":"U8","shape":[1],"data_offsets":[2,3]},""" +
            """ "e3":{"dtype":"I8","shape":[0],"data_offsets":[3,3]}}""";
        SafeTensorsFile file = SafeTensorsBytes.Read(SafeTensorsBytes.Build(header, [1, 2, 3]));
        Assert.Equal(5, file.Tensors.Count);
        Assert.Equal(new byte[] { 3 }, file.Require("b", SafeTensorsDType.UInt8, 1).ToArray<byte>());
        Assert.Equal(0, file.Require("e2", SafeTensorsDType.Float64, 5, 0).ElementCount);
    }

    [Fact]
    public void A_zero_dimension_empties_a_tensor_however_large_the_others_are()
    {
        string header = """{"e":{"dtype":"F64","shape":[9223372036854775807,9223372036854775807,0],"data_offsets":[0,0]}}""";
        Assert.Equal(0, Assert.Single(SafeTensorsBytes.Read(SafeTensorsBytes.Build(header, 0)).Tensors).ElementCount);
    }

    [Fact]
    public void Null_metadata_means_no_metadata()
    {
        string header = """{"__metadata__":null,"a":{"dtype":"U8","shape":[],"data_offsets":[0,1]}}""";
        SafeTensorsFile file = SafeTensorsBytes.Read(SafeTensorsBytes.Build(header, [5]));
        Assert.Empty(file.Metadata);
        Assert.Equal(new byte[] { 5 }, file.Require("a", SafeTensorsDType.UInt8).ToArray<byte>());
    }

    [Fact]
    public void Reads_escaped_unicode_in_names_and_metadata()
    {
        string header = """{"__metadata__":{"k\u00e9y":"v\"al\\ue \ud83d\ude00"},"\u540d":{"dtype":"I8","shape":[1],"data_offsets":[0,1]}}""";
        SafeTensorsFile file = SafeTensorsBytes.Read(SafeTensorsBytes.Build(header, [0xFF]));
        Assert.Equal("v\"al\\ue 😀", file.Metadata["kéy"]);
        Assert.Equal(new sbyte[] { -1 }, file.Require("名", SafeTensorsDType.Int8, 1).ToArray<sbyte>());
    }

    [Theory]
    [InlineData("F64", 8)]
    [InlineData("F32", 4)]
    [InlineData("F16", 2)]
    [InlineData("BF16", 2)]
    [InlineData("F8_E4M3", 1)]
    [InlineData("F8_E5M2", 1)]
    [InlineData("I64", 8)]
    [InlineData("I32", 4)]
    [InlineData("I16", 2)]
    [InlineData("I8", 1)]
    [InlineData("U64", 8)]
    [InlineData("U32", 4)]
    [InlineData("U16", 2)]
    [InlineData("U8", 1)]
    [InlineData("BOOL", 1)]
    public void Every_dtype_code_is_read_with_its_element_size(string code, int size)
    {
        string header = $$$"""{"t":{"dtype":"{{{code}}}","shape":[3],"data_offsets":[0,{{{3 * size}}}]}}""";
        SafeTensor tensor = Assert.Single(SafeTensorsBytes.Read(SafeTensorsBytes.Build(header, 3 * size)).Tensors);
        Assert.Equal(code, tensor.DType.ToHeaderName());
        Assert.Equal(size, tensor.DType.ElementSize());
        Assert.Equal(3 * size, tensor.Data.Length);
    }
}
