using Dopant.Compression;
using Dopant.Models;
using Dopant.Numerics;

namespace Dopant.Tests.Compression;

public class SchemeTests
{
    private static LanguageModel<float> Model(bool tied = false)
    {
        var model = new LanguageModel<float>(new LanguageModelConfig(50, 16, 2, 0, tied));
        model.InitializeUniform(0.1, new Xoshiro256(1));
        return model;
    }

    [Fact]
    public void Model_weights_are_views_of_the_parameters_by_pytorch_name()
    {
        LanguageModel<float> model = Model();
        var weights = ModelWeights.Of(model);
        Assert.Equal(["encoder.weight", "rnn.weight_ih_l0", "rnn.weight_hh_l0", "rnn.weight_ih_l1", "rnn.weight_hh_l1", "decoder.weight"],
            weights.Select(w => w.Name));
        Assert.Equal([WeightKind.Embedding, WeightKind.LstmInput, WeightKind.LstmRecurrent, WeightKind.LstmInput, WeightKind.LstmRecurrent, WeightKind.Decoder],
            weights.Select(w => w.Kind));
        weights[2].Values[5] = 42;
        Assert.Equal(42, model.Layers[0].RecurrentWeights.ToDense()[5]);
        Assert.Equal(5, ModelWeights.Of(Model(tied: true)).Count);
    }

    [Fact]
    public void Selectors_match_whole_names_kinds_and_opt_outs()
    {
        var weights = ModelWeights.Of(Model());
        string[] Names(LayerSelector s) => [.. weights.Where(s.Selects).Select(w => w.Name)];
        Assert.Equal(["rnn.weight_ih_l0", "rnn.weight_hh_l0", "rnn.weight_ih_l1", "rnn.weight_hh_l1"], Names(new LayerSelector(@"rnn\.weight_.*")));
        Assert.Empty(Names(new LayerSelector("weight_hh")));  // a part of a name does not match
        Assert.Equal(["rnn.weight_hh_l0", "rnn.weight_hh_l1"], Names(new LayerSelector(kinds: [WeightKind.LstmRecurrent])));
        Assert.Equal(["rnn.weight_ih_l1", "rnn.weight_hh_l1"], Names(new LayerSelector(kinds: LayerSelector.ParseKind("lstm"), exclude: [@".*_l0"])));
        Assert.Contains("Invalid name pattern", Assert.Throws<ArgumentException>(() => new LayerSelector("rnn.(")).Message);
    }

    [Fact]
    public void The_first_matching_rule_wins_and_each_rule_prunes_its_own_weights_together()
    {
        LanguageModel<float> model = Model();
        var weights = ModelWeights.Of(model);
        var scheme = new CompressionScheme([
            new SchemeRule(new LayerSelector(@"rnn\.weight_hh_l0"), new MagnitudePrune(0.5)),
            new SchemeRule(new LayerSelector(kinds: LayerSelector.ParseKind("lstm")), new MagnitudePrune(0.1)),
        ]);
        var groups = scheme.Assign(weights);
        Assert.Equal(["rnn.weight_hh_l0"], groups[0].Weights.Select(w => w.Name));
        Assert.Equal(["rnn.weight_ih_l0", "rnn.weight_ih_l1", "rnn.weight_hh_l1"], groups[1].Weights.Select(w => w.Name));
        float[] embedding = (float[])weights[0].Values.Clone();
        scheme.Project(weights);
        Assert.Equal(embedding, weights[0].Values);
        Assert.Equal(weights[2].Values.Length / 2, weights[2].Values.Count(v => v != 0));
        long rest = groups[1].Weights.Sum(w => (long)w.Values.Length);
        Assert.Equal((long)Math.Round(0.1 * rest), groups[1].Weights.Sum(w => w.Values.Count(v => v != 0)));
        var storage = scheme.Account(weights);
        Assert.Equal(storage[0].Dense, storage[0].Compressed);
        Assert.True(storage[2].Compressed.Bytes < storage[2].Dense.Bytes);
    }

    private const string Example = """
        { "rules": [
            { "select": { "names": "rnn\\.weight_.*", "kinds": ["lstm"], "exclude": ["rnn\\.weight_ih_l0"] },
              "operators": [ { "op": "prune", "factor": "$level" }, { "op": "quantize", "precision": "int8" } ] },
            { "select": { "kinds": ["embedding", "decoder"] }, "operators": [ { "op": "quantize", "precision": "fp16" } ] } ] }
        """;

    [Fact]
    public void A_scheme_file_builds_rules_with_the_level_substituted()
    {
        SchemeFile file = SchemeFile.Parse(Example);
        Assert.True(file.UsesLevel);
        CompressionScheme scheme = file.Build(20);
        Assert.Equal(2, scheme.Rules.Count);
        Assert.Equal("prune(density=0.05) → quantize(int8)", scheme.Rules[0].Operator.Description);
        Assert.Equal("quantize(fp16)", scheme.Rules[1].Operator.Description);
        var names = ModelWeights.Of(Model()).Where(scheme.Rules[0].Selector.Selects).Select(w => w.Name);
        Assert.Equal(["rnn.weight_hh_l0", "rnn.weight_ih_l1", "rnn.weight_hh_l1"], names);
        Assert.Contains("$level", Assert.Throws<ArgumentException>(() => file.Build(null)).Message);

        var fixedLevel = SchemeFile.Parse("""{ "rules": [ { "operators": [ { "op": "dkp", "factor": 25, "doping_share": 0.9, "block": "16x1" } ] } ] }""");
        Assert.False(fixedLevel.UsesLevel);
        Assert.Equal("dkp(factor=25, doping_share=0.9, block=16x1)", fixedLevel.Build(null).Rules[0].Operator.Description);
    }

    [Theory]
    [InlineData("""{ "rules": [ { "operators": [ { "op": "shrink" } ] } ] }""", "unknown operator")]
    [InlineData("""{ "rules": [ { "operators": [ { "op": "prune", "density": 0.1, "desnity": 2 } ] } ] }""", "unknown field \"desnity\"")]
    [InlineData("""{ "rules": [ { "operators": [ { "op": "prune", "density": 0.1, "factor": 10 } ] } ] }""", "one of \"density\" and \"factor\"")]
    [InlineData("""{ "rules": [ { "operators": [ { "op": "prune", "density": 1.5 } ] } ] }""", "density must be in (0, 1]")]
    [InlineData("""{ "rules": [ { "select": { "names": "rnn.(" }, "operators": [ { "op": "prune", "density": 0.1 } ] } ] }""", "Invalid name pattern")]
    [InlineData("""{ "rules": [ { "select": { "kinds": ["lstms"] }, "operators": [ { "op": "prune", "density": 0.1 } ] } ] }""", "Unknown weight kind 'lstms'")]
    [InlineData("""{ "rules": [] }""", "non-empty array")]
    [InlineData("""{ "rules": [ { "operators": [ { "op": "quantize", "precision": "int4" } ] } ] }""", "unknown precision")]
    [InlineData("""{ "rules": [ { "operators": [ { "op": "nm_prune", "n": 2.5, "m": 4 } ] } ] }""", "positive integer")]
    [InlineData("""{ "rules": [ { "operators": [ { "op": "block_prune", "density": 0.1, "block": "4x4+10%" } ] } ] }""", "loose entries (+P%) are for doping")]
    [InlineData("""{ "rules": [ { "operators": [ { "op": "block_prune", "density": 0.1, "block": "1x1@16x64" } ] } ] }""", "balanced tiles (@RxC) are for doping")]
    [InlineData("""{ "rules": [ { "operators": [ { "op": "kp", "factor": "ten" } ] } ] }""", "must be a number")]
    [InlineData("""{ "rules": [ { "operators": [ { "op": "block_prune", "density": 0.1, "block": "16by1" } ] } ] }""", "16by1")]
    [InlineData("""{ "rules": [ """, "not valid JSON")]
    public void Bad_scheme_files_get_an_error_naming_the_problem(string json, string expected)
    {
        var e = Assert.Throws<InvalidDataException>(() => SchemeFile.Parse(json, "s.json"));
        Assert.StartsWith("s.json: ", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void A_missing_scheme_file_is_named()
    {
        Assert.Contains("missing.json", Assert.Throws<FileNotFoundException>(() => SchemeFile.Load("missing.json")).Message);
    }
}
