using System.CommandLine;
using Dopant.Data;
using Dopant.IO;
using Dopant.Inference;
using Dopant.Matrices;
using Dopant.Models;
using Dopant.Onnx;
using Dopant.Training;

namespace Dopant.Cli.Commands;

/// <summary><c>dopant export</c>: writes a model's compact deployment file (sparse parts in CSR, no training state).</summary>
internal static class ExportCommand
{
    public static Command Create()
    {
        var command = new Command("export", "Write a model's compact file (or, with --format onnx, its ONNX step): pruned parts as CSR arrays, dense matrices optionally in fp16 or int8 with per-row scales, no training state; in fp32 its tensor bytes are the compression accounting's.");
        var model = new Option<string>("--model") { Description = "Model or checkpoint file (safetensors).", Required = true };
        var vocab = VocabularyOption.Create();
        var output = new Option<string>("--out") { Description = "The compact file to write.", Required = true };
        var force = new Option<bool>("--force") { Description = "Overwrite an existing --out file." };
        var precision = PrecisionOption.Create("How the dense matrices (embedding, dense recurrent matrices, decoder) are stored");
        var head = new Option<string?>("--head")
        {
            Description = "Import a PyTorch tagger (token_labels) or classifier (sequence_label) state dict: nn.Embedding 'encoder', nn.LSTM/nn.GRU 'rnn' (bidirectional allowed), nn.Linear 'decoder'; needs --vocab and --labels.",
        };
        head.AcceptOnlyFromAmong("token_labels", "sequence_label");
        var labels = new Option<string?>("--labels") { Description = "With --head: the labels, one a line in id order." };
        var pooling = new Option<string?>("--pooling") { Description = "With --head sequence_label: final (default) or mean." };
        pooling.AcceptOnlyFromAmong("final", "mean");
        var format = new Option<string>("--format") { Description = "safetensors (the compact file, default) or onnx (the one-token step of a language model for ONNX Runtime: inputs token, h[, c]; outputs logits, h_out[, c_out]).", DefaultValueFactory = _ => "safetensors" };
        format.AcceptOnlyFromAmong("safetensors", "onnx");
        var names = new Option<string?>("--names") { Description = "With --head: a file of 'FROM TO' lines rewriting tensor-name prefixes, e.g. 'lstm. rnn.' and 'fc. decoder.'." };
        foreach (Option o in new Option[] { model, vocab, output, format, precision, force, head, labels, pooling, names }) command.Options.Add(o);
        command.SetAction(parse =>
        {
            string path = parse.GetValue(output)!;
            if (File.Exists(path) && !parse.GetValue(force))
                throw new ArgumentException($"'{path}' exists; pass --force to overwrite it.");
            WeightPrecision weights = PrecisionOption.Get(parse, precision);
            if (parse.GetValue(head) is null && (parse.GetValue(labels) ?? parse.GetValue(pooling) ?? parse.GetValue(names)) is not null)
                throw new ArgumentException("--labels, --pooling and --names import a tagger or classifier; give --head too.");
            bool onnx = parse.GetValue(format) == "onnx";
            if (parse.GetValue(head) is { } headName || LabelerCheckpoint.Holds(parse.GetValue(model)!))
            {
                if (onnx) throw new ArgumentException("--format onnx exports language models; taggers and classifiers are written as safetensors only.");
                LabelerImport? import = null;
                if (parse.GetValue(head) is not null)
                    import = new LabelerImport(
                        Vocabulary.ReadWordList(parse.GetValue(vocab) ?? throw new ArgumentException("--head needs --vocab, the words one a line in id order.")),
                        LabelerImport.ReadLabels(parse.GetValue(labels) ?? throw new ArgumentException("--head needs --labels, the labels one a line in id order.")),
                        parse.GetValue(head) == "token_labels" ? LabelHead.TokenLabels : LabelHead.SequenceLabel,
                        parse.GetValue(pooling) == "mean" ? SentencePooling.Mean : SentencePooling.Final)
                    {
                        Names = parse.GetValue(names) is { } map ? LabelerImport.ReadNames(map) : [],
                    };
                LabelerCheckpoint labeler = LabelerCheckpoint.Load(parse.GetValue(model)!, import);
                LabelerCheckpoint.Save(path, labeler.Model, labeler.Vocabulary, labeler.Labels, compact: true, precision: weights);
                Console.WriteLine($"wrote {path}: {new FileInfo(path).Length:N0} bytes on disk, " +
                    $"{SafeTensorsFile.Load(path).Tensors.Sum(t => (long)t.Data.Length):N0} bytes of tensors");
                return 0;
            }
            ModelCheckpoint checkpoint = VocabularyOption.LoadModel(parse, vocab, parse.GetValue(model)!);
            if (onnx)
            {
                long bytes = OnnxExport.Write(checkpoint.Model, path, weights);
                Console.WriteLine($"wrote {path}: {bytes:N0} bytes, the one-token step of {checkpoint.Model.Config.Describe()}" +
                    $"{(weights == WeightPrecision.Float32 ? "" : $", dense matrices in {parse.GetValue(precision)}")}; " +
                    $"inputs token (int64 [1]), h{(checkpoint.Model.Config.Cell == RecurrentCell.Lstm ? ", c" : "")} (float [{checkpoint.Model.Config.Layers}, {checkpoint.Model.Config.HiddenSize}], zeros at the start); " +
                    $"outputs logits [1, {checkpoint.Model.Config.VocabularySize}] and the next state");
                return 0;
            }
            ModelCheckpoint.Save(path, checkpoint.Model, checkpoint.Vocabulary, compact: true, precision: weights);
            CompressionReport report = checkpoint.Model.CompressionReport();
            long tensorBytes = SafeTensorsFile.Load(path).Tensors.Sum(t => (long)t.Data.Length);
            Console.WriteLine($"wrote {path}: {new FileInfo(path).Length:N0} bytes on disk, {tensorBytes:N0} bytes of tensors " +
                $"({report.ModelBytes:N0} in fp32){(weights == WeightPrecision.Float32 ? "" : $", dense matrices and single sparse entries in {parse.GetValue(precision)}")}, " +
                $"{(double)report.DenseModelBytes / tensorBytes:F2}x fewer than the dense fp32 model's {report.DenseModelBytes:N0}; {TrainCommand.Describe(report)}");
            return 0;
        });
        return command;
    }
}
