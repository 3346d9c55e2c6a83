using System.CommandLine;
using System.Text.Json;
using Dopant.Matrices;
using Dopant.Models;
using Dopant.Training;

namespace Dopant.Cli.Commands;

/// <summary><c>dopant inspect</c>: what a model file holds: the architecture (stored or inferred), every weight matrix's form and size.</summary>
internal static class InspectCommand
{
    public static Command Create()
    {
        var command = new Command("inspect", "Print a model file's architecture (from dopant.config, or inferred from a PyTorch state dict's tensor names and shapes) and every weight matrix's form, parameters and bytes.");
        var file = new Argument<string>("FILE") { Description = "Model file (safetensors)." };
        var vocab = VocabularyOption.Create();
        var json = new Option<bool>("--json") { Description = "Print one JSON object." };
        command.Arguments.Add(file);
        command.Options.Add(vocab);
        command.Options.Add(json);
        command.SetAction(parse =>
        {
            string path = parse.GetValue(file)!;
            if (LabelerCheckpoint.Holds(path))
            {
                DescribeLabeler(path, parse.GetValue(json));
                return 0;
            }
            ModelCheckpoint checkpoint = VocabularyOption.LoadModel(parse, vocab, path);
            LanguageModel<float> model = checkpoint.Model;
            LanguageModelConfig config = model.Config;
            List<MatrixRow> matrices = MatrixRow.Of(model.WeightMatrices);
            CompressionReport report = model.CompressionReport();
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(new
                {
                    file = path,
                    architecture_inferred = checkpoint.ArchitectureInferred,
                    cell = config.Cell.Name(),
                    vocab_size = config.VocabularySize,
                    embedding_size = config.EmbeddingSize,
                    hidden_size = config.HiddenSize,
                    hidden_sizes = Enumerable.Range(0, config.Layers).Select(config.HiddenSizeOf).ToArray(),
                    num_layers = config.Layers,
                    tied = config.TiedWeights,
                    matrices,
                    compression = report,
                    epochs_completed = checkpoint.State?.EpochsCompleted,
                }, ModelCheckpoint.Json));
                return 0;
            }
            Console.WriteLine($"{path}: {config.Describe()}" +
                (checkpoint.ArchitectureInferred ? " (no dopant.config: inferred from the tensors' names and shapes)" : ""));
            MatrixRow.Print(matrices);
            Console.WriteLine($"  whole model: {report.ModelParameters:N0} parameters, {report.ModelBytes:N0} bytes" +
                (report.IsCompressed ? $" ({report.ModelParameterFactor:F2}x fewer parameters, {report.ModelByteFactor:F2}x fewer bytes than dense)" : ", all dense"));
            if (checkpoint.State is { } state) Console.WriteLine($"  a training checkpoint after epoch {state.EpochsCompleted}");
            return 0;
        });
        return command;
    }

    private static void DescribeLabeler(string path, bool json)
    {
        LabelerCheckpoint checkpoint = LabelerCheckpoint.Load(path);
        SentenceModelConfig c = checkpoint.Model.Config;
        List<MatrixRow> matrices = MatrixRow.Of(checkpoint.Model.WeightMatrices);
        string head = c.Head == LabelHead.TokenLabels ? "token_labels" : "sequence_label";
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                file = path, head, pooling = c.Head == LabelHead.SequenceLabel ? (c.Pooling == SentencePooling.Mean ? "mean" : "final") : null,
                cell = c.Cell.Name(), bidirectional = c.Bidirectional, vocab_size = c.VocabularySize, embedding_size = c.EmbeddingSize,
                hidden_size = c.HiddenSize, hidden_sizes = Enumerable.Range(0, c.Layers).Select(c.HiddenSizeOf).ToArray(), num_layers = c.Layers, labels = checkpoint.Labels, matrices, epochs_completed = checkpoint.State?.EpochsCompleted,
            }, ModelCheckpoint.Json));
            return;
        }
        Console.WriteLine($"{path}: a {(c.Head == LabelHead.TokenLabels ? "tagger" : $"classifier ({(c.Pooling == SentencePooling.Mean ? "mean" : "final-state")} pooling)")}, " +
            $"{c.DescribeLayers()} {(c.Bidirectional ? "bidirectional " : "")}{c.Cell.Name().ToUpperInvariant()}, embedding {c.EmbeddingSize}, " +
            $"vocabulary {c.VocabularySize}, {c.LabelCount} labels ({string.Join(" ", checkpoint.Labels.Take(12))}{(c.LabelCount > 12 ? " ..." : "")})");
        MatrixRow.Print(matrices);
        if (checkpoint.State is { } state) Console.WriteLine($"  a training checkpoint after epoch {state.EpochsCompleted}");
    }

    // One weight matrix as inspect shows it (snake_case in --json: name, rows, columns, form, parameters, bytes).
    private sealed record MatrixRow(string Name, int Rows, int Columns, string Form, long Parameters, long Bytes)
    {
        public static List<MatrixRow> Of(IReadOnlyList<(string Name, IWeightMatrix<float> Matrix)> matrices) =>
        [
            .. matrices.Select(m => new MatrixRow(m.Name, m.Matrix.Rows, m.Matrix.Columns, WeightForms.Describe(m.Matrix).Kind,
                m.Matrix.ParameterCount, m.Matrix.StorageBytes)),
        ];

        public static void Print(List<MatrixRow> rows)
        {
            int width = rows.Max(m => m.Name.Length);
            foreach (MatrixRow m in rows)
                Console.WriteLine($"  {m.Name.PadRight(width)}  {m.Rows,6} x {m.Columns,-6} {m.Form,-14} {m.Parameters,12:N0} parameters {m.Bytes,14:N0} bytes");
        }
    }
}
