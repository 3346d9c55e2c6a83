using System.Security.Cryptography;
using Dopant.IO;
using Dopant.Tests.Data;

namespace Dopant.Tests.Cli;

/// <summary>
/// Bad input on the command line, as a user makes it: a model run on a corpus with another vocabulary, unknown option
/// values, a checkpoint with a mis-shaped tensor. Each fails with one line on standard error and exit code 1, and
/// neither creates the output file nor touches an existing one.
/// </summary>
public sealed class BadInputCliTests(BadInputCliTests.Files files) : IClassFixture<BadInputCliTests.Files>
{
    /// <summary>A tiny corpus with <c>&lt;unk&gt;</c>, a model trained on it, the same model with a mis-shaped tensor, and another corpus.</summary>
    public sealed class Files : IDisposable
    {
        private readonly TemporaryFolder _folder = new();

        public Files()
        {
            Data = TinyCorpus.Write(_folder);
            // With <unk> in its vocabulary the model could map any word to it: a foreign word must still be refused.
            File.AppendAllText(Path.Combine(Data, "train.txt"), " the <unk> sat on the mat \n");
            Other = Path.Combine(_folder.Path, "other");
            Directory.CreateDirectory(Other);
            foreach (string split in new[] { "train.txt", "valid.txt", "test.txt" })
                File.WriteAllText(Path.Combine(Other, split), File.ReadAllText(Path.Combine(Data, split)).Replace("dog", "zebra"));

            Model = Path.Combine(_folder.Path, "model.safetensors");
            CliProcess.Result train = CliProcess.Run("train", "--data", Data, "--out", Model, "--layers", "1", "--hidden", "8", "--bptt", "5",
                "--batch-size", "4", "--epochs", "1");
            Assert.True(train.ExitCode == 0, train.StandardError);

            // W_hh stored transposed: the right bytes under the wrong shape.
            Misshaped = Path.Combine(_folder.Path, "misshaped.safetensors");
            SafeTensorsFile model = SafeTensorsFile.Load(Model);
            new SafeTensorsFile(model.Tensors.Select(t => t.Name == "rnn.weight_hh_l0"
                ? SafeTensor.FromBytes(t.Name, t.DType, t.Data.Span, t.Shape[1], t.Shape[0]) : t), model.Metadata).Save(Misshaped);

            // One weight turned into NaN: eval would print a NaN perplexity; loading names the tensor instead.
            NotFinite = Path.Combine(_folder.Path, "nan.safetensors");
            new SafeTensorsFile(model.Tensors.Select(t =>
            {
                if (t.Name != "rnn.weight_hh_l0") return t;
                float[] values = t.ToSingleArray();
                values[5] = float.NaN;
                return SafeTensor.Create<float>(t.Name, values, [.. t.Shape]);
            }), model.Metadata).Save(NotFinite);

            Scheme = _folder.Write("scheme.json", """{ "rules": [ { "select": { "kinds": ["lstm"] }, "operators": [ { "op": "prune", "factor": 2 } ] } ] }""");
        }

        public string Folder => _folder.Path;

        public string Data { get; }

        public string Other { get; }

        public string Model { get; }

        public string Misshaped { get; }

        public string NotFinite { get; }

        public string Scheme { get; }

        public void Dispose() => _folder.Dispose();
    }

    private const string ForeignWord = "the word 'zebra' is not in the vocabulary";
    private const string MisshapedTensor = "Tensor 'rnn.weight_hh_l0' in the safetensors file";

    // Placeholders in the cases, replaced by the fixture's paths.
    private string[] Expand(string[] args, string output) => [.. args.Select(a => a switch
    {
        "DATA" => files.Data,
        "OTHER" => files.Other,
        "OTHER_TEST" => Path.Combine(files.Other, "test.txt"),
        "DATA_TEST" => Path.Combine(files.Data, "test.txt"),
        "MODEL" => files.Model,
        "MISSHAPED" => files.Misshaped,
        "NAN" => files.NotFinite,
        "SCHEME" => files.Scheme,
        "STATE_DICT" => Path.Combine(AppContext.BaseDirectory, "Fixtures", "torch_gru_state_dict.safetensors"),
        "OUT" => output,
        _ => a,
    })];

    private static readonly string[] Tiny = ["--layers", "1", "--hidden", "8", "--bptt", "5", "--batch-size", "4", "--epochs", "1"];

    public static TheoryData<string, string[], string> Cases() => new()
    {
        // A model and a corpus with different vocabularies.
        { "eval-other-corpus", ["eval", "--model", "MODEL", "--data", "OTHER"], ForeignWord },
        { "score-other-text", ["score", "--model", "MODEL", "--text", "OTHER_TEST"], ForeignWord },
        { "compress-other-corpus", ["compress", "--method", "dkp", "--factor", "4", "--model", "MODEL", "--data", "OTHER", "--out", "OUT", .. Tiny], ForeignWord },
        { "scheme-other-corpus", ["compress", "--scheme", "SCHEME", "--model", "MODEL", "--data", "OTHER", "--out", "OUT", "--lc-iterations", "1"], ForeignWord },
        // Unknown option values.
        { "method-foo", ["compress", "--method", "foo", "--factor", "4", "--data", "DATA", "--out", "OUT", .. Tiny], "--method: Argument 'foo' not recognized. Must be one of: 'kp', 'dkp'" },
        { "factor-negative", ["compress", "--method", "dkp", "--factor", "-2", "--data", "DATA", "--out", "OUT", .. Tiny], "--factor must be greater than 1 (got -2)" },
        { "block-3y1", ["compress", "--method", "dkp", "--factor", "4", "--block", "3y1", "--data", "DATA", "--out", "OUT", .. Tiny], "--block: A block shape is RxC" },
        { "precision-int3", ["export", "--model", "MODEL", "--out", "OUT", "--precision", "int3"], "--precision must be one of: fp32, fp16, int8 (got 'int3')" },
        { "preset-tiny", ["train", "--preset", "tiny", "--data", "DATA", "--out", "OUT"], "--preset: Argument 'tiny' not recognized. Must be one of: 'small', 'medium', 'large'" },
        { "bench-preset-tiny", ["bench", "infer", "--preset", "tiny", "--data", "DATA"], "--preset: Argument 'tiny' not recognized. Must be one of: 'small', 'medium', 'large'" },
        { "epochs-abc", ["train", "--epochs", "abc", "--data", "DATA", "--out", "OUT"], "Cannot parse argument 'abc' for option '--epochs' as an integer (see 'dopant train --help')" },
        { "scheme-level-too-low", ["compress", "--scheme", "LEVELLED", "--level", "0.5", "--model", "MODEL", "--data", "DATA", "--out", "OUT"], "at level 0.5: rule 1 operator 1 (prune): factor must be at least 1 (got 0.5)" },
        // Architectures Dopant does not build, and model files without their words.
        { "cell-rnn", ["train", "--cell", "rnn", "--data", "DATA", "--out", "OUT", .. Tiny], "--cell: Argument 'rnn' not recognized. Must be one of: 'lstm', 'gru'" },
        { "tied-emsize", ["train", "--tied", "--emsize", "4", "--data", "DATA", "--out", "OUT", .. Tiny], "--tied needs the embedding width to equal the hidden size (--emsize 4, --hidden 8)" },
        { "hidden-8x", ["train", "--hidden", "8,x", "--data", "DATA", "--out", "OUT", "--epochs", "1"], "--hidden: 'x' is not a positive layer size (expected e.g. 650 or 650,400)" },
        { "hidden-sizes-layers", ["train", "--hidden", "8,6", "--layers", "3", "--data", "DATA", "--out", "OUT", "--epochs", "1"], "--hidden 8,6 gives 2 layer sizes, but --layers is 3" },
        { "gru-concatenate", ["compress", "--method", "kp", "--factor", "4", "--cell", "gru", "--concatenate", "--data", "DATA", "--out", "OUT", .. Tiny], "--concatenate needs LSTM layers" },
        { "state-dict-without-vocab", ["eval", "--model", "STATE_DICT", "--data", "DATA"], "has no 'dopant.vocab' metadata; give the vocabulary as a file of one word a line, in id order (--vocab FILE)" },
        { "vocab-file-missing", ["export", "--model", "STATE_DICT", "--vocab", "DATA_TEST.missing", "--out", "OUT"], "Vocabulary file" },
        { "factor-1e9", ["compress", "--method", "dkp", "--factor", "1e9", "--data", "DATA", "--out", "OUT", .. Tiny], "--factor 1000000000 leaves less than one stored weight of 'rnn.weight_ih_l0' (32 × 8 = 256 weights)" },
        { "threads-100000", ["eval", "--model", "MODEL", "--data", "DATA", "--threads", "100000"], "--threads must be between 1 and" },
        { "eval-nan", ["eval", "--model", "NAN", "--data", "DATA"], "tensor 'rnn.weight_hh_l0' holds NaN at index 5; a model's weights must be finite" },
        { "export-nan", ["export", "--model", "NAN", "--out", "OUT"], "tensor 'rnn.weight_hh_l0' holds NaN at index 5" },
        // A checkpoint with a mis-shaped tensor.
        { "eval-misshaped", ["eval", "--model", "MISSHAPED", "--data", "DATA"], MisshapedTensor },
        { "export-misshaped", ["export", "--model", "MISSHAPED", "--out", "OUT"], MisshapedTensor },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Bad_input_fails_with_one_line_and_writes_nothing(string name, string[] args, string expected)
    {
        string output = Path.Combine(files.Folder, name + ".safetensors");
        string levelled = Path.Combine(files.Folder, "levelled.json");
        File.WriteAllText(levelled, """{ "rules": [ { "operators": [ { "op": "prune", "factor": "$level" } ] } ] }""");
        CliProcess.Result run = CliProcess.Run([.. Expand(args, output).Select(a => a == "LEVELLED" ? levelled : a)]);

        Assert.True(run.ExitCode == 1, $"exit code {run.ExitCode}: {run.StandardError}");
        string line = Assert.Single(run.ErrorLines);
        Assert.StartsWith("dopant: error: ", line);
        Assert.Contains(expected, line);
        Assert.False(File.Exists(output), "the output file was created");
        Assert.Empty(Directory.GetFiles(files.Folder, name + ".safetensors*"));
    }

    [Theory]
    [InlineData("train", "--preset", "tiny")]
    [InlineData("compress", "--method", "dkp", "--factor", "4", "--model", "OTHER_MODEL")]
    [InlineData("export", "--model", "MISSHAPED", "--precision", "int8")]
    public void Bad_input_with_force_leaves_an_existing_output_as_it_was(params string[] args)
    {
        string output = Path.Combine(files.Folder, $"taken-{Guid.NewGuid():N}.safetensors");
        File.WriteAllText(output, "someone's file");
        byte[] before = SHA256.HashData(File.ReadAllBytes(output));
        string[] command = [.. Expand(args, output).Select(a => a == "OTHER_MODEL" ? files.Model : a), "--out", output, "--force"];
        if (args[0] != "export") command = [.. command, "--data", args.Contains("OTHER_MODEL") ? files.Other : files.Data, .. Tiny];
        CliProcess.Result run = CliProcess.Run(command);

        Assert.True(run.ExitCode == 1, $"exit code {run.ExitCode}: {run.StandardError}");
        Assert.StartsWith("dopant: error: ", Assert.Single(run.ErrorLines));
        Assert.Equal(before, SHA256.HashData(File.ReadAllBytes(output)));
    }
}
