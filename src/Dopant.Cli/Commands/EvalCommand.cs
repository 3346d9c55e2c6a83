using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using Dopant.Data;
using Dopant.Matrices;
using Dopant.Models;
using Dopant.Tasks;
using Dopant.Training;

namespace Dopant.Cli.Commands;

/// <summary><c>dopant eval</c>: validation and test perplexity of a saved model.</summary>
internal static class EvalCommand
{
    public static Command Create()
    {
        var command = new Command("eval", "Report a model's perplexity (bits per character for a character model) on the valid and test splits of a PTB-format folder, or a tagger's or classifier's accuracy.");
        var model = new Option<string>("--model") { Description = "Model file (safetensors): from train, compress, export or search, or a PyTorch state dict (with --vocab when it has no dopant.vocab metadata).", Required = true };
        var vocab = VocabularyOption.Create();
        var data = new Option<string?>("--data") { Description = "PTB-format folder; default: the cached brown-ptb." };
        var batch = new Option<int?>("--batch-size") { Description = "Evaluation batch size (default: the model's, else 10)." };
        var bptt = new Option<int?>("--bptt") { Description = "Window length (default: the model's, else 35)." };
        var json = new Option<bool>("--json") { Description = "Print the result as one JSON object." };
        var threads = ThreadsOption.Create();
        foreach (Option o in new Option[] { model, vocab, data, batch, bptt, json, threads }) command.Options.Add(o);
        command.SetAction(parse =>
        {
            ThreadsOption.Apply(parse, threads);
            if (LabelerCheckpoint.Holds(parse.GetValue(model)!))
            {
                LabelerCommands.Evaluate(parse.GetValue(model)!, parse.GetValue(data) ?? throw new ArgumentException("A tagger or classifier needs --data, the folder of its valid.txt and test.txt."),
                    parse.GetValue(json));
                return 0;
            }
            ModelCheckpoint checkpoint = VocabularyOption.LoadModel(parse, vocab, parse.GetValue(model)!);
            bool characters = checkpoint.Vocabulary.IsCharacterLevel;
            PtbCorpus corpus = PtbCorpus.Load(DataCommand.ResolveDataFolder(parse.GetValue(data), characters ? BrownDataset.Characters : BrownDataset.Ptb), checkpoint.Vocabulary);
            int batchSize = parse.GetValue(batch) ?? checkpoint.Options?.EvalBatchSize ?? 10;
            int window = parse.GetValue(bptt) ?? checkpoint.Options?.Bptt ?? 35;
            if (batchSize < 1 || window < 1) throw new ArgumentException("--batch-size and --bptt must be at least 1.");
            var clock = Stopwatch.StartNew();
            Perplexity valid = PerplexityEvaluator.Evaluate(checkpoint.Model, corpus.Valid, batchSize, window);
            Perplexity test = PerplexityEvaluator.Evaluate(checkpoint.Model, corpus.Test, batchSize, window);
            double tokensPerSecond = (valid.Tokens + test.Tokens) / clock.Elapsed.TotalSeconds;
            CompressionReport report = checkpoint.Model.CompressionReport();
            bool compressed = report.IsCompressed;
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(new
                {
                    model = parse.GetValue(model),
                    valid_ppl = valid.Value,
                    test_ppl = test.Value,
                    valid_bpc = characters ? valid.BitsPerToken : (double?)null,
                    test_bpc = characters ? test.BitsPerToken : (double?)null,
                    tokens_per_s = tokensPerSecond,
                    method = checkpoint.Options?.Compression,
                    compression = compressed ? report : null,
                }, ModelCheckpoint.Json));
                return 0;
            }
            if (checkpoint.Options?.Compression is { } method)
                Console.WriteLine(method.Describe(share: true));
            if (compressed) Console.WriteLine(TrainCommand.Describe(report));
            Console.WriteLine(characters
                ? $"valid {valid.BitsPerToken:F4} bits per character (perplexity {valid.Value:F3}, {valid.Tokens:N0} characters), test {test.BitsPerToken:F4} bits per character (perplexity {test.Value:F3}, {test.Tokens:N0} characters), {tokensPerSecond:N0} characters/s"
                : $"valid perplexity {valid.Value:F2} ({valid.Tokens:N0} tokens), test perplexity {test.Value:F2} ({test.Tokens:N0} tokens), {tokensPerSecond:N0} tokens/s");
            return 0;
        });
        return command;
    }
}
