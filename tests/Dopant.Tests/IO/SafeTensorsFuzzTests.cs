using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using Dopant.IO;

namespace Dopant.Tests.IO;

/// <summary>
/// Mutates a valid file thousands of times and checks that every load either succeeds with a self-consistent
/// result or fails with <see cref="InvalidDataException"/>, never another exception and never a hang.
/// </summary>
public sealed class SafeTensorsFuzzTests
{
    private const int Iterations = 20_000;
    private static readonly byte[] JsonAlphabet = "{}[]\":,0123456789-.eE \\uFTIUBOLdtypeshapdaofs_m"u8.ToArray();

    private static byte[] ValidFile() => SafeTensorsBytes.Write(new SafeTensorsFile(
        [
            SafeTensor.Create("rnn.weight", [1f, -2f, float.NaN, 4f, 5f, 6f], 2, 3),
            SafeTensor.Create("emb", [(Half)1, (Half)2], 2),
            SafeTensor.FromSingles("bf", SafeTensorsDType.BFloat16, [3f], []),
            SafeTensor.Create("ids", [1L, 2L], 2),
            SafeTensor.Create("mask", [true, false, true], 3),
            SafeTensor.Create("empty", ReadOnlySpan<int>.Empty, 0, 4),
            SafeTensor.Create("q", new sbyte[] { -1, 2, -3 }, 3),
        ],
        new Dictionary<string, string> { ["format"] = "pt", ["config"] = "{\"layers\": 2}" }));

    [Fact]
    public void Mutated_files_load_or_throw_InvalidDataException_only()
    {
        byte[] valid = ValidFile();
        int headerLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(valid);
        var random = new Random(20240611);
        var outcomes = new int[2];
        var clock = Stopwatch.StartNew();

        for (int iteration = 0; iteration < Iterations; iteration++)
        {
            (byte[] mutated, string description) = Mutate(valid, headerLength, random);
            bool loaded;
            try
            {
                SafeTensorsFile file = iteration % 10 == 0
                    ? SafeTensorsFile.Read(new NonSeekableStream(mutated))
                    : SafeTensorsBytes.Read(mutated);
                CheckConsistent(file);
                loaded = true;
            }
            catch (InvalidDataException e)
            {
                Assert.False(string.IsNullOrWhiteSpace(e.Message));
                Assert.DoesNotContain('\n', e.Message);
                loaded = false;
            }
            catch (Exception e)
            {
                Assert.Fail($"Iteration {iteration} ({description}) threw {e.GetType().Name}: {e.Message}");
                throw;
            }
            outcomes[loaded ? 1 : 0]++;
        }

        // Both outcomes must occur, or the mutations are not exploring anything interesting.
        Assert.True(outcomes[0] > Iterations / 10, $"{outcomes[0]} rejected");
        Assert.True(outcomes[1] > Iterations / 100, $"{outcomes[1]} loaded");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"took {clock.Elapsed}");
    }

    [Fact]
    public void Mutated_files_on_disk_load_or_throw_InvalidDataException_only()
    {
        byte[] valid = ValidFile();
        int headerLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(valid);
        var random = new Random(7);
        string path = Path.Combine(Path.GetTempPath(), $"dopant-fuzz-{Guid.NewGuid():N}.safetensors");
        try
        {
            for (int iteration = 0; iteration < 300; iteration++)
            {
                (byte[] mutated, string description) = Mutate(valid, headerLength, random);
                File.WriteAllBytes(path, mutated);
                try
                {
                    CheckConsistent(SafeTensorsFile.Load(path));
                }
                catch (InvalidDataException e)
                {
                    Assert.Contains(path, e.Message);
                }
                catch (Exception e)
                {
                    Assert.Fail($"Iteration {iteration} ({description}) threw {e.GetType().Name}: {e.Message}");
                }
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Every_truncation_of_a_file_is_refused()
    {
        byte[] valid = ValidFile();
        for (int length = 0; length < valid.Length; length++)
        {
            byte[] truncated = valid[..length];
            foreach (bool seekable in new[] { true, false })
            {
                Stream stream = seekable ? new MemoryStream(truncated, writable: false) : new NonSeekableStream(truncated);
                try
                {
                    SafeTensorsFile.Read(stream);
                    Assert.Fail($"the file truncated to {length} of {valid.Length} bytes loaded (seekable: {seekable})");
                }
                catch (InvalidDataException e)
                {
                    Assert.False(string.IsNullOrWhiteSpace(e.Message));
                    Assert.DoesNotContain('\n', e.Message);
                }
                catch (Exception e) when (e is not Xunit.Sdk.XunitException)
                {
                    Assert.Fail($"the file truncated to {length} bytes (seekable: {seekable}) threw {e.GetType().Name}: {e.Message}");
                }
            }
        }
    }

    [Theory]
    [InlineData(100_000, true)]
    [InlineData(100_000, false)]
    [InlineData(65, true)]
    public void Deeply_nested_headers_are_refused_quickly(int depth, bool arrays)
    {
        string open = arrays ? "[" : "{\"a\":", close = arrays ? "]" : "}";
        string nested = string.Concat(Enumerable.Repeat(open, depth)) + "0" + string.Concat(Enumerable.Repeat(close, depth));
        foreach (string header in new[] { "{\"t\":" + nested + "}", "{\"__metadata__\":{\"k\":" + nested + "}}" })
        {
            var clock = Stopwatch.StartNew();
            var error = Assert.Throws<InvalidDataException>(() => SafeTensorsBytes.Read(SafeTensorsBytes.Build(header, 0)));
            Assert.Contains("the header is not valid JSON", error.Message);
            Assert.True(error.Message.Length < 1000, error.Message);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"took {clock.Elapsed}");
        }
    }

    [Theory]
    [InlineData("""{"t":{"dtype":"F32","shape":[1073741824],"data_offsets":[0,4294967296]}}""", "beyond the 4-byte data buffer")]
    [InlineData("""{"t":{"dtype":"F64","shape":[4611686018427387904],"data_offsets":[0,4]}}""", "too large to address")]
    [InlineData("""{"t":{"dtype":"U8","shape":[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,0],"data_offsets":[0,9223372036854775807]}}""", "beyond the 4-byte data buffer")]
    [InlineData("""{"t":{"dtype":"F32","shape":[65536,65536],"data_offsets":[9223372036854775800,9223372036854775807]}}""", "beyond the 4-byte data buffer")]
    [InlineData("""{"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"__metadata__":{"big":"x"}}""", null)]
    public void Headers_claiming_huge_tensors_are_refused_without_allocating_the_claim(string header, string? expected)
    {
        byte[] bytes = SafeTensorsBytes.Build(header, 4);
        long before = GC.GetAllocatedBytesForCurrentThread();
        if (expected is null)
        {
            Assert.Single(SafeTensorsBytes.Read(bytes).Tensors);
            return;
        }
        var error = Assert.Throws<InvalidDataException>(() => SafeTensorsBytes.Read(bytes));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1_000_000, "the refusal allocates little");
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void A_header_of_many_tensors_is_checked_in_linear_time()
    {
        // 20,000 tiny tensors: the coverage check sorts once rather than comparing every pair.
        var header = new StringBuilder("{");
        for (int i = 0; i < 20_000; i++)
            header.Append(i == 0 ? "" : ",").Append($"\"t{i}\":{{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[{i},{i + 1}]}}");
        header.Append('}');
        var clock = Stopwatch.StartNew();
        Assert.Equal(20_000, SafeTensorsBytes.Read(SafeTensorsBytes.Build(header.ToString(), 20_000)).Tensors.Count);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
    }

    /// <summary>A file that loads must be usable: typed access works and writing then reading reproduces it.</summary>
    private static void CheckConsistent(SafeTensorsFile file)
    {
        foreach (SafeTensor tensor in file.Tensors)
        {
            Assert.Equal(tensor.ElementCount * tensor.DType.ElementSize(), tensor.Data.Length);
            if (tensor.DType is SafeTensorsDType.Float32 or SafeTensorsDType.Float16 or SafeTensorsDType.BFloat16)
                Assert.Equal(tensor.ElementCount, tensor.ToSingleArray().Length);
            if (tensor.DType == SafeTensorsDType.Bool)
                Assert.DoesNotContain(tensor.Data.ToArray(), b => b > 1);
            _ = tensor.ToString();
        }
        SafeTensorsFile again = SafeTensorsBytes.Read(SafeTensorsBytes.Write(new SafeTensorsFile(file.Tensors, file.Metadata)));
        Assert.Equal(file.Tensors.Select(t => t.Name).Order(StringComparer.Ordinal), again.Tensors.Select(t => t.Name).Order(StringComparer.Ordinal));
        Assert.Equal(file.Metadata.OrderBy(e => e.Key, StringComparer.Ordinal), again.Metadata.OrderBy(e => e.Key, StringComparer.Ordinal));
    }

    private static (byte[] Bytes, string Description) Mutate(byte[] valid, int headerLength, Random random)
    {
        var bytes = new List<byte>(valid);
        int headerEnd = 8 + headerLength;
        switch (random.Next(8))
        {
            case 0:
            {
                int flips = 1 + random.Next(4);
                for (int i = 0; i < flips; i++)
                {
                    int at = random.Next(bytes.Count);
                    bytes[at] ^= (byte)(1 << random.Next(8));
                }
                return (bytes.ToArray(), $"{flips} bit flips");
            }
            case 1:
            {
                int at = 8 + random.Next(headerLength);
                bytes[at] = JsonAlphabet[random.Next(JsonAlphabet.Length)];
                return (bytes.ToArray(), $"header byte {at} set to '{(char)bytes[at]}'");
            }
            case 2:
            {
                int length = random.Next(valid.Length);
                return (valid[..length], $"truncated to {length}");
            }
            case 3:
            {
                var extra = new byte[1 + random.Next(64)];
                random.NextBytes(extra);
                return ([.. valid, .. extra], $"extended by {extra.Length}");
            }
            case 4:
            {
                ulong[] candidates =
                [
                    (ulong)(headerLength + random.Next(-16, 17)), (ulong)random.NextInt64(), ulong.MaxValue, 0,
                    (ulong)(valid.Length - 8), (ulong)(valid.Length - 7), 1UL << 63, 100_000_001,
                ];
                ulong value = candidates[random.Next(candidates.Length)];
                byte[] edited = valid.ToArray();
                BinaryPrimitives.WriteUInt64LittleEndian(edited, value);
                return (edited, $"header length set to {value}");
            }
            case 5:
            {
                // Keep the length field consistent so the JSON itself is what gets exercised.
                string header = Encoding.UTF8.GetString(valid, 8, headerLength);
                int at = random.Next(header.Length);
                header = random.Next(2) == 0
                    ? header.Remove(at, Math.Min(1 + random.Next(8), header.Length - at))
                    : header.Insert(at, ((char)JsonAlphabet[random.Next(JsonAlphabet.Length)]).ToString());
                return (SafeTensorsBytes.Build(header, valid.AsSpan(headerEnd)), $"header edited at {at}");
            }
            case 6:
            {
                // Change one digit: this keeps the JSON valid and walks shapes and offsets through nearby values.
                string header = Encoding.UTF8.GetString(valid, 8, headerLength);
                int[] digits = Enumerable.Range(0, header.Length).Where(i => char.IsAsciiDigit(header[i])).ToArray();
                int at = digits[random.Next(digits.Length)];
                string edited = header.Remove(at, 1).Insert(at, random.Next(10).ToString());
                int dataLength = valid.Length - headerEnd + random.Next(-4, 5);
                var data = new byte[Math.Max(0, dataLength)];
                valid.AsSpan(headerEnd, Math.Min(data.Length, valid.Length - headerEnd)).CopyTo(data);
                return (SafeTensorsBytes.Build(edited, data), $"digit {at} changed, data length {data.Length}");
            }
            default:
            {
                int at = 8 + random.Next(valid.Length - 8);
                int count = Math.Min(1 + random.Next(16), valid.Length - at);
                bytes.RemoveRange(at, count);
                return (bytes.ToArray(), $"removed {count} bytes at {at}");
            }
        }
    }
}
