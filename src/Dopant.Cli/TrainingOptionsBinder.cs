using System.CommandLine;
using Dopant.Models;
using Dopant.Training;

namespace Dopant.Cli;

/// <summary>The command-line options that override a training preset, field by field.</summary>
internal sealed class TrainingOptionsBinder
{
    private readonly Option<string> _preset = new("--preset") { Description = "Zaremba et al.'s configuration: small, medium or large; or charlm, a 2x256 character language model (the default of --task charlm).", DefaultValueFactory = _ => "small" };
    private readonly Option<int?> _epochs = new("--epochs") { Description = "Training epochs." };
    private readonly Option<int?> _layers = new("--layers") { Description = "Recurrent layers." };
    private readonly Option<LayerSizes?> _hidden = new("--hidden")
    {
        Description = "Hidden size of every layer (and the embedding width unless --emsize), or one per layer bottom first, e.g. 650,400 (then --layers may be left out).",
        CustomParser = result =>
        {
            try
            {
                return LayerSizes.Parse(result.Tokens.Count == 1 ? result.Tokens[0].Value : "");
            }
            catch (FormatException e)
            {
                result.AddError($"--hidden: {e.Message}");
                return null;
            }
        },
    };
    private readonly Option<int?> _embedding = new("--emsize") { Description = "Embedding width (default: the hidden size)." };
    private readonly Option<string?> _cell = new("--cell") { Description = "Recurrent cell: lstm (default) or gru." };
    private readonly Option<int?> _bptt = new("--bptt") { Description = "Truncated-BPTT window, in steps." };
    private readonly Option<int?> _batch = new("--batch-size") { Description = "Sequences per batch." };
    private readonly Option<double?> _lr = new("--lr") { Description = "Initial learning rate." };
    private readonly Option<double?> _decay = new("--decay") { Description = "Learning-rate factor per epoch after --decay-after." };
    private readonly Option<int?> _decayAfter = new("--decay-after") { Description = "Epochs at the initial learning rate." };
    private readonly Option<double?> _init = new("--init") { Description = "Uniform initialization range." };
    private readonly Option<double?> _dropout = new("--dropout") { Description = "Dropout on non-recurrent connections." };
    private readonly Option<double?> _clip = new("--clip") { Description = "Maximum global gradient norm." };
    private readonly Option<bool> _tied = new("--tied") { Description = "Tie the decoder to the embedding (with --model, a dense untied model is tied, the shared matrix starting from its decoder weights)." };
    private readonly Option<ulong?> _seed = new("--seed") { Description = "Random seed." };
    private readonly Option<string?> _optimizer = new("--optimizer") { Description = "sgd (default) or adam." };
    private readonly Option<int?> _evalBatch = new("--eval-batch-size") { Description = "Batch size for perplexity evaluation (default 10)." };
    private readonly Option<int?> _maxRollbacks = new("--max-rollbacks")
    {
        Description = "How often a diverged epoch (loss NaN or above twice a uniform guess's) is rolled back to the last good state and trained again at a lower learning rate before the run stops (default 3).",
    };
    private readonly Option<double?> _rollbackLr = new("--rollback-lr-factor") { Description = "Learning-rate factor applied at each roll-back (default 0.5)." };

    private Option[] Overrides => [_epochs, _layers, _hidden, _embedding, _cell, _bptt, _batch, _lr, _decay, _decayAfter, _init, _dropout, _clip, _tied, _seed, _optimizer, _evalBatch,
        _maxRollbacks, _rollbackLr];

    public void AddTo(Command command)
    {
        _preset.AcceptOnlyFromAmong([.. TrainingOptions.PresetNames]);
        _optimizer.AcceptOnlyFromAmong("sgd", "adam");
        _cell.AcceptOnlyFromAmong("lstm", "gru");
        command.Options.Add(_preset);
        foreach (Option option in Overrides) command.Options.Add(option);
    }

    /// <summary>Whether any field was given explicitly (other than the preset).</summary>
    public bool AnyOverride(ParseResult parse) => Overrides.Any(o => parse.GetResult(o) is { Implicit: false });

    /// <summary>Whether the command line gives <c>--lr</c> (rather than taking the preset's).</summary>
    public bool GivesLearningRate(ParseResult parse) => parse.GetResult(_lr) is { Implicit: false };

    /// <summary>Whether <c>--preset</c> was given explicitly.</summary>
    public bool GivesPreset(ParseResult parse) => parse.GetResult(_preset) is { Implicit: false };

    /// <summary>
    /// The options of a tagger or classifier: the task's preset with the fields these options share overridden
    /// (<c>--bptt</c> and <c>--tied</c> have no meaning there and are refused).
    /// </summary>
    public LabelerOptions BindLabeler(ParseResult parse, LabelerOptions preset)
    {
        if (GivesPreset(parse)) throw new ArgumentException("--preset names a language-model preset; --task tag and --task classify have their own (see docs/GUIDE.md).");
        if (parse.GetResult(_bptt) is { Implicit: false } || parse.GetValue(_tied) || parse.GetResult(_evalBatch) is { Implicit: false })
            throw new ArgumentException("--bptt, --tied and --eval-batch-size apply to language models, not to --task tag or classify.");
        LabelerOptions o = preset with
        {
            Epochs = parse.GetValue(_epochs) ?? preset.Epochs,
            Layers = Layers(parse) ?? preset.Layers,
            HiddenSize = parse.GetValue(_hidden) is { } sizes ? sizes[^1] : preset.HiddenSize,
            LayerSizes = parse.GetValue(_hidden) is { } given ? (given.Count > 1 ? given : default) : preset.LayerSizes,
            EmbeddingSize = parse.GetValue(_embedding) ?? preset.EmbeddingSize,
            Cell = parse.GetValue(_cell) is { } cell ? RecurrentCells.Parse(cell) : preset.Cell,
            BatchSize = parse.GetValue(_batch) ?? preset.BatchSize,
            LearningRate = parse.GetValue(_lr) ?? preset.LearningRate,
            Decay = parse.GetValue(_decay) ?? preset.Decay,
            DecayAfter = parse.GetValue(_decayAfter) ?? preset.DecayAfter,
            InitRange = parse.GetValue(_init) ?? preset.InitRange,
            Dropout = parse.GetValue(_dropout) ?? preset.Dropout,
            Clip = parse.GetValue(_clip) ?? preset.Clip,
            Seed = parse.GetValue(_seed) ?? preset.Seed,
            Optimizer = parse.GetValue(_optimizer) ?? preset.Optimizer,
            MaxRollbacks = parse.GetValue(_maxRollbacks) ?? preset.MaxRollbacks,
            RollbackLearningRateFactor = parse.GetValue(_rollbackLr) ?? preset.RollbackLearningRateFactor,
        };
        o.Validate();
        return o;
    }

    // --layers, or the count of --hidden's sizes when it gives one per layer.
    private int? Layers(ParseResult parse) => parse.GetValue(_layers) ?? (parse.GetValue(_hidden) is { Count: > 1 } sizes ? sizes.Count : null);

    public TrainingOptions Bind(ParseResult parse, string defaultPreset = "small")
    {
        TrainingOptions o = TrainingOptions.FromPreset(GivesPreset(parse) ? parse.GetValue(_preset)! : defaultPreset);
        o = o with
        {
            Epochs = parse.GetValue(_epochs) ?? o.Epochs,
            Layers = Layers(parse) ?? o.Layers,
            HiddenSize = parse.GetValue(_hidden) is { } sizes ? sizes[^1] : o.HiddenSize,
            LayerSizes = parse.GetValue(_hidden) is { } given ? (given.Count > 1 ? given : default) : o.LayerSizes,
            EmbeddingSize = parse.GetValue(_embedding) ?? o.EmbeddingSize,
            Cell = parse.GetValue(_cell) is { } cell ? RecurrentCells.Parse(cell) : o.Cell,
            Bptt = parse.GetValue(_bptt) ?? o.Bptt,
            BatchSize = parse.GetValue(_batch) ?? o.BatchSize,
            LearningRate = parse.GetValue(_lr) ?? o.LearningRate,
            Decay = parse.GetValue(_decay) ?? o.Decay,
            DecayAfter = parse.GetValue(_decayAfter) ?? o.DecayAfter,
            InitRange = parse.GetValue(_init) ?? o.InitRange,
            Dropout = parse.GetValue(_dropout) ?? o.Dropout,
            Clip = parse.GetValue(_clip) ?? o.Clip,
            TiedWeights = parse.GetValue(_tied) || o.TiedWeights,
            Seed = parse.GetValue(_seed) ?? o.Seed,
            Optimizer = parse.GetValue(_optimizer) ?? o.Optimizer,
            EvalBatchSize = parse.GetValue(_evalBatch) ?? o.EvalBatchSize,
            MaxRollbacks = parse.GetValue(_maxRollbacks) ?? o.MaxRollbacks,
            RollbackLearningRateFactor = parse.GetValue(_rollbackLr) ?? o.RollbackLearningRateFactor,
        };
        o.Validate();
        return o;
    }
}
