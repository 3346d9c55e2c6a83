using System.CommandLine;
using Dopant.Models;
using Dopant.Training;

namespace Dopant.Cli.Commands;

/// <summary><c>dopant export</c>: writes a model's compact deployment file (sparse parts in CSR, no training state).</summary>
internal static class ExportCommand
{
    public static Command Create()
    {
        var command = new Command("export", "Write a model's compact file: pruned parts as CSR arrays, no training state; its tensor bytes are the compression accounting's.");
        var model = new Option<string>("--model") { Description = "Model or checkpoint file (safetensors).", Required = true };
        var output = new Option<string>("--out") { Description = "The compact file to write.", Required = true };
        var force = new Option<bool>("--force") { Description = "Overwrite an existing --out file." };
        foreach (Option o in new Option[] { model, output, force }) command.Options.Add(o);
        command.SetAction(parse =>
        {
            string path = parse.GetValue(output)!;
            if (File.Exists(path) && !parse.GetValue(force))
                throw new ArgumentException($"'{path}' exists; pass --force to overwrite it.");
            ModelCheckpoint checkpoint = ModelCheckpoint.Load(parse.GetValue(model)!);
            ModelCheckpoint.Save(path, checkpoint.Model, checkpoint.Vocabulary, compact: true);
            CompressionReport report = checkpoint.Model.CompressionReport();
            Console.WriteLine($"wrote {path}: {new FileInfo(path).Length:N0} bytes on disk for {report.ModelBytes:N0} bytes of weights; {TrainCommand.Describe(report)}");
            return 0;
        });
        return command;
    }
}
