using System.CommandLine;
using Dopant.Cli.Runs;

namespace Dopant.Cli.Commands;

/// <summary><c>dopant report RUN_DIR</c>: rebuilds a run folder's HTML report and summary table from its stored results.</summary>
internal static class ReportCommand
{
    public static Command Create()
    {
        var command = new Command("report", "Rebuild RUN_DIR/report.html (self-contained: table and inline SVG charts) and print the summary table from the run's stored results.");
        var folder = new Argument<string>("RUN_DIR") { Description = "A run folder written by 'dopant demo' or by 'dopant train --run' / 'compress --run'." };
        command.Arguments.Add(folder);
        command.SetAction(parse =>
        {
            var run = new RunFolder(parse.GetValue(folder)!);
            RunReport report = RunReport.Load(run);
            report.Write();
            report.PrintTable();
            Console.Error.WriteLine($"wrote {run.Report}");
            return 0;
        });
        return command;
    }
}
