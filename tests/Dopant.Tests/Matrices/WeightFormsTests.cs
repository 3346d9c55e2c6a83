using System.Text.Json;
using Dopant.Matrices;

namespace Dopant.Tests.Matrices;

public class WeightFormsTests
{
    private const int Rows = 24, Columns = 6;

    public static TheoryData<string> Specs() => new(SpecTexts);

    private static readonly string[] SpecTexts =
    [
        """{"kind":"dense"}""",
        """{"kind":"kronecker","shape":"4x2,6x3","rank":1}""",
        """{"kind":"kronecker","shape":"4x2,6x3","rank":2}""",
        """{"kind":"kronecker_chain","shape":"2x2*2x1*6x3","rank":1}""",
        """{"kind":"kronecker_chain","shape":"2x1*3x2*2x1*2x3","rank":3}""",
        """{"kind":"low_rank","rank":3}""",
        """{"kind":"hybrid","rank":2,"dense_rows":4}""",
        """{"kind":"pruned"}""",
        """{"kind":"pruned","block":"8x1"}""",
        """{"kind":"doped","structure":{"kind":"kronecker","shape":"4x2,6x3","rank":1}}""",
        """{"kind":"doped","structure":{"kind":"kronecker","shape":"4x2,6x3","rank":1},"block":"5x4"}""",
        """{"kind":"doped","structure":{"kind":"low_rank","rank":2}}""",
        """{"kind":"doped","structure":{"kind":"kronecker_chain","shape":"2x2*2x1*6x3","rank":2}}""",
    ];

    [Theory]
    [MemberData(nameof(Specs))]
    public void Json_round_trips_and_describe_of_create_is_the_spec(string json)
    {
        WeightFormSpec spec = WeightFormSpec.Parse(json);
        Assert.Equal(json, spec.ToJson());
        Assert.Equal(spec, WeightFormSpec.Parse(spec.ToJson()));
        IWeightMatrix<float> form = WeightForms.Create<float>(spec, "rnn.weight_hh_l1", Rows, Columns);
        Assert.Equal((Rows, Columns), (form.Rows, form.Columns));
        Assert.Equal(spec, WeightForms.Describe(form));
        Assert.All(form.Parameters, p => Assert.StartsWith("rnn.weight_hh_l1", p.Name));
        Assert.All(form.Parameters, p => Assert.All(p.Value, v => Assert.Equal(0f, v)));
    }

    [Fact]
    public void The_registry_holds_each_kind_once_and_every_spec_kind_has_an_entry()
    {
        Assert.Equal(WeightForms.Kinds.Count, WeightForms.Kinds.Select(k => k.Name).Distinct().Count());
        string[] kinds = [WeightFormSpec.DenseKind, WeightFormSpec.KroneckerKind, WeightFormSpec.KroneckerChainKind, WeightFormSpec.LowRankKind,
            WeightFormSpec.HybridKind, WeightFormSpec.PrunedKind, WeightFormSpec.DopedKind];
        Assert.Equal(kinds.Order(), WeightForms.Kinds.Select(k => k.Name).Order());
        // Each matrix is described by exactly one kind.
        foreach (string json in SpecTexts)
        {
            IWeightMatrix<float> form = WeightForms.Create<float>(WeightFormSpec.Parse(json), "w", Rows, Columns);
            Assert.Single(WeightForms.Kinds, k => k.Describe(form) is not null);
        }
        var e = Assert.Throws<ArgumentException>(() => WeightForms.Create<float>(WeightFormSpec.Parse("""{"kind":"toeplitz"}"""), "w", Rows, Columns));
        Assert.Contains("unknown kind 'toeplitz' (known: dense, kronecker, kronecker_chain, low_rank, hybrid, pruned, doped)", e.Message);
    }

    [Fact]
    public void Factories_give_the_specs_the_json_describes()
    {
        Assert.Equal(WeightFormSpec.Parse("""{"kind":"kronecker","shape":"52x25,50x26","rank":3}"""), WeightFormSpec.Kronecker(new KroneckerShape(52, 25, 50, 26), 3));
        Assert.Equal(WeightFormSpec.Parse("""{"kind":"kronecker_chain","shape":"13x5*10x10*20x13","rank":2}"""),
            WeightFormSpec.KroneckerChain(new KroneckerChainShape((13, 5), (10, 10), (20, 13)), 2));
        Assert.Equal(WeightFormSpec.Parse("""{"kind":"hybrid","dense_rows":10,"rank":4}"""), WeightFormSpec.Hybrid(10, 4));
        Assert.Equal(WeightFormSpec.Parse("""{"kind":"doped","structure":{"kind":"low_rank","rank":8}}"""), WeightFormSpec.Doped(WeightFormSpec.LowRank(8)));
        Assert.Equal(WeightFormSpec.Parse("""{"kind":"pruned"}"""), WeightFormSpec.Pruned);
        Assert.Equal("""{"kind":"dense"}""", WeightFormSpec.Dense.ToJson());
    }

    [Fact]
    public void Parameter_names_follow_the_matrix_name()
    {
        string[] Names(string json) => WeightForms.Create<float>(WeightFormSpec.Parse(json), "w", Rows, Columns).Parameters.Select(p => p.Name).ToArray();
        Assert.Equal(["w"], Names("""{"kind":"dense"}"""));
        Assert.Equal(["w.kron_a", "w.kron_b"], Names("""{"kind":"kronecker","shape":"4x2,6x3","rank":1}"""));
        Assert.Equal(["w.kron_1", "w.kron_2", "w.kron_3"], Names("""{"kind":"kronecker_chain","shape":"2x2*2x1*6x3","rank":1}"""));
        Assert.Equal(["w.lmf_u", "w.lmf_v"], Names("""{"kind":"low_rank","rank":3}"""));
        Assert.Equal(["w.hmd_dense", "w.hmd_u", "w.hmd_v"], Names("""{"kind":"hybrid","dense_rows":4,"rank":2}"""));
        Assert.Equal(["w.weight"], Names("""{"kind":"pruned"}"""));
        Assert.Equal(["w.lmf_u", "w.lmf_v", "w.doping.weight"], Names("""{"kind":"doped","structure":{"kind":"low_rank","rank":2}}"""));
        var doped = (DopedMatrix<float>)WeightForms.Create<float>(WeightFormSpec.Doped(WeightFormSpec.Pruned), "w", Rows, Columns);
        Assert.Equal(["w.weight_mask", "w.doping.weight_mask"], WeightForms.PrunedParts(doped).Select(WeightForms.MaskName).ToArray());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void From_dense_of_an_exact_kronecker_sum_reproduces_it(int rank)
    {
        var exact = new KroneckerMatrix<double>("w", new KroneckerShape(4, 2, 6, 3), rank);
        WeightMatrixConformance.Randomize(exact, seed: 11);
        double[] dense = exact.ToDense();
        IWeightMatrix<double> fitted = WeightForms.FromDense<double>(WeightFormSpec.Kronecker(exact.Shape, rank), "w", dense, Rows, Columns);
        Assert.IsType<KroneckerMatrix<double>>(fitted);
        AssertClose(dense, fitted.ToDense(), 1e-10);
    }

    [Fact]
    public void From_dense_of_an_exact_kronecker_chain_reproduces_it()
    {
        var exact = new KroneckerChainMatrix<double>("w", KroneckerChainShape.Parse("2x2*2x1*6x3"));
        WeightMatrixConformance.Randomize(exact, seed: 12);
        double[] dense = exact.ToDense();
        IWeightMatrix<double> fitted = WeightForms.FromDense<double>(WeightFormSpec.KroneckerChain(exact.Shape), "w", dense, Rows, Columns);
        Assert.Equal(exact.Shape, Assert.IsType<KroneckerChainMatrix<double>>(fitted).Shape);
        AssertClose(dense, fitted.ToDense(), 1e-10);
    }

    [Fact]
    public void From_dense_of_an_exact_low_rank_or_hybrid_matrix_reproduces_it()
    {
        var lowRank = new LowRankMatrix<double>("w", Rows, Columns, 2);
        WeightMatrixConformance.Randomize(lowRank, seed: 5);
        double[] dense = lowRank.ToDense();
        AssertClose(dense, WeightForms.FromDense<double>(WeightFormSpec.LowRank(2), "w", dense, Rows, Columns).ToDense(), 1e-10);

        var hybrid = new HybridMatrix<double>("w", Rows, Columns, 4, 2);
        WeightMatrixConformance.Randomize(hybrid, seed: 6);
        double[] hybridDense = hybrid.ToDense();
        AssertClose(hybridDense, WeightForms.FromDense<double>(WeightFormSpec.Hybrid(4, 2), "w", hybridDense, Rows, Columns).ToDense(), 1e-10);
    }

    [Fact]
    public void From_dense_copies_dense_and_pruned_and_dopes_with_the_residual()
    {
        double[] w = WeightMatrixConformance.RandomValues<double>(new Random(3), Rows * Columns);
        Assert.Equal(w, WeightForms.FromDense<double>(WeightFormSpec.Dense, "w", w, Rows, Columns).ToDense());
        var pruned = Assert.IsType<PrunedMatrix<double>>(WeightForms.FromDense<double>(WeightFormSpec.Pruned, "w", w, Rows, Columns));
        Assert.Equal(0, pruned.PrunedCount);
        Assert.Equal(w, pruned.ToDense());

        var shape = new KroneckerShape(4, 2, 6, 3);
        var doped = Assert.IsType<DopedMatrix<double>>(WeightForms.FromDense<double>(WeightFormSpec.Doped(WeightFormSpec.Kronecker(shape)), "w", w, Rows, Columns));
        Assert.Equal(KroneckerMatrix<double>.Nearest("w", shape, w).ToDense(), doped.Structure.ToDense());
        Assert.Equal(0, doped.Sparse.PrunedCount);
        Assert.Equal("w.doping.weight", doped.Sparse.Weight.Name);
        AssertClose(w, doped.ToDense(), 1e-12);
    }

    [Theory]
    [InlineData("""{"kind":"banded"}""", "unknown kind 'banded'")]
    [InlineData("""{"kind":"doped","structure":{"rank":2}}""", "no kind")]
    [InlineData("""{"kind":"low_rank"}""", "needs 'rank'")]
    [InlineData("""{"kind":"pruned","rank":2}""", "does not use 'rank'")]
    [InlineData("""{"kind":"low_rank","rank":2,"block":"4x4"}""", "does not use 'block'")]
    [InlineData("""{"kind":"pruned","block":"16"}""", "RxC")]
    [InlineData("""{"kind":"doped","structure":{"kind":"dense"},"block":"0x1"}""", "RxC")]
    [InlineData("""{"kind":"kronecker","shape":"4x2;6x3","rank":1}""", "4x2;6x3")]
    [InlineData("""{"kind":"kronecker","shape":"4x2,3x3","rank":1}""", "not 24×6")]
    [InlineData("""{"kind":"low_rank","rank":7}""", "rank")]
    [InlineData("""{"kind":"kronecker_chain","shape":"4x2,6x3","rank":1}""", "'4x2,6x3' must be two or more factors")]
    [InlineData("""{"kind":"kronecker_chain","shape":"2x2*2x1*6x2","rank":1}""", "not 24×6")]
    [InlineData("""{"kind":"kronecker_chain","shape":"2x2*2x1*6x3"}""", "needs 'rank'")]
    [InlineData("""{"kind":"doped","structure":{"kind":"doped","structure":{"kind":"dense"}}}""", "cannot itself be doped")]
    [InlineData("""{"kind":"doped","structure":{"kind":"hybrid","rank":2}}""", "needs 'dense_rows'")]
    public void Bad_specs_are_rejected_naming_the_matrix_and_the_problem(string json, string problem)
    {
        WeightFormSpec spec = WeightFormSpec.Parse(json);
        var e = Assert.Throws<ArgumentException>(() => WeightForms.Create<float>(spec, "rnn.weight_ih_l0", Rows, Columns));
        Assert.Contains("rnn.weight_ih_l0", e.Message);
        Assert.Contains(problem, e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.Throws<ArgumentException>(() => WeightForms.FromDense<float>(spec, "rnn.weight_ih_l0", new float[Rows * Columns], Rows, Columns));
    }

    [Fact]
    public void Unknown_json_fields_and_foreign_forms_are_rejected()
    {
        Assert.Throws<JsonException>(() => WeightFormSpec.Parse("""{"kind":"pruned","sparsity":0.9}"""));
        Assert.Contains("kind", Assert.Throws<JsonException>(() => WeightFormSpec.Parse("""{"rank":2}""")).Message);
        Assert.Throws<ArgumentException>(() => WeightForms.FromDense<float>(WeightFormSpec.Dense, "w", new float[5], Rows, Columns));
        Assert.Throws<ArgumentException>(() => WeightForms.Describe(new ForeignMatrix()));
    }

    private static void AssertClose(double[] expected, double[] actual, double tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int k = 0; k < expected.Length; k++) Assert.True(Math.Abs(expected[k] - actual[k]) <= tolerance, $"entry {k}: {expected[k]} vs {actual[k]}");
    }

    private sealed class ForeignMatrix : IWeightMatrix<float>
    {
        public int Rows => 1;
        public int Columns => 1;
        public IReadOnlyList<Parameter<float>> Parameters => [];
        public long ParameterCount => 0;
        public long StorageBytes => 0;
        public void Forward(ReadOnlySpan<float> x, Span<float> y, int count, bool accumulate) { }
        public void BackwardInput(ReadOnlySpan<float> dy, Span<float> dx, int count, bool accumulate) { }
        public void AccumulateGradients(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, int count) { }
        public float[] ToDense() => [0];
    }
}
