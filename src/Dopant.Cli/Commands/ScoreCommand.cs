using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using Dopant.Data;
using Dopant.Inference;
using Dopant.Training;

namespace Dopant.Cli.Commands;

/// <summary><c>dopant score</c>: perplexity of a text file, read token by token on the streaming runtime.</summary>
internal static class ScoreCommand
{
    public static Command Create()
    {
        var command = new Command("score", "Perplexity of a PTB-format text file (one sentence a line) under a model, on the streaming runtime.");
        var model = new Option<string>("--model") { Description = "Model file (safetensors).", Required = true };
        var text = new Option<string>("--text") { Description = "Text file to score.", Required = true };
        var json = new Option<bool>("--json") { Description = "Print the result as one JSON object." };
        var threads = ThreadsOption.Create();
        foreach (Option o in new Option[] { model, text, json, threads }) command.Options.Add(o);
        command.SetAction(parse =>
        {
            ThreadsOption.Apply(parse, threads);
            ModelCheckpoint checkpoint = ModelCheckpoint.Load(parse.GetValue(model)!);
            int[] tokens = PtbCorpus.ReadFile(parse.GetValue(text)!, checkpoint.Vocabulary);
            var clock = Stopwatch.StartNew();
            Perplexity result = StreamingScorer.Score(StreamingLanguageModel.From(checkpoint.Model), tokens);
            double tokensPerSecond = result.Tokens / clock.Elapsed.TotalSeconds;
            if (parse.GetValue(json))
                Console.WriteLine(JsonSerializer.Serialize(new { model = parse.GetValue(model), text = parse.GetValue(text), perplexity = result.Value, tokens = result.Tokens, tokens_per_s = tokensPerSecond }));
            else
                Console.WriteLine($"perplexity {result.Value:F2} over {result.Tokens:N0} tokens, {tokensPerSecond:N0} tokens/s");
            return 0;
        });
        return command;
    }
}
