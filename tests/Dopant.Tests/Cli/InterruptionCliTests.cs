using System.Text.Json;
using Dopant.Matrices;
using Dopant.Tests.Data;
using Dopant.Training;

namespace Dopant.Tests.Cli;

public class InterruptionCliTests : IDisposable
{
    private readonly TemporaryFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private string Corpus()
    {
        string[] sentences = ["the cat sat on the mat", "a dog ran in the park", "the bird sang a song", "my cat likes the dog"];
        var random = new Random(7);
        string Text(int lines) => string.Concat(Enumerable.Range(0, lines).Select(_ => " " + sentences[random.Next(sentences.Length)] + " \n"));
        _folder.Write("data/train.txt", Text(600));
        _folder.Write("data/valid.txt", Text(60));
        _folder.Write("data/test.txt", Text(60));
        return Path.Combine(_folder.Path, "data");
    }

    private static string[] Train(string data, string path) =>
        ["train", "--data", data, "--out", path, "--hidden", "24", "--layers", "1", "--bptt", "8", "--batch-size", "4", "--epochs", "12",
         "--seed", "4", "--threads", "1", "--json"];

    [Fact]
    public void A_run_killed_at_random_moments_resumes_from_its_last_checkpoint_and_ends_as_the_uninterrupted_run()
    {
        string data = Corpus();
        string whole = Path.Combine(_folder.Path, "whole.safetensors");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        CliProcess.Result uninterrupted = CliProcess.Run(Train(data, whole));
        double wholeRunMilliseconds = clock.Elapsed.TotalMilliseconds;
        Assert.True(uninterrupted.ExitCode == 0, uninterrupted.StandardError);
        double expected = JsonDocument.Parse(uninterrupted.StandardOutput).RootElement.GetProperty("test_ppl").GetDouble();

        var random = new Random(20261124);
        int killsDuringTraining = 0;
        // At least 3 trials; more, up to 8, while fewer than 2 kills have landed inside training.
        for (int trial = 0; trial < 3 || (killsDuringTraining < 2 && trial < 8); trial++)
        {
            string path = Path.Combine(_folder.Path, $"killed{trial}.safetensors");
            int epochsOnDisk = 0;
            CliProcess.Result? finished = null;
            for (int attempt = 0; finished is null; attempt++)
            {
                string[] args = File.Exists(path) ? ["train", "--data", data, "--out", path, "--resume", "--threads", "1", "--json"] : Train(data, path);
                using CliProcess.Running running = CliProcess.Start(args);
                // Two kills a trial, at a random moment of start-up, training or a checkpoint write; then let it finish.
                // The moments are fractions of the uninterrupted run's time, so they land inside training on fast and slow machines alike.
                double delay = wholeRunMilliseconds * (0.05 + 0.9 * random.NextDouble());
                if (attempt < 2 && !running.WaitForExit(TimeSpan.FromMilliseconds(delay)))
                {
                    running.Kill();
                    if (File.Exists(path))
                    {
                        // Never half-written: whatever is on disk loads, and it is never older than before.
                        TrainingState state = ModelCheckpoint.Load(path).State!;
                        Assert.True(state.EpochsCompleted >= epochsOnDisk, $"trial {trial}: epoch {state.EpochsCompleted} after {epochsOnDisk}");
                        if (state.EpochsCompleted < 12) killsDuringTraining++;
                        epochsOnDisk = state.EpochsCompleted;
                    }
                    continue;
                }
                Assert.True(running.WaitForExit(TimeSpan.FromMinutes(2)), $"trial {trial} did not finish");
                finished = running.Result;
            }
            Assert.True(finished.ExitCode == 0, finished.StandardError);
            Assert.Equal(expected, JsonDocument.Parse(finished.StandardOutput).RootElement.GetProperty("test_ppl").GetDouble());
            var final = ModelCheckpoint.Load(whole).Model.Parameters.ToDictionary(p => p.Name);
            foreach (Parameter<float> p in ModelCheckpoint.Load(path).Model.Parameters) Assert.Equal(final[p.Name].Value, p.Value);
        }
        // The kill fractions are fixed by the seed; at least some of them must have landed inside training for the test to mean anything.
        Assert.True(killsDuringTraining >= 2, $"only {killsDuringTraining} kills landed between checkpoints");
    }

    [Fact]
    public void A_diverging_run_is_rolled_back_and_reported_or_stops_with_one_clear_line()
    {
        string data = TinyCorpus.Write(_folder);
        string[] args = ["train", "--data", data, "--hidden", "16", "--layers", "1", "--bptt", "6", "--batch-size", "4", "--epochs", "2", "--threads", "1",
            "--lr", "100000"];

        string recovered = Path.Combine(_folder.Path, "recovered.safetensors");
        CliProcess.Result rolledBack = CliProcess.Run([.. args, "--out", recovered, "--rollback-lr-factor", "0.00001"]);
        Assert.True(rolledBack.ExitCode == 0, rolledBack.StandardError);
        Assert.Contains(rolledBack.ErrorLines, l => l.StartsWith("epoch 1/2 diverged") && l.Contains("rolled back to the last good state; initial learning rate now 1 (1E-05 x --lr)"));
        Assert.Contains("1 diverged epoch(s) rolled back", rolledBack.StandardOutput);

        string stopped = Path.Combine(_folder.Path, "stopped.safetensors");
        CliProcess.Result gaveUp = CliProcess.Run([.. args, "--out", stopped, "--max-rollbacks", "0"]);
        Assert.Equal(1, gaveUp.ExitCode);
        string error = Assert.Single(gaveUp.ErrorLines, l => l.StartsWith("dopant: error:"));
        Assert.Contains("Training diverged in epoch 1", error);
        Assert.Contains("--max-rollbacks 0", error);
        Assert.False(File.Exists(stopped));
    }
}
