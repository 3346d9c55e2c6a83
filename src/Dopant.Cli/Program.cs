using System.CommandLine;
using Dopant.Cli;
using Dopant.Cli.Commands;

var root = new RootCommand("Dopant: train, compress and run LSTM and GRU language models on the CPU.");
root.Subcommands.Add(DemoCommand.Create());
root.Subcommands.Add(ReportCommand.Create());
root.Subcommands.Add(DataCommand.Create());
root.Subcommands.Add(TrainCommand.Create());
root.Subcommands.Add(EvalCommand.Create());
root.Subcommands.Add(CompressCommand.Create());
root.Subcommands.Add(SearchCommand.Create());
root.Subcommands.Add(ExportCommand.Create());
root.Subcommands.Add(InspectCommand.Create());
root.Subcommands.Add(GenerateCommand.Create());
root.Subcommands.Add(ScoreCommand.Create());
root.Subcommands.Add(BenchCommand.Create());
return CommandLineErrors.Invoke(root, args);
