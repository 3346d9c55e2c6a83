using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using Dopant.Data;
using Dopant.Inference;
using Dopant.Matrices;
using Dopant.Tasks;
using Dopant.Training;

namespace Dopant.Cli.Commands;

/// <summary><c>dopant score</c>: perplexity of a text file, read token by token on the streaming runtime.</summary>
internal static class ScoreCommand
{
    public static Command Create()
    {
        var command = new Command("score", "Perplexity of a PTB-format text file (one sentence a line) under a model, on the streaming runtime.");
        var model = new Option<string>("--model") { Description = "Model file (safetensors).", Required = true };
        var vocab = VocabularyOption.Create();
        var text = new Option<string>("--text") { Description = "Text file to score.", Required = true };
        var batch = new Option<int>("--batch-size") { Description = "1: one stream on the streaming runtime; more: that many parallel streams in windows of --bptt (batched scoring).", DefaultValueFactory = _ => 1 };
        var bptt = new Option<int>("--bptt") { Description = "Window length of batched scoring.", DefaultValueFactory = _ => 35 };
        var json = new Option<bool>("--json") { Description = "Print the result as one JSON object." };
        var threads = ThreadsOption.Create();
        var precision = PrecisionOption.Create("With one stream: how the runtime stores the dense matrices");
        foreach (Option o in new Option[] { model, vocab, text, batch, bptt, precision, json, threads }) command.Options.Add(o);
        command.SetAction(parse =>
        {
            ThreadsOption.Apply(parse, threads);
            ModelCheckpoint checkpoint = VocabularyOption.LoadModel(parse, vocab, parse.GetValue(model)!);
            int[] tokens = PtbCorpus.ReadFile(parse.GetValue(text)!, checkpoint.Vocabulary);
            int streams = parse.GetValue(batch), window = parse.GetValue(bptt);
            if (streams < 1 || window < 1) throw new ArgumentException("--batch-size and --bptt must be at least 1.");
            WeightPrecision weights = PrecisionOption.Get(parse, precision);
            if (streams > 1 && weights != WeightPrecision.Float32) throw new ArgumentException("--precision applies to one stream (--batch-size 1); batched scoring runs in fp32.");
            var clock = Stopwatch.StartNew();
            Perplexity result = streams == 1
                ? StreamingScorer.Score(StreamingLanguageModel.From(checkpoint.Model, weights), tokens)
                : PerplexityEvaluator.Evaluate(checkpoint.Model, tokens, streams, window);
            double tokensPerSecond = result.Tokens / clock.Elapsed.TotalSeconds;
            if (parse.GetValue(json))
                Console.WriteLine(JsonSerializer.Serialize(new { model = parse.GetValue(model), text = parse.GetValue(text), batch_size = streams, precision = parse.GetValue(precision), perplexity = result.Value, tokens = result.Tokens, tokens_per_s = tokensPerSecond }));
            else
                Console.WriteLine($"perplexity {result.Value:F2} over {result.Tokens:N0} tokens, {tokensPerSecond:N0} tokens/s ({(streams == 1 ? "one stream" : $"{streams} streams")})");
            return 0;
        });
        return command;
    }
}
