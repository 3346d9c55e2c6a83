using System.Text.Json;
using Dopant.IO;
using Dopant.Tests.Data;
using Dopant.Training;

namespace Dopant.Tests.Cli;

/// <summary><c>dopant train --run DIR</c> and <c>compress --run DIR</c>: the run folder, its refusals, and resuming it after a kill.</summary>
public class RunFolderCliTests : IDisposable
{
    private readonly TemporaryFolder _folder = new();
    private readonly string _data;

    public RunFolderCliTests() => _data = TinyCorpus.Write(_folder);

    public void Dispose() => _folder.Dispose();

    private string[] Train(string run, string[] extra, int hidden = 8, int epochs = 3) =>
        ["train", "--data", _data, "--run", run, "--layers", "1", "--hidden", $"{hidden}", "--bptt", "5", "--batch-size", "4",
         "--epochs", $"{epochs}", "--seed", "3", "--threads", "1", .. extra];

    [Fact]
    public void Train_writes_settings_checkpoint_curve_result_compact_file_and_report_into_the_run_folder()
    {
        string run = Path.Combine(_folder.Path, "run");
        CliProcess.Result train = CliProcess.Run(Train(run, ["--json"]));
        Assert.True(train.ExitCode == 0, train.StandardError);

        using JsonDocument settings = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "run.json")));
        Assert.Equal("train", settings.RootElement.GetProperty("command").GetString());
        Assert.Equal(Path.Combine("models", "dense.safetensors"), settings.RootElement.GetProperty("checkpoint").GetString());
        Assert.Contains("--hidden", settings.RootElement.GetProperty("arguments").EnumerateArray().Select(a => a.GetString()));

        string checkpoint = Path.Combine(run, "models", "dense.safetensors");
        Assert.Equal(3, ModelCheckpoint.Load(checkpoint).State!.EpochsCompleted);
        Assert.Equal("csr", SafeTensorsFile.Load(Path.Combine(run, "models", "dense.compact.safetensors")).Metadata[ModelCheckpoint.StorageKey]);

        // A curve point every 2% of an epoch, at most 50 an epoch; the tiny corpus has about 36 windows an epoch, so
        // here there is one a window. Positions increase through the 3 epochs.
        double[] positions = [.. File.ReadAllLines(Path.Combine(run, "metrics.jsonl")).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("position").GetDouble())];
        Assert.InRange(positions.Length, 90, 150);
        Assert.True(positions.Zip(positions.Skip(1)).All(p => p.Second > p.First));
        Assert.InRange(positions[^1], 2.9, 3.0);

        using JsonDocument result = JsonDocument.Parse(Assert.Single(File.ReadAllLines(Path.Combine(run, "results.jsonl"))));
        double printed = JsonDocument.Parse(train.StandardOutput).RootElement.GetProperty("test_ppl").GetDouble();
        Assert.Equal(printed, result.RootElement.GetProperty("test_ppl").GetDouble());
        Assert.Equal(3, result.RootElement.GetProperty("epochs").GetArrayLength());

        string html = File.ReadAllText(Path.Combine(run, "report.html"));
        Assert.Contains("<svg", html);
        Assert.Contains("dense", html);
    }

    [Fact]
    public void A_second_start_is_refused_a_finished_run_does_not_resume_and_force_starts_again()
    {
        string run = Path.Combine(_folder.Path, "run");
        Assert.Equal(0, CliProcess.Run(Train(run, [])).ExitCode);
        string checkpoint = Path.Combine(run, "models", "dense.safetensors");
        byte[] before = File.ReadAllBytes(checkpoint);

        CliProcess.Result again = CliProcess.Run(Train(run, []));
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("holds a run", Assert.Single(again.ErrorLines));
        CliProcess.Result resumed = CliProcess.Run("train", "--data", _data, "--run", run, "--resume");
        Assert.Equal(1, resumed.ExitCode);
        Assert.Contains("has finished", Assert.Single(resumed.ErrorLines));
        CliProcess.Result asCompress = CliProcess.Run("compress", "--data", _data, "--run", run, "--resume");
        Assert.Equal(1, asCompress.ExitCode);
        Assert.Contains("'dopant train' run", Assert.Single(asCompress.ErrorLines));
        Assert.Equal(before, File.ReadAllBytes(checkpoint));

        CliProcess.Result forced = CliProcess.Run(Train(run, ["--force"], epochs: 1));
        Assert.True(forced.ExitCode == 0, forced.StandardError);
        Assert.Equal(1, ModelCheckpoint.Load(checkpoint).State!.EpochsCompleted);
        Assert.Single(File.ReadAllLines(Path.Combine(run, "results.jsonl")));
    }

    [Fact]
    public void A_run_folder_without_a_run_or_with_a_foreign_run_json_is_refused_in_one_line()
    {
        string empty = Path.Combine(_folder.Path, "empty");
        Directory.CreateDirectory(empty);
        CliProcess.Result none = CliProcess.Run("train", "--data", _data, "--run", empty, "--resume");
        Assert.Equal(1, none.ExitCode);
        Assert.Contains("no run.json", Assert.Single(none.ErrorLines));

        _folder.Write("foreign/run.json", "{\"train_tokens\": 1000}");
        string foreign = Path.Combine(_folder.Path, "foreign");
        CliProcess.Result refused = CliProcess.Run(Train(foreign, ["--force"]));
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("not the settings of a train or compress run", Assert.Single(refused.ErrorLines));
        Assert.Equal("{\"train_tokens\": 1000}", File.ReadAllText(Path.Combine(foreign, "run.json")));

        _folder.Write("early/run.json", """{"command":"train","name":"dense","method":"dense","factor":1,"checkpoint":"models/dense.safetensors","arguments":[]}""");
        CliProcess.Result early = CliProcess.Run("train", "--data", _data, "--run", Path.Combine(_folder.Path, "early"), "--resume");
        Assert.Equal(1, early.ExitCode);
        Assert.Contains("no checkpoint yet", Assert.Single(early.ErrorLines));

        CliProcess.Result noOut = CliProcess.Run("train", "--data", _data, "--epochs", "1");
        Assert.Equal(1, noOut.ExitCode);
        Assert.Contains("--out is required", Assert.Single(noOut.ErrorLines));
    }

    [Fact]
    public void A_compress_run_killed_during_training_resumes_from_its_folder_and_ends_as_the_uninterrupted_run()
    {
        // Hidden 32 and 40 epochs: a run of a few seconds, long enough to be killed in the middle.
        string dense = Path.Combine(_folder.Path, "dense");
        Assert.Equal(0, CliProcess.Run(Train(dense, [], hidden: 32, epochs: 1)).ExitCode);
        string model = Path.Combine(dense, "models", "dense.safetensors");
        string[] Compress(string run) =>
            ["compress", "--data", _data, "--run", run, "--model", model, "--method", "dkp", "--factor", "4", "--epochs", "40",
             "--prune-start", "0", "--prune-end", "20", "--threads", "1", "--json"];

        CliProcess.Result whole = CliProcess.Run(Compress(Path.Combine(_folder.Path, "whole")));
        Assert.True(whole.ExitCode == 0, whole.StandardError);
        double expected = JsonDocument.Parse(whole.StandardOutput).RootElement.GetProperty("test_ppl").GetDouble();

        string run = Path.Combine(_folder.Path, "killed");
        string checkpoint = Path.Combine(run, "models", "dkp4.safetensors");
        using (CliProcess.Running running = CliProcess.Start(Compress(run)))
        {
            // Killed once its first epoch is on disk and before the last: the kill falls in the middle of training.
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (!(File.Exists(checkpoint) && ModelCheckpoint.Load(checkpoint).State!.EpochsCompleted >= 1) && clock.Elapsed < TimeSpan.FromSeconds(60))
                Thread.Sleep(20);
            running.Kill();
        }
        int epochs = ModelCheckpoint.Load(checkpoint).State!.EpochsCompleted;
        Assert.InRange(epochs, 1, 39);
        Assert.False(File.Exists(Path.Combine(run, "results.jsonl")));

        CliProcess.Result resumed = CliProcess.Run("compress", "--data", _data, "--run", run, "--resume", "--threads", "1", "--json");
        Assert.True(resumed.ExitCode == 0, resumed.StandardError);
        Assert.Equal(expected, JsonDocument.Parse(resumed.StandardOutput).RootElement.GetProperty("test_ppl").GetDouble());
        using JsonDocument result = JsonDocument.Parse(Assert.Single(File.ReadAllLines(Path.Combine(run, "results.jsonl"))));
        Assert.Equal("dkp4", result.RootElement.GetProperty("name").GetString());
        Assert.Equal(expected, result.RootElement.GetProperty("test_ppl").GetDouble());
        Assert.True(File.Exists(Path.Combine(run, "report.html")));
    }
}
