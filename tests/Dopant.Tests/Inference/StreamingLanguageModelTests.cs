using Dopant.Inference;
using Dopant.Matrices;
using Dopant.Models;
using Dopant.Numerics;
using Dopant.Tasks;

namespace Dopant.Tests.Inference;

/// <summary>The streaming runtime against the training model's forward, token by token with the state carried.</summary>
public class StreamingLanguageModelTests
{
    private const int Vocabulary = 41, Hidden = 12, Tokens = 60;

    public static TheoryData<string, bool, bool> Models() => new()
    {
        { """{"kind":"dense"}""", false, false },
        { """{"kind":"dense"}""", false, true },
        { """{"kind":"kronecker","shape":"8x4,6x3","rank":2}""", false, false },
        { """{"kind":"low_rank","rank":3}""", false, false },
        { """{"kind":"hybrid","rank":2,"dense_rows":8}""", false, false },
        { """{"kind":"pruned"}""", false, false },
        { """{"kind":"doped","structure":{"kind":"kronecker","shape":"8x4,6x3","rank":1}}""", false, true },
        { """{"kind":"doped","structure":{"kind":"low_rank","rank":2}}""", false, false },
        { """{"kind":"doped","structure":{"kind":"low_rank","rank":2},"block":"16x1"}""", false, false },
        { """{"kind":"pruned","block":"2x3"}""", false, false },
        { """{"kind":"kronecker_chain","shape":"4x2*2x2*6x3","rank":1}""", false, false },
        { """{"kind":"doped","structure":{"kind":"kronecker","shape":"8x8,6x3","rank":1}}""", true, false },
        { """{"kind":"low_rank","rank":4}""", true, false },
    };

    [Theory]
    [MemberData(nameof(Models))]
    public void Next_token_probabilities_equal_the_training_forward_over_many_tokens(string json, bool combined, bool tied)
    {
        LanguageModel<float> model = Model(json, combined, tied);
        var random = new Random(json.Length + (combined ? 1 : 0));
        int[] tokens = [.. Enumerable.Range(0, Tokens + 1).Select(_ => random.Next(Vocabulary))];
        model.Forward(tokens.AsSpan(0, Tokens), tokens.AsSpan(1, Tokens), Tokens, 1, model.CreateState(1));
        float[] expected = model.Output.ToArray();  // softmax probabilities, [T, V]

        var runtime = StreamingLanguageModel.From(model);
        var logits = new float[Vocabulary];
        double worst = 0;
        for (int t = 0; t < Tokens; t++)
        {
            runtime.Step(tokens[t], logits);
            double max = logits.Max(), sum = logits.Sum(v => Math.Exp(v - max));
            for (int v = 0; v < Vocabulary; v++)
            {
                double p = Math.Exp(logits[v] - max) / sum, q = expected[t * Vocabulary + v];
                worst = Math.Max(worst, Math.Abs(p - q) / q);
            }
        }
        Assert.True(worst < 1e-5, $"largest relative difference of a probability: {worst:E2}");

        // The runtime holds copies: training on does not change it.
        foreach (Parameter<float> p in model.Parameters) Array.Clear(p.Value);
        runtime.Reset();
        runtime.Step(tokens[0], logits);
        double max0 = logits.Max(), sum0 = logits.Sum(v => Math.Exp(v - max0));
        Assert.Equal(expected[tokens[1]], Math.Exp(logits[tokens[1]] - max0) / sum0, 1e-6);
    }

    [Theory]
    [InlineData(WeightPrecision.Float16, 2e-3, """{"kind":"dense"}""")]
    [InlineData(WeightPrecision.Int8, 2e-2, """{"kind":"dense"}""")]
    [InlineData(WeightPrecision.Int8, 2e-2, """{"kind":"doped","structure":{"kind":"low_rank","rank":2},"block":"16x1"}""")]
    public void Reduced_precision_stays_within_its_stated_tolerance_of_fp32(WeightPrecision precision, double tolerance, string json)
    {
        // Stated tolerance of a next-token probability, relative, over 60 tokens of a small random model.
        LanguageModel<float> model = Model(json, false, false);
        var random = new Random(5);
        int[] tokens = [.. Enumerable.Range(0, Tokens).Select(_ => random.Next(Vocabulary))];
        StreamingLanguageModel exact = StreamingLanguageModel.From(model), reduced = StreamingLanguageModel.From(model, precision);
        Assert.Equal(precision, reduced.Precision);
        Assert.True(reduced.RecurrentWeightBytes < exact.RecurrentWeightBytes);
        float[] p = new float[Vocabulary], q = new float[Vocabulary];
        double worst = 0;
        foreach (int token in tokens)
        {
            exact.Step(token, p);
            reduced.Step(token, q);
            double maxP = p.Max(), maxQ = q.Max(), sumP = p.Sum(v => Math.Exp(v - maxP)), sumQ = q.Sum(v => Math.Exp(v - maxQ));
            for (int v = 0; v < Vocabulary; v++)
            {
                double a = Math.Exp(p[v] - maxP) / sumP, b = Math.Exp(q[v] - maxQ) / sumQ;
                worst = Math.Max(worst, Math.Abs(a - b) / a);
            }
        }
        Assert.True(worst < tolerance, $"{precision}: largest relative difference of a probability {worst:E2}");
        Assert.True(worst > 0, "the reduced model computed exactly what fp32 did: was it quantized?");
    }

    [Fact]
    public void Large_compressed_layers_run_their_two_products_on_two_threads_with_the_same_result()
    {
        // 512 × 128 low-rank 32: 82 KB a matrix, past the threshold at which a step runs W_ih·x beside W_hh·h.
        var config = new LanguageModelConfig(Vocabulary, 128, 1);
        var model = new LanguageModel<float>(config);
        model.InitializeUniform(0.1, new Xoshiro256(3));
        model.CompressLstm(_ => WeightFormSpec.LowRank(32));
        var random = new Random(9);
        int[] tokens = [.. Enumerable.Range(0, 21).Select(_ => random.Next(Vocabulary))];
        model.Forward(tokens.AsSpan(0, 20), tokens.AsSpan(1, 20), 20, 1, model.CreateState(1));
        float[] expected = model.Output.ToArray();
        int threads = WorkerPool.SharedThreadCount;
        try
        {
            WorkerPool.SharedThreadCount = 2;
            var runtime = StreamingLanguageModel.From(model);
            var logits = new float[Vocabulary];
            for (int t = 0; t < 20; t++)
            {
                runtime.Step(tokens[t], logits);
                double max = logits.Max(), sum = logits.Sum(v => Math.Exp(v - max));
                for (int v = 0; v < Vocabulary; v++)
                    Assert.Equal(expected[t * Vocabulary + v], Math.Exp(logits[v] - max) / sum, expected[t * Vocabulary + v] * 1e-5);
            }
        }
        finally
        {
            WorkerPool.SharedThreadCount = threads;
        }
    }

    [Fact]
    public void Streaming_perplexity_equals_the_batched_evaluator_with_one_stream()
    {
        LanguageModel<float> model = Model("""{"kind":"doped","structure":{"kind":"low_rank","rank":2}}""", false, false);
        var random = new Random(12);
        int[] tokens = [.. Enumerable.Range(0, 300).Select(_ => random.Next(Vocabulary))];
        Perplexity batched = PerplexityEvaluator.Evaluate(model, tokens, batchSize: 1, bptt: 35);
        Perplexity streamed = StreamingScorer.Score(StreamingLanguageModel.From(model), tokens);
        Assert.Equal(batched.Tokens, streamed.Tokens);
        Assert.Equal(batched.Value, streamed.Value, batched.Value * 1e-5);
        Assert.Throws<ArgumentException>(() => StreamingScorer.Score(StreamingLanguageModel.From(model), [3]));
    }

    [Fact]
    public void A_token_costs_no_allocation()
    {
        foreach ((string json, bool combined, WeightPrecision precision) in new[]
                 {
                     ("""{"kind":"dense"}""", false, WeightPrecision.Float32), ("""{"kind":"dense"}""", false, WeightPrecision.Int8),
                     ("""{"kind":"dense"}""", false, WeightPrecision.Float16),
                     ("""{"kind":"doped","structure":{"kind":"kronecker","shape":"8x4,6x3","rank":1}}""", false, WeightPrecision.Float32),
                     ("""{"kind":"low_rank","rank":3}""", true, WeightPrecision.Float32),
                 })
        {
            var runtime = StreamingLanguageModel.From(Model(json, combined, tied: false), precision);
            var logits = new float[Vocabulary];
            for (int t = 0; t < 10; t++) runtime.Step(t, logits);
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int t = 0; t < 200; t++) runtime.Step(t % Vocabulary, logits);
            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        }
    }

    [Fact]
    public void Bad_tokens_and_short_buffers_are_refused()
    {
        var runtime = StreamingLanguageModel.From(Model("""{"kind":"dense"}""", false, false));
        Assert.Throws<ArgumentOutOfRangeException>(() => runtime.Advance(Vocabulary));
        Assert.Throws<ArgumentOutOfRangeException>(() => runtime.Advance(-1));
        Assert.Throws<ArgumentException>(() => runtime.Logits(new float[Vocabulary - 1]));
    }

    [Fact]
    public void Weight_bytes_follow_the_forms()
    {
        LanguageModel<float> dense = Model("""{"kind":"dense"}""", false, false);
        var denseRuntime = StreamingLanguageModel.From(dense);
        // 2 layers × (W_ih + W_hh: 4H × 2H floats, bias 4H) + one embedding row.
        Assert.Equal(4L * (2 * (4 * Hidden * 2 * Hidden + 4 * Hidden) + Hidden), denseRuntime.RecurrentWeightBytes);
        Assert.Equal(4L * (Vocabulary * Hidden + Vocabulary), denseRuntime.DecoderWeightBytes);
        var kron = StreamingLanguageModel.From(Model("""{"kind":"kronecker","shape":"8x4,6x3","rank":1}""", false, false));
        Assert.Equal(4L * (2 * (2 * (32 + 18) + 4 * Hidden) + Hidden), kron.RecurrentWeightBytes);
    }

    [Theory]
    [InlineData("""{"kind":"low_rank","rank":3}""", """{"kind":"doped","structure":{"kind":"low_rank","rank":3}}""", false)]
    [InlineData("""{"kind":"kronecker","shape":"41x4,1x3","rank":1}""", """{"kind":"pruned","block":"4x1"}""", false)]
    [InlineData("""{"kind":"doped","structure":{"kind":"low_rank","rank":2}}""", "", true)]
    public void A_compressed_embedding_and_decoder_stream_what_the_training_forward_computes(string embedding, string decoder, bool tied)
    {
        var model = new LanguageModel<float>(new LanguageModelConfig(Vocabulary, Hidden, 2, TiedWeights: tied));
        model.InitializeUniform(0.3, new Xoshiro256(7));
        model.Compress(name => name == LanguageModel<float>.EncoderWeightName ? WeightFormSpec.Parse(embedding)
            : name == LanguageModel<float>.DecoderWeightName ? WeightFormSpec.Parse(decoder) : null);
        var random = new Random(5);
        foreach (Parameter<float> p in model.Parameters)
            for (int k = 0; k < p.Length; k++) p.Value[k] = (float)(random.NextDouble() * 0.6 - 0.3);
        foreach (PrunedMatrix<float> part in model.WeightMatrices.SelectMany(m => WeightForms.PrunedParts(m.Matrix))) part.PruneToSparsity(0.7);
        int[] tokens = [.. Enumerable.Range(0, Tokens + 1).Select(_ => random.Next(Vocabulary))];
        model.Forward(tokens.AsSpan(0, Tokens), tokens.AsSpan(1, Tokens), Tokens, 1, model.CreateState(1));
        float[] expected = model.Output.ToArray();

        var runtime = StreamingLanguageModel.From(model, WeightPrecision.Float32);
        var logits = new float[Vocabulary];
        double worst = 0;
        for (int t = 0; t < Tokens; t++)
        {
            runtime.Step(tokens[t], logits);
            double max = logits.Max(), sum = logits.Sum(v => Math.Exp(v - max));
            for (int v = 0; v < Vocabulary; v++)
            {
                double p = Math.Exp(logits[v] - max) / sum, q = expected[t * Vocabulary + v];
                worst = Math.Max(worst, Math.Abs(p - q) / q);
            }
        }
        Assert.True(worst < 1e-5, $"largest relative difference of a probability: {worst:E2}");
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int t = 0; t < 100; t++) runtime.Step(tokens[t % Tokens], logits);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    public static TheoryData<RecurrentCell, int, string> GeneralModels() => new()
    {
        { RecurrentCell.Gru, Hidden, """{"kind":"dense"}""" },
        { RecurrentCell.Gru, 7, """{"kind":"dense"}""" },
        { RecurrentCell.Gru, 20, """{"kind":"low_rank","rank":3}""" },
        { RecurrentCell.Gru, Hidden, """{"kind":"doped","structure":{"kind":"low_rank","rank":2},"block":"16x1"}""" },
        { RecurrentCell.Gru, Hidden, """{"kind":"pruned"}""" },
        { RecurrentCell.Lstm, 7, """{"kind":"dense"}""" },
        { RecurrentCell.Lstm, 20, """{"kind":"doped","structure":{"kind":"low_rank","rank":2}}""" },
    };

    [Theory]
    [MemberData(nameof(GeneralModels))]
    public void Gru_cells_and_other_embedding_widths_stream_what_the_training_forward_computes(RecurrentCell cell, int embedding, string json)
    {
        LanguageModel<float> model = Model(json, combined: false, tied: false, cell, embedding);
        var random = new Random(embedding);
        int[] tokens = [.. Enumerable.Range(0, Tokens + 1).Select(_ => random.Next(Vocabulary))];
        model.Forward(tokens.AsSpan(0, Tokens), tokens.AsSpan(1, Tokens), Tokens, 1, model.CreateState(1));
        float[] expected = model.Output.ToArray();

        var runtime = StreamingLanguageModel.From(model);
        var logits = new float[Vocabulary];
        double worst = 0;
        for (int t = 0; t < Tokens; t++)
        {
            runtime.Step(tokens[t], logits);
            double max = logits.Max(), sum = logits.Sum(v => Math.Exp(v - max));
            for (int v = 0; v < Vocabulary; v++)
            {
                double p = Math.Exp(logits[v] - max) / sum, q = expected[t * Vocabulary + v];
                worst = Math.Max(worst, Math.Abs(p - q) / q);
            }
        }
        Assert.True(worst < 1e-5, $"largest relative difference of a probability: {worst:E2}");

        var quantized = StreamingLanguageModel.From(model, WeightPrecision.Int8);
        for (int t = 0; t < 10; t++) quantized.Step(tokens[t], logits);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int t = 0; t < 100; t++) quantized.Step(tokens[t % Tokens], logits);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    private static LanguageModel<float> Model(string json, bool combined, bool tied, RecurrentCell cell = RecurrentCell.Lstm, int embedding = Hidden)
    {
        var model = new LanguageModel<float>(new LanguageModelConfig(Vocabulary, Hidden, 2, TiedWeights: tied) { Cell = cell, EmbeddingSize = embedding });
        model.InitializeUniform(0.3, new Xoshiro256(7));
        WeightFormSpec spec = WeightFormSpec.Parse(json);
        if (combined) model.CombineLstm(_ => spec);
        else model.CompressLstm(_ => spec);
        var random = new Random(3);
        foreach (IRecurrentLayer<float> layer in model.Layers)
            foreach ((_, IWeightMatrix<float> matrix) in layer.WeightMatrices)
            {
                foreach (Parameter<float> p in matrix.Parameters)
                    for (int k = 0; k < p.Length; k++) p.Value[k] = (float)(random.NextDouble() * 0.6 - 0.3);
                foreach (PrunedMatrix<float> pruned in WeightForms.PrunedParts(matrix)) pruned.PruneToSparsity(0.8);
            }
        return model;
    }
}
