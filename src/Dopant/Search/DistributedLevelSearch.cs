using System.Globalization;
using System.Text.Json;
using Dopant.Trials;

namespace Dopant.Search;

/// <summary>
/// A <see cref="LevelSearch"/> whose trials are run by workers through an <see cref="ITrialStorage"/>: a free worker
/// proposes the next level from the finished trials, the ones still running counted by
/// <see cref="LevelSearch.Next(IReadOnlyList{LevelProposal})"/> (constant liar); a trial's payload is its proposal
/// (<c>{"stage":"level_set","level":25}</c>) and its result the measurement (<c>{"constraint_value":131.2,"objective_value":2.4}</c>).
/// A trial that failed for good counts as a run that diverged.
/// </summary>
public static class DistributedLevelSearch
{
    /// <summary>The next trial to queue given every trial so far, or null when the search has nothing to propose until running ones finish (or at all).</summary>
    public static TrialProposal? Propose(LevelSearchOptions options, IReadOnlyList<Trial> trials, int maxRetries)
    {
        ArgumentNullException.ThrowIfNull(trials);
        LevelProposal[] pending = [.. trials.Where(t => t.State is TrialState.Waiting or TrialState.Running).Select(ProposalOf)];
        LevelProposal? next = Replay(options, trials).Next(pending);
        return next is { } p ? new TrialProposal($"trial-{trials.Count}", Payload(p), maxRetries) : null;
    }

    /// <summary>The search over the finished trials (stage-1 trials first, each stage in the order queued).</summary>
    public static LevelSearch Replay(LevelSearchOptions options, IReadOnlyList<Trial> trials)
    {
        ArgumentNullException.ThrowIfNull(options);
        IEnumerable<(LevelProposal Proposal, LevelMeasurement Measurement)> finished = trials
            .Where(t => t.State is TrialState.Complete or TrialState.Failed)
            .Select(t => (ProposalOf(t), t.State == TrialState.Complete ? MeasurementOf(t) : new LevelMeasurement(double.PositiveInfinity, options.Goal == LevelSearchGoal.MaximizeObjective ? 0 : null)))
            .OrderBy(f => f.Item1.Stage == SearchStage.Objective ? 1 : 0);
        var replayed = new List<SearchTrial>();
        foreach ((LevelProposal proposal, LevelMeasurement measurement) in finished)
            replayed.Add(new SearchTrial(replayed.Count, proposal.Stage, proposal.Level, measurement.ConstraintValue, measurement.ObjectiveValue,
                double.IsFinite(measurement.ConstraintValue) && measurement.ConstraintValue <= options.Threshold));
        return new LevelSearch(options, replayed.Take(options.Budget));
    }

    /// <summary>A trial's result for its measurement.</summary>
    public static string Result(LevelMeasurement measurement) => JsonSerializer.Serialize(new Dictionary<string, double?>
    {
        ["constraint_value"] = double.IsFinite(measurement.ConstraintValue) ? measurement.ConstraintValue : null,
        ["objective_value"] = measurement.ObjectiveValue is { } v && double.IsFinite(v) ? v : null,
    });

    /// <summary>The level a trial's payload proposes.</summary>
    /// <exception cref="InvalidDataException">The payload is not a proposal.</exception>
    public static LevelProposal ProposalOf(Trial trial)
    {
        try
        {
            JsonElement root = JsonDocument.Parse(trial.Payload).RootElement;
            SearchStage stage = root.GetProperty("stage").GetString() == "objective" ? SearchStage.Objective : SearchStage.LevelSet;
            return new LevelProposal(stage, root.GetProperty("level").GetDouble());
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new InvalidDataException($"Trial {trial.Key} of the search is not a level proposal: {e.Message}", e);
        }
    }

    private static string Payload(LevelProposal proposal) =>
        string.Create(CultureInfo.InvariantCulture, $$"""{"stage":"{{(proposal.Stage == SearchStage.Objective ? "objective" : "level_set")}}","level":{{proposal.Level:R}}}""");

    private static LevelMeasurement MeasurementOf(Trial trial)
    {
        JsonElement root = JsonDocument.Parse(trial.Result!).RootElement;
        double constraint = root.GetProperty("constraint_value") is { ValueKind: JsonValueKind.Number } c ? c.GetDouble() : double.PositiveInfinity;
        double? objective = root.TryGetProperty("objective_value", out JsonElement o) && o.ValueKind == JsonValueKind.Number ? o.GetDouble() : null;
        return new LevelMeasurement(constraint, objective);
    }
}
