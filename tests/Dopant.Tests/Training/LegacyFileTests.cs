using System.Text.Json;
using Dopant.Data;
using Dopant.Inference;
using Dopant.Matrices;
using Dopant.Models;
using Dopant.Tasks;
using Dopant.Training;

namespace Dopant.Tests.Training;

/// <summary>
/// Files written before the general model core (Fixtures/legacy, by commit 6a09677: a dense model with Adam state, a
/// doped 16x1 training checkpoint with masks and Adam state, and its int8 compact export) load and score exactly as
/// that build printed (expected.json, with the commands that wrote it).
/// </summary>
public class LegacyFileTests
{
    private static readonly string Folder = Path.Combine(AppContext.BaseDirectory, "Fixtures", "legacy");

    private static JsonElement Expected => JsonDocument.Parse(File.ReadAllText(Path.Combine(Folder, "expected.json"))).RootElement;

    [Theory]
    [InlineData("dense.safetensors")]
    [InlineData("dkp.safetensors")]
    [InlineData("dkp.int8.safetensors")]
    public void Eval_gives_the_perplexities_the_old_build_printed(string file)
    {
        ModelCheckpoint checkpoint = ModelCheckpoint.Load(Path.Combine(Folder, file));
        PtbCorpus corpus = PtbCorpus.Load(Folder, checkpoint.Vocabulary);
        JsonElement expected = Expected.GetProperty("eval").GetProperty(file);
        // The training forms' kernels are free to sum in another order than the old build's (a Kronecker form's passes
        // may multiply by its materialized W); the printed digits (F2) hold, and far more.
        foreach ((string key, int[] tokens) in new[] { ("valid_ppl", corpus.Valid.ToArray()), ("test_ppl", corpus.Test.ToArray()) })
        {
            double printed = expected.GetProperty(key).GetDouble(), perplexity = PerplexityEvaluator.Evaluate(checkpoint.Model, tokens, 4, 5).Value;
            Assert.Equal(printed.ToString("F2"), perplexity.ToString("F2"));
            Assert.True(Math.Abs(perplexity - printed) <= 1e-6 * printed, $"{key}: {perplexity} vs {printed}");
        }
    }

    [Theory]
    [InlineData("dkp.safetensors", WeightPrecision.Float32)]
    [InlineData("dkp.int8.safetensors", WeightPrecision.Int8)]
    public void The_streaming_runtime_scores_what_the_old_build_printed(string file, WeightPrecision precision)
    {
        ModelCheckpoint checkpoint = ModelCheckpoint.Load(Path.Combine(Folder, file));
        int[] tokens = PtbCorpus.ReadFile(Path.Combine(Folder, "test.txt"), checkpoint.Vocabulary);
        double perplexity = StreamingScorer.Score(StreamingLanguageModel.From(checkpoint.Model, precision), tokens).Value;
        // The runtime's kernels are free to sum in another order than the old build's; the printed digits (F2) hold.
        double expected = Expected.GetProperty("score").GetProperty(file).GetProperty("perplexity").GetDouble();
        Assert.Equal(expected.ToString("F2"), perplexity.ToString("F2"));
        Assert.True(Math.Abs(perplexity - expected) <= 1e-6 * expected, $"{perplexity} vs {expected}");
    }

    [Fact]
    public void A_legacy_training_checkpoint_keeps_its_method_block_and_optimizer_state()
    {
        ModelCheckpoint checkpoint = ModelCheckpoint.Load(Path.Combine(Folder, "dkp.safetensors"));
        LstmCompression method = checkpoint.Options!.Compression!;
        Assert.Equal((CompressionMethod.Dkp, 4.0, BlockShape.Parse("16x1")), (method.Method, method.Factor, method.Block!.Value));
        Assert.Equal(RecurrentCell.Lstm, checkpoint.Model.Config.Cell);
        Assert.Equal(checkpoint.Model.Config.HiddenSize, checkpoint.Model.Config.EmbeddingSize);
        Assert.NotEmpty(checkpoint.OptimizerState);
        Assert.Equal(2, checkpoint.State!.EpochsCompleted);
    }
}
