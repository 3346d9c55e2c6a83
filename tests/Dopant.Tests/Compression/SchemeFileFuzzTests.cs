using System.Diagnostics;
using Dopant.Compression;
using Dopant.Models;
using Dopant.Numerics;
using Dopant.Tests.Data;
using Dopant.Tests.IO;

namespace Dopant.Tests.Compression;

/// <summary>
/// Mutates valid scheme files (the examples in docs/schemes and one that uses every operator) thousands of times:
/// every parse either gives a scheme that builds and compresses a small model, or fails with a one-line
/// <see cref="InvalidDataException"/>; none takes long, whatever the regular expressions in it.
/// </summary>
public sealed class SchemeFileFuzzTests
{
    private const int Iterations = 3000;

    private const string EveryOperator = """
        { "rules": [
            { "select": { "names": "rnn\\.weight_hh_l[0-9]+", "kinds": ["lstm_recurrent"] },
              "operators": [ { "op": "dkp", "factor": 4, "doping_share": 0.5, "block": "4x1", "kron_factors": 2 } ] },
            { "select": { "names": "rnn\\.weight_ih_l1" }, "operators": [ { "op": "lmf", "factor": "$level" } ] },
            { "select": { "kinds": ["lstm_input"] },
              "operators": [ { "op": "compose", "operators": [ { "op": "row_prune", "density": 0.5, "criterion": "max", "align": 2 },
                                                             { "op": "nm_prune", "n": 2, "m": 4 } ] } ] },
            { "select": { "kinds": ["embedding"], "exclude": ["decoder\\..*"] },
              "operators": [ { "op": "block_prune", "factor": 2, "block": "2x2", "criterion": "mean" }, { "op": "quantize", "precision": "fp16" } ] },
            { "select": { "kinds": ["decoder"] },
              "operators": [ { "op": "structure_prune", "factor": 2, "criterion": "l2" }, { "op": "column_prune", "density": 0.9 },
                             { "op": "prune", "density": 0.5, "per_matrix": true }, { "op": "quantize", "precision": "int8" } ] } ] }
        """;

    private static readonly string[] DomainStrings =
    [
        "prune", "row_prune", "column_prune", "structure_prune", "block_prune", "nm_prune", "quantize", "kp", "dkp", "lmf", "dlmf",
        "hmd", "dhmd", "compose", "int8", "fp16", "int3", "l2", "max", "min", "mean", "sum", "median", "lstm", "lstm_input",
        "lstm_recurrent", "embedding", "decoder", "16x1", "0x1", "3y1", "257x1", "$level", "density", "factor", "per_matrix", "align",
        "block", "criterion", "n", "m", "doping_share", "kron_factors", "operators", "select", "names", "kinds", "exclude", "rules", "op",
        "(a+)+$", "(x+x+)+y", "((a|a)+)+b", "(.*){30}z", "(?=rnn).*", "(a)\\1", "(?<n>r)\\k<n>.*", "(?>rnn).*", "(?(r)rnn|x).*", "[",
        "a{1000}{1000}", "((a{100}){100}){100}", "\\p{IsBogus}", ".*", "rnn\\.weight_.*", "",
    ];

    [Fact]
    public void Mutated_schemes_parse_soundly_or_throw_one_line_InvalidDataException()
    {
        string[] seeds = Seeds();
        var mutator = new JsonMutator(DomainStrings);
        var random = new Random(424242);
        int parsed = 0, rejected = 0;
        var clock = Stopwatch.StartNew();
        for (int iteration = 0; iteration < Iterations; iteration++)
        {
            (string json, string change) = mutator.Mutate(seeds[iteration % seeds.Length], random);
            string description = $"iteration {iteration}, seed {iteration % seeds.Length}: {change}";
            var started = Stopwatch.StartNew();
            SchemeFile? file = null;
            try
            {
                file = SchemeFile.Parse(json, "fuzz.json");
            }
            catch (InvalidDataException e)
            {
                Assert.True(e.Message.StartsWith("fuzz.json: ", StringComparison.Ordinal) && e.Message.Length > 11, $"{description}: {e.Message}");
                Assert.True(!e.Message.Contains('\n') && !e.Message.Contains('\r') && e.Message.Length < 1000,
                    $"{description}: message not one short line: {Shorten(e.Message)}");
                rejected++;
            }
            catch (Exception e)
            {
                Assert.Fail($"{description} threw {e.GetType().Name}: {Shorten(e.Message)}\n{e.StackTrace}");
            }
            Assert.True(started.Elapsed < TimeSpan.FromSeconds(2), $"{description}: parsing took {started.Elapsed}");
            if (file is null) continue;

            parsed++;
            try
            {
                Use(file);
            }
            catch (Exception e)
            {
                Assert.Fail($"{description} parsed, but using it threw {e.GetType().Name}: {Shorten(e.Message)}\n{e.StackTrace}");
            }
            Assert.True(started.Elapsed < TimeSpan.FromSeconds(5), $"{description}: parsing and using it took {started.Elapsed}");
        }
        Assert.True(rejected > Iterations / 4, $"{rejected} rejected");
        Assert.True(parsed > Iterations / 50, $"{parsed} parsed");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"took {clock.Elapsed}");
    }

    [Theory]
    [InlineData("(a+)+$")]
    [InlineData("(x+x+)+y")]
    [InlineData("(.*a){25}")]
    [InlineData("(rnn|rnn\\.|r.*)*weight_(ih|hh)_l9")]
    public void Catastrophic_backtracking_patterns_select_in_linear_time(string pattern)
    {
        var selector = new LayerSelector(pattern);
        string name = new string('a', 5000) + "!";
        var clock = Stopwatch.StartNew();
        var weight = new CompressibleWeight(name, WeightKind.LstmInput, 1, 1, new float[1]);
        Assert.False(selector.Selects(weight));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}"); // backtracking would take hours on 5,000 characters
    }

    [Theory]
    [InlineData("(a)\\1", "linear-time matching does not support")]
    [InlineData("(?=rnn).*", "linear-time matching does not support")]
    [InlineData("(?>rnn).*", "linear-time matching does not support")]
    [InlineData("rnn.(", "Invalid name pattern")]
    [InlineData("\\p{IsBogus}", "Invalid name pattern")]
    public void Patterns_that_cannot_be_matched_safely_are_refused_at_parse_time(string pattern, string expected)
    {
        string json = $$"""{ "rules": [ { "select": { "names": {{JsonMutator.Quote(pattern)}} }, "operators": [ { "op": "prune", "density": 0.1 } ] } ] }""";
        var error = Assert.Throws<InvalidDataException>(() => SchemeFile.Parse(json, "s.json"));
        Assert.StartsWith("s.json: ", error.Message);
        Assert.Contains(expected, error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Theory]
    [InlineData("""{ "rules": [ { "operators": [ { "op": "kp", "factor": 2, "doping_share": 0.5, "kron_factors": 9 } ] } ] }""", "--kron-factors must be 2, 3 or 4")]
    [InlineData("""{ "rules": [ { "operators": [ { "op": "nm_prune", "n": 3, "m": 1000000 } ] } ] }""", "m must be in [1, 64]")]
    [InlineData("""{ "rules": [ { "operators": [ { "op": "prune", "factor": 1e999 } ] } ] }""", "must be a number")]
    [InlineData("""{ "rules": [ { "operators": [ { "op": "prune", "density": -0 } ] } ] }""", "density must be in (0, 1]")]
    [InlineData("""{ "rules": [ { "operators": [ { "op": "\ud800" } ] } ] }""", "not valid Unicode")]
    [InlineData("""{ "rules": [ { "operators": [ { "op": "prune", "\udfff": 1 } ] } ] }""", "not valid Unicode")]
    [InlineData("""{ "rules": [ { "operators": [ { "op": "structure_prune", "density": 0.5, "align": 2147483648 } ] } ] }""", "positive integer")]
    [InlineData("""{ "rules": [ { "operators": [ { "op": "dkp", "factor": 1e308, "doping_share": 0.5 } ] } ] }""", "--factor 1E+308 is too large")]
    [InlineData("""{ "rules": [ { "select": { "kinds": ["lstm"] } } ] }""", "rule 1 has no \"operators\"")]
    [InlineData("""{ "rulez": [] }""", "unknown field \"rulez\"")]
    [InlineData("""{ }""", "the scheme has no \"rules\"")]
    public void Hostile_settings_get_a_one_line_error(string json, string expected)
    {
        var error = Assert.Throws<InvalidDataException>(() => SchemeFile.Parse(json, "s.json"));
        Assert.StartsWith("s.json: ", error.Message);
        Assert.Contains(expected, error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void A_level_that_gives_an_invalid_setting_is_an_ArgumentException_naming_the_level()
    {
        SchemeFile file = SchemeFile.Parse("""{ "rules": [ { "operators": [ { "op": "prune", "factor": "$level" } ] } ] }""", "s.json");
        var error = Assert.Throws<ArgumentException>(() => file.Build(0.5));
        Assert.Equal("s.json: at level 0.5: rule 1 operator 1 (prune): factor must be at least 1 (got 0.5).", error.Message);
        Assert.Contains("at level NaN: rule 1 operator 1 (prune): factor must be at least 1 (got NaN)", Assert.Throws<ArgumentException>(() => file.Build(double.NaN)).Message);
    }

    [Fact]
    public void Oversized_and_deeply_nested_files_are_refused_quickly()
    {
        using var folder = new TemporaryFolder();
        string big = folder.Write("big.json", """{ "rules": [ """ + string.Concat(Enumerable.Repeat("""{ "operators": [ { "op": "prune", "density": 0.5 } ] },""", 30_000)) + "] }");
        Assert.Contains("at most 1 MiB", Assert.Throws<InvalidDataException>(() => SchemeFile.Load(big)).Message);

        string deep = """{ "rules": """ + new string('[', 100_000) + new string(']', 100_000) + "}";
        var clock = Stopwatch.StartNew();
        Assert.Contains("not valid JSON", Assert.Throws<InvalidDataException>(() => SchemeFile.Parse(deep, "deep.json")).Message);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"took {clock.Elapsed}");
    }

    // Builds the scheme (at a few levels when it has one), accounts a small model's weights under it, and compresses
    // them at the first level that builds (the slow part, so once).
    private static void Use(SchemeFile file)
    {
        double?[] levels = file.UsesLevel ? [0.5, 1e6] : [null];
        bool projected = false;
        foreach (double? level in levels)
        {
            CompressionScheme scheme;
            try
            {
                scheme = file.Build(level);
            }
            catch (ArgumentException)
            {
                continue;  // a level the scheme does not allow (Build documents it)
            }
            _ = scheme.ToString();
            var weights = ModelWeights.Of(Model());
            _ = scheme.Account(weights);
            if (projected) continue;
            projected = true;
            try
            {
                scheme.Project(weights);
            }
            catch (ArgumentException)
            {
                // A scheme that selects nothing, or an operator that does not apply to what it selects, says so.
            }
        }
    }

    private static LanguageModel<float> Model()
    {
        var model = new LanguageModel<float>(new LanguageModelConfig(8, 4, 2));
        model.InitializeUniform(0.3, new Xoshiro256(3));
        return model;
    }

    private static string[] Seeds()
    {
        string? folder = null;
        for (string? at = AppContext.BaseDirectory; at is not null; at = Path.GetDirectoryName(at))
            if (Directory.Exists(Path.Combine(at, "docs", "schemes")))
            {
                folder = Path.Combine(at, "docs", "schemes");
                break;
            }
        Assert.NotNull(folder);
        string[] files = [.. Directory.GetFiles(folder, "*.json").Order(StringComparer.Ordinal).Select(File.ReadAllText)];
        Assert.NotEmpty(files);
        string[] seeds = [.. files, EveryOperator];
        foreach (string seed in seeds) Use(SchemeFile.Parse(seed));
        return seeds;
    }

    private static string Shorten(string message) => message.Length <= 300 ? message : message[..300] + "...";
}
