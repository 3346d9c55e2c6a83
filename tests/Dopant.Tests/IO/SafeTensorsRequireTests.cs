using Dopant.IO;

namespace Dopant.Tests.IO;

public sealed class SafeTensorsRequireTests
{
    private static readonly SafeTensorsFile File = new(
    [
        SafeTensor.Create("rnn.weight_ih_l0", new float[12], 3, 4),
        SafeTensor.FromSingles("decoder.bias", SafeTensorsDType.BFloat16, [1f, -2f], 2),
        SafeTensor.Create("steps", [7L], []),
    ]);

    [Fact]
    public void Returns_the_tensor_when_name_dtype_and_shape_match()
    {
        Assert.Equal(12, File.Require("rnn.weight_ih_l0", SafeTensorsDType.Float32, 3, 4).ElementCount);
        Assert.Equal([7L], File.Require("steps", SafeTensorsDType.Int64).ToArray<long>());
        Assert.Equal([1f, -2f], File.RequireSingles("decoder.bias", 2));
    }

    [Fact]
    public void A_missing_tensor_is_named()
    {
        var error = Assert.Throws<InvalidDataException>(() => File.Require("rnn.weight_hh_l0", SafeTensorsDType.Float32, 4, 4));
        Assert.Equal("The safetensors file has no tensor 'rnn.weight_hh_l0'.", error.Message);
    }

    [Fact]
    public void A_shape_mismatch_names_both_shapes()
    {
        var error = Assert.Throws<InvalidDataException>(() => File.Require("rnn.weight_ih_l0", SafeTensorsDType.Float32, 4, 3));
        Assert.Equal("Tensor 'rnn.weight_ih_l0' in the safetensors file has shape [3, 4]; expected [4, 3].", error.Message);
        error = Assert.Throws<InvalidDataException>(() => File.RequireSingles("rnn.weight_ih_l0", 12));
        Assert.Contains("has shape [3, 4]; expected [12]", error.Message);
        error = Assert.Throws<InvalidDataException>(() => File.Require("steps", SafeTensorsDType.Int64, 1));
        Assert.Contains("has shape []; expected [1]", error.Message);
    }

    [Fact]
    public void A_dtype_mismatch_names_both_dtypes()
    {
        var error = Assert.Throws<InvalidDataException>(() => File.Require("decoder.bias", SafeTensorsDType.Float32, 2));
        Assert.Equal("Tensor 'decoder.bias' in the safetensors file is BF16; expected F32.", error.Message);
        error = Assert.Throws<InvalidDataException>(() => File.RequireSingles("steps"));
        Assert.Equal("Tensor 'steps' in the safetensors file is I64; expected F32, F16 or BF16.", error.Message);
    }

    [Fact]
    public void Errors_for_a_loaded_file_name_the_file()
    {
        SafeTensorsFile loaded = SafeTensorsFile.Read(new MemoryStream(SafeTensorsBytes.Write(File)), "ckpt/model.safetensors");
        var error = Assert.Throws<InvalidDataException>(() => loaded.Require("missing", SafeTensorsDType.Float32));
        Assert.Equal("The safetensors file 'ckpt/model.safetensors' has no tensor 'missing'.", error.Message);
    }

    [Fact]
    public void TryGetTensor_reports_absence()
    {
        Assert.False(File.TryGetTensor("nope", out SafeTensor? tensor));
        Assert.Null(tensor);
        Assert.True(File.TryGetTensor("steps", out tensor));
        Assert.Equal("steps I64 []", tensor.ToString());
    }
}
