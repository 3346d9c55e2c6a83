using Dopant.Search;

namespace Dopant.Tests.Search;

public sealed class SearchTrialStoreTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("dopant-trials-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string FilePath => Path.Combine(_directory, "trials.jsonl");

    [Fact]
    public void Trials_round_trip_exactly()
    {
        SearchTrial[] trials =
        [
            new(0, SearchStage.LevelSet, 50, 131.20000000000002, 2.4, false),
            new(1, SearchStage.LevelSet, 2, 100.1, null, true),
            new(2, SearchStage.LevelSet, 26.000000000000004, double.NaN, 0.1 + 0.2, false),
            new(3, SearchStage.Objective, 1e-300, 102, double.PositiveInfinity, true),
        ];
        var store = new SearchTrialStore(FilePath);
        Assert.Empty(store.Load());
        foreach (SearchTrial trial in trials) store.Append(trial);
        Assert.Equal(trials, new SearchTrialStore(FilePath).Load());
        string[] lines = File.ReadAllLines(FilePath);
        Assert.Equal(4, lines.Length);
        Assert.Equal("""{"index":0,"stage":"level_set","level":50,"constraint_value":131.20000000000002,"objective_value":2.4,"feasible":false}""", lines[0]);
        Assert.Contains("\"objective_value\":null", lines[1]);
        Assert.Contains("\"stage\":\"objective\"", lines[3]);
        Assert.Equal(["trials.jsonl"], Directory.GetFiles(_directory).Select(Path.GetFileName));
    }

    [Fact]
    public void Appending_out_of_order_is_refused()
    {
        var store = new SearchTrialStore(FilePath);
        store.Append(new SearchTrial(0, SearchStage.LevelSet, 50, 131, 2, false));
        Assert.Throws<ArgumentException>(() => store.Append(new SearchTrial(0, SearchStage.LevelSet, 2, 100, 1, true)));
        Assert.Throws<ArgumentException>(() => store.Append(new SearchTrial(2, SearchStage.LevelSet, 2, 100, 1, true)));
        Assert.Single(store.Load());
    }

    [Theory]
    [InlineData("{\"index\":1,\"stage\":\"level_set\",\"level\":2,\"constraint_value\":100", "line 2")]
    [InlineData("not json", "line 2")]
    [InlineData("{\"index\":1,\"stage\":\"level_set\",\"level\":2,\"objective_value\":1,\"feasible\":true}", "line 2")]
    [InlineData("{\"index\":1,\"stage\":\"stage_three\",\"level\":2,\"constraint_value\":100,\"objective_value\":1,\"feasible\":true}", "line 2")]
    [InlineData("{\"index\":1,\"stage\":\"level_set\",\"level\":2,\"constraint_value\":100,\"objective_value\":1,\"feasible\":null}", "line 2")]
    public void A_corrupt_line_is_reported_with_its_number(string corrupt, string where)
    {
        File.WriteAllText(FilePath,
            """{"index":0,"stage":"level_set","level":50,"constraint_value":131,"objective_value":2,"feasible":false}""" + "\n" + corrupt + "\n");
        var error = Assert.Throws<InvalidDataException>(() => new SearchTrialStore(FilePath).Load());
        Assert.Contains(FilePath, error.Message);
        Assert.Contains(where, error.Message);
    }
}
