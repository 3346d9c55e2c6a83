using System.Globalization;
using System.Text.Json;
using System.Text;
using Dopant.Compression;
using Dopant.Data;
using Dopant.IO;
using Dopant.Inference;
using Dopant.Matrices;
using Dopant.Tasks;
using Dopant.Training;
using Dopant.Trials;

namespace Dopant.Search;

/// <summary>
/// Infers the level of a compression scheme (Condensa's search): every trial compresses the dense model by the scheme
/// at one level (<see cref="SchemeCompressionRun"/>), measures its validation perplexity (the constraint) and the
/// objective, and <see cref="LevelSearch"/> chooses the next level. Everything lives in one folder: the settings
/// (<c>search.json</c>), the trials (<c>trials.jsonl</c>), every trial's model (<c>trial-{i}.safetensors</c>), and at
/// the end the report (<c>report.md</c>, <c>constraint.svg</c>, <c>objective.svg</c>) and the chosen model
/// (<c>best.safetensors</c>). An interrupted search continues where it stopped, the interrupted trial included.
/// The same search runs on many workers as a study in an <see cref="ITrialStorage"/> (<see cref="CreateStudy"/>,
/// <see cref="RunWorker"/>, <see cref="StudyResult"/>): each trial's model is stored with it.
/// </summary>
public static class SchemeSearch
{
    private sealed record Stored(SchemeSearchSettings Settings, string DenseModel, double DenseValidPerplexity, double Threshold);

    /// <summary>Runs or continues the search in <paramref name="folder"/>.</summary>
    /// <param name="denseModel">The trained dense model.</param>
    /// <param name="dataFolder">The PTB-format corpus.</param>
    /// <param name="folder">The search folder.</param>
    /// <param name="settings">The settings of a new search; null to continue the one in <paramref name="folder"/>.</param>
    /// <param name="log">Receives a line per event.</param>
    /// <param name="progress">Training progress of the trials.</param>
    /// <param name="cancellationToken">Stops the search at the next training window.</param>
    public static LevelSearchResult Run(string denseModel, string dataFolder, string folder, SchemeSearchSettings? settings,
        Action<string>? log = null, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(denseModel);
        ArgumentException.ThrowIfNullOrEmpty(folder);
        string settingsPath = Path.Combine(folder, "search.json");
        Stored stored;
        ModelCheckpoint dense = ModelCheckpoint.Load(denseModel);
        if (settings is null)
        {
            if (!File.Exists(settingsPath)) throw new ArgumentException($"'{folder}' holds no search to continue (no search.json).");
            stored = JsonSerializer.Deserialize<Stored>(File.ReadAllText(settingsPath), ModelCheckpoint.Json)
                     ?? throw new InvalidDataException($"'{settingsPath}' is empty.");
        }
        else
        {
            settings.Validate();
            OptionsFor(settings, 1).Validate();
            if (File.Exists(settingsPath)) throw new ArgumentException($"'{folder}' already holds a search; continue it or choose another folder.");
            if (!SchemeFile.Parse(settings.Run.Scheme).UsesLevel) throw new ArgumentException("The scheme has no \"$level\" setting to search.");
            Directory.CreateDirectory(folder);
            PtbCorpus corpus = PtbCorpus.Load(dataFolder, dense.Vocabulary);
            double densePerplexity = PerplexityEvaluator.Evaluate(dense.Model, corpus.Valid, settings.Run.Training.EvalBatchSize, settings.Run.Training.Bptt).Value;
            double threshold = settings.MaxPerplexity ?? densePerplexity * (1 + settings.MaxPerplexityIncrease!.Value);
            stored = new Stored(settings, Path.GetFullPath(denseModel), densePerplexity, threshold);
            AtomicFile.WriteAllText(settingsPath, JsonSerializer.Serialize(stored, ModelCheckpoint.Json));
            log?.Invoke($"dense model: valid perplexity {densePerplexity:F2}; constraint: at most {threshold:F2}");
        }
        SchemeSearchSettings s = stored.Settings;
        var store = new SearchTrialStore(Path.Combine(folder, "trials.jsonl"));
        var search = new LevelSearch(OptionsFor(s, stored.Threshold), store.Load());
        foreach (SearchTrial t in search.Trials) log?.Invoke($"trial {t.Index} (stored): level {t.Level:G4}, valid ppl {t.ConstraintValue:F2}, objective {t.ObjectiveValue:G4}");
        while (search.Next() is { } proposal)
        {
            int index = search.Trials.Count;
            string model = TrialModel(folder, index);
            log?.Invoke($"trial {index} ({(proposal.Stage == SearchStage.LevelSet ? "level set" : "objective")}): level {proposal.Level:G4}");
            bool resume = File.Exists(model) || File.Exists(SchemeCompressionRun.StatePath(model));
            LevelMeasurement measurement = Measure(stored, dataFolder, model, proposal.Level, resume, progress, cancellationToken);
            double objective = measurement.ObjectiveValue!.Value;
            SearchTrial trial = search.Record(proposal, measurement);
            store.Append(trial);
            log?.Invoke($"trial {index}: level {trial.Level:G4}, valid ppl {trial.ConstraintValue:F2} ({(trial.Feasible ? "meets" : "breaks")} the constraint), " +
                        $"{s.Objective.ToString().ToLowerInvariant()} {objective:F2}x");
        }
        LevelSearchResult result = search.Result();
        WriteReport(folder, stored, result);
        if (result.Chosen is { } chosen)
        {
            string best = Path.Combine(folder, "best.safetensors");
            File.Copy(TrialModel(folder, chosen.Index), best + ".tmp", overwrite: true);
            File.Move(best + ".tmp", best, overwrite: true);
        }
        return result;
    }

    /// <summary>
    /// Queues a search as study <paramref name="study"/> of <paramref name="storage"/>, for workers on any machines
    /// (<see cref="RunWorker"/>): measures the dense model's validation perplexity once for the constraint and stores it
    /// with the settings. The dense model and the corpus must be at the same paths on every worker.
    /// </summary>
    /// <exception cref="ArgumentException">The settings are invalid, or a study of that name holds other settings.</exception>
    public static Study CreateStudy(ITrialStorage storage, string study, string denseModel, string dataFolder, SchemeSearchSettings settings,
        Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(storage);
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        OptionsFor(settings, 1).Validate();
        if (!SchemeFile.Parse(settings.Run.Scheme).UsesLevel) throw new ArgumentException("The scheme has no \"$level\" setting to search.");
        ModelCheckpoint dense = ModelCheckpoint.Load(denseModel);
        PtbCorpus corpus = PtbCorpus.Load(dataFolder, dense.Vocabulary);
        double densePerplexity = PerplexityEvaluator.Evaluate(dense.Model, corpus.Valid, settings.Run.Training.EvalBatchSize, settings.Run.Training.Bptt).Value;
        double threshold = settings.MaxPerplexity ?? densePerplexity * (1 + settings.MaxPerplexityIncrease!.Value);
        log?.Invoke($"dense model: valid perplexity {densePerplexity:F2}; constraint: at most {threshold:F2}");
        return storage.CreateStudy(study, JsonSerializer.Serialize(new Stored(settings, Path.GetFullPath(denseModel), densePerplexity, threshold), ModelCheckpoint.Json));
    }

    /// <summary>Whether a study holds a search (rather than, say, a sweep).</summary>
    public static bool IsSearch(Study study)
    {
        ArgumentNullException.ThrowIfNull(study);
        try
        {
            return JsonDocument.Parse(study.Settings).RootElement is { ValueKind: JsonValueKind.Object } root && root.TryGetProperty("dense_model", out _);
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>
    /// Runs the search's trials on this worker until the search is done: when no trial waits, the worker proposes the
    /// next level itself (the running trials counted by a constant liar), compresses the dense model at it, measures,
    /// and stores the model with the trial. The run's checkpoints are stored with the trial as it writes them
    /// (<see cref="SchemeRunCheckpoint"/>), so a trial taken from a lost worker resumes from its last one.
    /// </summary>
    public static int RunWorker(ITrialStorage storage, Study study, string dataFolder, TrialWorker worker, Action<string>? log = null,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(storage);
        ArgumentNullException.ThrowIfNull(worker);
        Stored stored = StoredOf(study);
        LevelSearchOptions options = OptionsFor(stored.Settings, stored.Threshold);
        return worker.Run(study.Name, context =>
        {
            LevelProposal proposal = DistributedLevelSearch.ProposalOf(context.Trial);
            string folder = Directory.CreateTempSubdirectory("dopant-search-trial-").FullName;
            try
            {
                string model = Path.Combine(folder, "trial.safetensors");
                bool resume = false;
                if (context.LoadCheckpoint() is { } checkpoint)
                {
                    SchemeRunCheckpoint.Unpack(checkpoint, model);
                    resume = true;
                    log?.Invoke($"trial {context.Trial.Key}: level {proposal.Level:G4}, resuming from the stored checkpoint ({checkpoint.Length:N0} bytes)");
                }
                else log?.Invoke($"trial {context.Trial.Key}: level {proposal.Level:G4}");
                LevelMeasurement measurement = Measure(stored, dataFolder, model, proposal.Level, resume, progress, context.Lost, () =>
                {
                    byte[] packed = SchemeRunCheckpoint.Pack(model)!;
                    context.SaveCheckpoint(packed);
                    log?.Invoke($"trial {context.Trial.Key}: checkpoint stored ({packed.Length:N0} bytes)");
                });
                context.SaveCheckpoint(File.ReadAllBytes(model));
                log?.Invoke($"trial {context.Trial.Key}: level {proposal.Level:G4}, valid ppl {measurement.ConstraintValue:F2}, objective {measurement.ObjectiveValue:F2}x");
                return DistributedLevelSearch.Result(measurement);
            }
            finally
            {
                Directory.Delete(folder, recursive: true);
            }
        }, trials => DistributedLevelSearch.Propose(options, trials, maxRetries: 2), log, cancellationToken);
    }

    /// <summary>The search's result from its finished trials, and the chosen trial's model (null when none is chosen).</summary>
    public static (LevelSearchResult Result, byte[]? Model) StudyResult(ITrialStorage storage, Study study)
    {
        ArgumentNullException.ThrowIfNull(storage);
        Stored stored = StoredOf(study);
        IReadOnlyList<Trial> trials = storage.Trials(study);
        LevelSearchResult result = DistributedLevelSearch.Replay(OptionsFor(stored.Settings, stored.Threshold), trials).Result();
        if (result.Chosen is not { } chosen) return (result, null);
        // Replay orders the finished trials stage by stage; find the stored trial at the chosen level.
        Trial source = trials.First(t => t.State == TrialState.Complete && DistributedLevelSearch.ProposalOf(t).Level == chosen.Level);
        return (result, storage.LoadCheckpoint(source.Id));
    }

    private static Stored StoredOf(Study study) =>
        IsSearch(study) ? JsonSerializer.Deserialize<Stored>(study.Settings, ModelCheckpoint.Json)!
            : throw new ArgumentException($"Study '{study.Name}' is not a search.");

    // One trial: the scheme run at a level, its validation perplexity and its objective.
    private static LevelMeasurement Measure(Stored stored, string dataFolder, string model, double level, bool resume,
        IProgress<TrainingProgress>? progress, CancellationToken cancellationToken, Action? checkpointed = null)
    {
        SchemeSearchSettings s = stored.Settings;
        SchemeRunResult run = SchemeCompressionRun.Run(stored.DenseModel, dataFolder, model, s.Run with { Level = level }, resume,
            progress, null, cancellationToken, checkpointed);
        double objective = s.Objective switch
        {
            SearchObjective.Memory => run.ByteFactor,
            SearchObjective.Parameters => (double)run.Storage.Sum(m => m.Dense.Values) / run.Storage.Sum(m => m.Compressed.Values),
            _ => SpeedUp(stored.DenseModel, model, s.Run.Scheme, s.LatencyTokens),
        };
        return new LevelMeasurement(run.ValidPerplexity, objective);
    }

    private static LevelSearchOptions OptionsFor(SchemeSearchSettings s, double threshold) => new()
    {
        Domain = s.Domain,
        Threshold = threshold,
        HigherIsMoreAggressive = s.HigherIsMoreAggressive,
        Budget = s.Budget,
        // Fewer bytes and fewer stored values follow the level, so the most aggressive feasible level is the best and
        // the level-set stage may take the whole budget; a measured latency needs the objective stage too.
        Goal = s.Objective == SearchObjective.Latency ? LevelSearchGoal.MaximizeObjective : LevelSearchGoal.MostAggressiveFeasible,
        LevelSetBudget = s.Objective == SearchObjective.Latency ? Math.Max(2, (int)Math.Round(0.7 * s.Budget)) : s.Budget,
    };

    /// <summary>The model file of trial <paramref name="index"/>.</summary>
    public static string TrialModel(string folder, int index) => Path.Combine(folder, $"trial-{index}.safetensors");

    // Recurrent µs per token of the dense model over the compressed one, timed alternately; dense matrices at the
    // precision the scheme quantizes to.
    private static double SpeedUp(string denseModel, string model, string scheme, int tokens)
    {
        WeightPrecision precision = scheme.Contains("\"int8\"", StringComparison.Ordinal) ? WeightPrecision.Int8
            : scheme.Contains("\"fp16\"", StringComparison.Ordinal) ? WeightPrecision.Float16 : WeightPrecision.Float32;
        ModelCheckpoint dense = ModelCheckpoint.Load(denseModel), compressed = ModelCheckpoint.Load(model);
        var text = new int[tokens];
        var random = new Numerics.Xoshiro256(1);
        for (int i = 0; i < tokens; i++) text[i] = (int)(random.NextDouble() * dense.Model.Config.VocabularySize);
        var timings = InferenceBenchmark.Compare([StreamingLanguageModel.From(dense.Model), StreamingLanguageModel.From(compressed.Model, precision)], text, 7);
        return timings[0].RecurrentMicroseconds / timings[1].RecurrentMicroseconds;
    }

    private static void WriteReport(string folder, Stored stored, LevelSearchResult result)
    {
        string objective = stored.Settings.Objective.ToString().ToLowerInvariant();
        if (result.ConstraintPosterior is not null)
            AtomicFile.WriteAllText(Path.Combine(folder, "constraint.svg"),
                PosteriorChart.Constraint(result, "Validation perplexity against the level", "level", "valid perplexity"));
        if (result.ObjectivePosterior is not null)
            AtomicFile.WriteAllText(Path.Combine(folder, "objective.svg"), PosteriorChart.Objective(result, $"{objective} against the level", "level", objective));
        var md = new StringBuilder();
        md.AppendLine(CultureInfo.InvariantCulture, $"# Search: {stored.Settings.Objective} under valid perplexity ≤ {stored.Threshold:F2}");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"Dense model `{stored.DenseModel}`: valid perplexity {stored.DenseValidPerplexity:F2}. Levels {stored.Settings.Domain.Lower:G4} to {stored.Settings.Domain.Upper:G4}.");
        md.AppendLine();
        md.AppendLine($"| trial | stage | level | valid ppl | {objective} | feasible |");
        md.AppendLine("| --- | --- | --- | --- | --- | --- |");
        foreach (SearchTrial t in result.Trials)
            md.AppendLine(CultureInfo.InvariantCulture, $"| {t.Index} | {(t.Stage == SearchStage.LevelSet ? "level set" : "objective")} | {t.Level:G4} | {t.ConstraintValue:F2} | {t.ObjectiveValue:F2}x | {(t.Feasible ? "yes" : "no")} |");
        md.AppendLine();
        md.AppendLine(result.Chosen is { } c
            ? string.Create(CultureInfo.InvariantCulture, $"Chosen: trial {c.Index}, level {c.Level:G4}, valid perplexity {c.ConstraintValue:F2}, {objective} {c.ObjectiveValue:F2}x (`best.safetensors`).")
            : "No level met the constraint.");
        if (result.ConstraintPosterior is not null) md.AppendLine().AppendLine("![constraint](constraint.svg)");
        if (result.ObjectivePosterior is not null) md.AppendLine().AppendLine("![objective](objective.svg)");
        AtomicFile.WriteAllText(Path.Combine(folder, "report.md"), md.ToString());
    }
}
