using Dopant.Inference;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Dopant.OnnxRuntime;

/// <summary>
/// An ONNX language-model step run by ONNX Runtime one token at a time, its state fed back from each call to the next,
/// behind <see cref="IStreamingModel"/>. It reads Dopant's exports (<c>token</c>, <c>h</c>, <c>c</c> →
/// <c>logits</c>, <c>h_out</c>, <c>c_out</c>) and PyTorch's (any names): the one int64 input is the token, each float
/// input a state fed from the float output of the same shape (in order), and the remaining output the logits.
/// Inputs and outputs are bound once to pinned buffers, so a step allocates nothing, as ONNX Runtime is used at its best.
/// </summary>
public sealed class OnnxRuntimeModel : IStreamingModel, IDisposable
{
    private readonly Graph _step;
    private readonly Graph? _recurrent;

    /// <summary>
    /// Opens <paramref name="stepFile"/> (a step with logits) and, when given, <paramref name="recurrentFile"/> (the same
    /// step without the head, timed for <see cref="Advance"/>; without it, Advance runs the whole step), with
    /// <paramref name="threads"/> intra-op threads and every graph optimization.
    /// </summary>
    /// <exception cref="ArgumentException">A file's inputs or outputs do not have the shape of a step.</exception>
    public OnnxRuntimeModel(string stepFile, string? recurrentFile, int threads)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(threads);
        _step = new Graph(stepFile, threads, needsLogits: true);
        if (recurrentFile is not null) _recurrent = new Graph(recurrentFile, threads, needsLogits: false);
        VocabularySize = _step.VocabularySize;
        RecurrentWeightBytes = new FileInfo(recurrentFile ?? stepFile).Length;
        DecoderWeightBytes = recurrentFile is null ? 0 : Math.Max(0, new FileInfo(stepFile).Length - RecurrentWeightBytes);
        ModelWeightBytes = new FileInfo(stepFile).Length;
    }

    /// <summary>The size of the step file: every weight and the graph.</summary>
    public long ModelWeightBytes { get; }

    /// <inheritdoc/>
    public int VocabularySize { get; }

    /// <summary>The size of the recurrent file (or of the step file when there is none): its weights and its graph.</summary>
    public long RecurrentWeightBytes { get; }

    /// <summary>What the step file holds beyond the recurrent file (0 without one).</summary>
    public long DecoderWeightBytes { get; }

    /// <inheritdoc/>
    public void Reset()
    {
        _step.Reset();
        _recurrent?.Reset();
    }

    /// <inheritdoc/>
    public void Advance(int token)
    {
        if (_recurrent is not null) _recurrent.Run(token);
        else _step.Run(token);
    }

    /// <inheritdoc/>
    public void Step(int token, Span<float> logits)
    {
        _step.Run(token);
        _step.Logits.CopyTo(logits);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _step.Dispose();
        _recurrent?.Dispose();
    }

    // One session with its buffers: the token, each state twice (the input of one call is the output of the previous).
    private sealed class Graph : IDisposable
    {
        private readonly InferenceSession _session;
        private readonly RunOptions _run = new();
        private readonly long[] _token = new long[1];
        private readonly float[][][] _states;
        private readonly float[] _logits;
        private readonly string[] _inputNames, _outputNames;
        private readonly OrtValue[][] _inputs, _outputs;
        private int _parity;

        public Graph(string path, int threads, bool needsLogits)
        {
            if (!File.Exists(path)) throw new FileNotFoundException($"ONNX file '{path}' not found.", path);
            using var options = new SessionOptions
            {
                IntraOpNumThreads = threads,
                InterOpNumThreads = 1,
                ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
                GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            };
            _session = new InferenceSession(path, options);
            var inputs = _session.InputMetadata.ToList();
            var outputs = _session.OutputMetadata.ToList();
            var token = inputs.Where(i => i.Value.ElementDataType == TensorElementType.Int64).ToList();
            if (token.Count != 1) throw new ArgumentException($"'{path}' has {token.Count} int64 inputs; a step has one, the token.");
            var states = inputs.Where(i => i.Value.ElementDataType == TensorElementType.Float).ToList();
            if (states.Count + 1 != inputs.Count) throw new ArgumentException($"'{path}' has inputs that are neither the token nor float states.");
            var free = outputs.Where(o => o.Value.ElementDataType == TensorElementType.Float).ToList();
            var stateOutputs = new List<string>();
            foreach (var state in states)
            {
                int match = free.FindIndex(o => o.Value.Dimensions.SequenceEqual(state.Value.Dimensions));
                if (match < 0) throw new ArgumentException($"'{path}': no output has the shape of state input '{state.Key}' [{string.Join(", ", state.Value.Dimensions)}].");
                stateOutputs.Add(free[match].Key);
                free.RemoveAt(match);
            }
            if (needsLogits && free.Count != 1) throw new ArgumentException($"'{path}' has {free.Count} outputs besides the states; a step has one, the logits.");
            long[] LongShape(int[] dims) => [.. dims.Select(d => d < 0 ? 1L : d)];
            long[] tokenShape = LongShape(token[0].Value.Dimensions);
            if (tokenShape.Aggregate(1L, (a, b) => a * b) != 1) throw new ArgumentException($"'{path}': the token input has shape [{string.Join(", ", tokenShape)}]; expected one element.");
            long[][] stateShapes = [.. states.Select(s => LongShape(s.Value.Dimensions))];
            _states = [.. stateShapes.Select(shape => new[] { new float[shape.Aggregate(1L, (a, b) => a * b)], new float[shape.Aggregate(1L, (a, b) => a * b)] })];
            long[] logitsShape = free.Count == 1 ? LongShape(free[0].Value.Dimensions) : [];
            VocabularySize = free.Count == 1 ? (int)logitsShape[^1] : 0;
            _logits = new float[free.Count == 1 ? logitsShape.Aggregate(1L, (a, b) => a * b) : 0];
            _inputNames = [token[0].Key, .. states.Select(s => s.Key)];
            _outputNames = [.. stateOutputs, .. free.Count == 1 ? new[] { free[0].Key } : []];
            _inputs = new OrtValue[2][];
            _outputs = new OrtValue[2][];
            for (int p = 0; p < 2; p++)
            {
                _inputs[p] = [OrtValue.CreateTensorValueFromMemory(_token, tokenShape),
                    .. _states.Select((buffers, s) => OrtValue.CreateTensorValueFromMemory(buffers[p], stateShapes[s]))];
                _outputs[p] = [.. _states.Select((buffers, s) => OrtValue.CreateTensorValueFromMemory(buffers[1 - p], stateShapes[s])),
                    .. _logits.Length > 0 ? new[] { OrtValue.CreateTensorValueFromMemory(_logits, logitsShape) } : []];
            }
        }

        public int VocabularySize { get; }

        public ReadOnlySpan<float> Logits => _logits;

        public void Reset()
        {
            foreach (float[][] buffers in _states)
                foreach (float[] buffer in buffers) Array.Clear(buffer);
            _parity = 0;
        }

        public void Run(int token)
        {
            _token[0] = token;
            _session.Run(_run, _inputNames, _inputs[_parity], _outputNames, _outputs[_parity]);
            _parity = 1 - _parity;
        }

        public void Dispose()
        {
            foreach (OrtValue value in _inputs.Concat(_outputs).SelectMany(v => v)) value.Dispose();
            _run.Dispose();
            _session.Dispose();
        }
    }
}
