using System.CommandLine;
using System.Text;
using Dopant.Data;
using Dopant.Inference;
using Dopant.Training;

namespace Dopant.Cli.Commands;

/// <summary><c>dopant generate</c>: samples text from a model after a prompt, on the streaming runtime.</summary>
internal static class GenerateCommand
{
    public static Command Create()
    {
        var command = new Command("generate", "Continue a prompt by sampling from a model (temperature and top-k), token by token.");
        var model = new Option<string>("--model") { Description = "Model file (safetensors).", Required = true };
        var vocab = VocabularyOption.Create();
        var prompt = new Option<string>("--prompt") { Description = "Words to start from (unknown words read as <unk>).", DefaultValueFactory = _ => "" };
        var tokens = new Option<int>("--tokens") { Description = "Tokens to generate.", DefaultValueFactory = _ => 50 };
        var temperature = new Option<double>("--temperature") { Description = "Softmax temperature (below 1 sharper, above 1 flatter).", DefaultValueFactory = _ => 1.0 };
        var topK = new Option<int>("--top-k") { Description = "Sample only among the k most likely tokens (0: all).", DefaultValueFactory = _ => 40 };
        var seed = new Option<ulong>("--seed") { Description = "Random seed.", DefaultValueFactory = _ => 1 };
        var threads = ThreadsOption.Create();
        var precision = PrecisionOption.Create("How the runtime stores the dense matrices");
        foreach (Option o in new Option[] { model, vocab, prompt, tokens, temperature, topK, seed, precision, threads }) command.Options.Add(o);
        command.SetAction(parse =>
        {
            ThreadsOption.Apply(parse, threads);
            int count = parse.GetValue(tokens);
            if (count < 1) throw new ArgumentException($"--tokens must be at least 1 (got {count}).");
            var sampler = new TokenSampler(parse.GetValue(temperature), parse.GetValue(topK), parse.GetValue(seed));
            ModelCheckpoint checkpoint = VocabularyOption.LoadModel(parse, vocab, parse.GetValue(model)!);
            Vocabulary vocabulary = checkpoint.Vocabulary;
            var runtime = StreamingLanguageModel.From(checkpoint.Model, PrecisionOption.Get(parse, precision));
            // The stream starts as after a sentence end, then reads the prompt.
            string[] words = parse.GetValue(prompt)!.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            string[] unknown = [.. words.Where(w => !vocabulary.TryGetId(w, out _)).Distinct()];
            if (unknown.Length > 0 && vocabulary.UnknownId < 0)
                throw new ArgumentException($"The prompt word '{unknown[0]}' is not in the model's vocabulary of {vocabulary.Count} words, which has no {Vocabulary.UnknownWord}.");
            if (unknown.Length > 0)
                Console.Error.WriteLine($"note: the prompt words {string.Join(", ", unknown.Select(w => $"'{w}'"))} are not in the vocabulary; the model reads them as {Vocabulary.UnknownWord}.");
            int[] start = [.. vocabulary.EndOfSentenceId >= 0 ? [vocabulary.EndOfSentenceId] : Array.Empty<int>(), .. words.Select(vocabulary.GetIdOrUnknown)];
            var logits = new float[runtime.VocabularySize];
            foreach (int token in start) runtime.Step(token, logits);
            var text = new StringBuilder(parse.GetValue(prompt));
            for (int i = 0; i < count; i++)
            {
                int next = sampler.Sample(logits);
                string word = vocabulary.Words[next];
                text.Append(next == vocabulary.EndOfSentenceId ? "\n" : (text.Length == 0 || text[^1] == '\n' ? "" : " ") + word);
                runtime.Step(next, logits);
            }
            Console.WriteLine(text.ToString().TrimEnd('\n'));
            return 0;
        });
        return command;
    }
}
