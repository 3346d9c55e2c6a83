using Dopant.Matrices;
using Dopant.Models;
using Dopant.Numerics;
using static Dopant.Onnx.OnnxGraph;

namespace Dopant.Onnx;

/// <summary>
/// Writes a language model's one-token step as an ONNX graph that ONNX Runtime (or any ONNX runtime at opset 17) runs:
/// inputs <c>token</c> (int64 [1]), <c>h</c> (float [layers, H]) and, for LSTM, <c>c</c>; outputs <c>logits</c>
/// (float [1, V]), <c>h_out</c> and <c>c_out</c>, the state to feed back with the next token (zeros at the start).
/// </summary>
/// <remarks>
/// Every weight keeps its form, so the file is as small as the model: a dense matrix is one <c>Gemm</c>; low rank
/// U·V two; a hybrid matrix the two concatenated; a Kronecker sum Σ A_r ⊗ B_r is a reshape of x to N1 × N2, two
/// batched <c>MatMul</c>s (A_r·X·B_rᵀ) and a <c>ReduceSum</c> over r; a pruned matrix or doping S a sparse initializer
/// (ONNX Runtime expands it when it loads the file); a doped matrix the sum of its parts. At int8 the dense matrices
/// (embedding included) are stored as 8-bit integers with a scale per row and expanded by <c>DequantizeLinear</c>; at
/// fp16 as 16-bit floats with a scale per row; the compressed forms stay fp32, as in Dopant's runtime.
/// </remarks>
public static class OnnxExport
{
    /// <summary>
    /// Writes <paramref name="model"/>'s step to <paramref name="path"/> (atomically) and returns the file's size in
    /// bytes; without <paramref name="withHead"/> the step stops at the new state (no decoder, no <c>logits</c>), which
    /// is how the recurrent part alone is timed.
    /// </summary>
    public static long Write(LanguageModel<float> model, string path, WeightPrecision precision = WeightPrecision.Float32, bool withHead = true)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(path);
        LanguageModelConfig config = model.Config;
        if (!config.LayerSizes.IsEmpty)
            throw new ArgumentException(
                $"ONNX export keeps every layer's state in one [layers, hidden] tensor, so its layers need one size; this model's are {config.LayerSizes}.", nameof(model));
        int layers = config.Layers, hidden = config.HiddenSize;
        bool lstm = config.Cell == RecurrentCell.Lstm;
        var builder = new StepBuilder(new OnnxGraph(), precision);
        OnnxGraph g = builder.Graph;
        g.Input("token", ElementType.Int64, 1L);
        g.Input("h", ElementType.Float, (long)layers, (long)hidden);
        if (lstm) g.Input("c", ElementType.Float, (long)layers, (long)hidden);

        string x = builder.EmbeddingRow(model.Encoder.Table, "token");
        string[] h = builder.Rows("h", layers), c = lstm ? builder.Rows("c", layers) : [];
        var newH = new string[layers];
        var newC = new string[layers];
        for (int l = 0; l < layers; l++)
        {
            IRecurrentLayer<float> layer = model.Layers[l];
            if (lstm) (newH[l], newC[l]) = builder.LstmStep(layer, x, h[l], c[l]);
            else newH[l] = builder.GruStep(layer, x, h[l]);
            x = newH[l];
        }
        if (withHead)
        {
            string logits = g.Node("Add", [builder.Product(model.Decoder.Weight, x), g.Initializer("decoder.bias", model.Decoder.Bias.Value, 1, config.VocabularySize)]);
            g.NodeInto("Identity", [logits], ["logits"]);
            g.Output("logits", ElementType.Float, 1L, (long)config.VocabularySize);
        }
        g.NodeInto("Concat", newH, ["h_out"], OnnxAttribute.Of("axis", 0L));
        if (lstm) g.NodeInto("Concat", newC, ["c_out"], OnnxAttribute.Of("axis", 0L));
        g.Output("h_out", ElementType.Float, (long)layers, (long)hidden);
        if (lstm) g.Output("c_out", ElementType.Float, (long)layers, (long)hidden);
        return g.Write(path, "dopant_language_model_step", typeof(OnnxExport).Assembly.GetName().Version?.ToString() ?? "",
            $"{config.Describe()}; one token per call: feed h_out (and c_out) back as h (and c), zeros at the start.");
    }

    // Emits the nodes of one step, keeping each dense fp32 weight's initializer once (a tied decoder reuses the embedding's).
    private sealed class StepBuilder(OnnxGraph graph, WeightPrecision precision)
    {
        private readonly Dictionary<IWeightMatrix<float>, string> _denseWeights = new(ReferenceEqualityComparer.Instance);

        public OnnxGraph Graph { get; } = graph;

        // The L rows [1, H] of a state input [L, H].
        public string[] Rows(string state, int layers) => layers == 1
            ? [Graph.Node("Identity", [state])]
            : Graph.Node("Split", [state, Graph.Initializer(state + "_split", Enumerable.Repeat(1L, layers).ToArray(), layers)], layers, OnnxAttribute.Of("axis", 0L));

        /// <summary>The row of <paramref name="table"/> at the token, [1, E].</summary>
        public string EmbeddingRow(IWeightMatrix<float> table, string token)
        {
            if (table is LowRankMatrix<float> lowRank)
                return Graph.Node("MatMul", [Graph.Node("Gather", [Graph.Initializer("encoder.left", lowRank.Left.Value, lowRank.Rows, lowRank.Rank), token], OnnxAttribute.Of("axis", 0L)),
                    Graph.Initializer("encoder.right", lowRank.Right.Value, lowRank.Rank, lowRank.Columns)]);
            float[] dense = table is DenseMatrix<float> d ? d.Weight.Value : table.ToDense();
            if (precision == WeightPrecision.Float32)
                return Graph.Node("Gather", [DenseWeight(table, dense, "encoder.weight"), token], OnnxAttribute.Of("axis", 0L));
            (string values, string scales) = Quantized(dense, table.Rows, table.Columns, "encoder.weight");
            string row = Graph.Node("Cast", [Graph.Node("Gather", [values, token], OnnxAttribute.Of("axis", 0L))], OnnxAttribute.Of("to", (long)ElementType.Float));
            string scale = Graph.Node("Gather", [scales, token], OnnxAttribute.Of("axis", 0L));
            return Graph.Node("Mul", [row, scale]);
        }

        /// <summary>x [1, n] · Wᵀ → [1, m] in the form's own operations.</summary>
        public string Product(IWeightMatrix<float> form, string x) => form switch
        {
            DenseMatrix<float> dense => DenseProduct(dense, dense.Weight.Value, x, dense.Weight.Name),
            LowRankMatrix<float> lowRank => LowRankProduct(lowRank.Left.Value, lowRank.Right.Value, lowRank.Rows, lowRank.Rank, lowRank.Columns, x, lowRank.Left.Name),
            HybridMatrix<float> hybrid => Graph.Node("Concat", [
                Gemm(x, Graph.Initializer(hybrid.Dense.Name, hybrid.Dense.Value, hybrid.DenseRows, hybrid.Columns)),
                LowRankProduct(hybrid.Left.Value, hybrid.Right.Value, hybrid.Rows - hybrid.DenseRows, hybrid.Rank, hybrid.Columns, x, hybrid.Left.Name)],
                OnnxAttribute.Of("axis", 1L)),
            KroneckerMatrix<float> kron => KroneckerProduct(kron, x),
            PrunedMatrix<float> pruned => SparseProduct(pruned, x),
            DopedMatrix<float> doped => Graph.Node("Add", [Product(doped.Structure, x), Product(doped.Sparse, x)]),
            _ => DenseProduct(form, form.ToDense(), x, "weight"),
        };

        /// <summary>h', c' of an LSTM layer (PyTorch's gates i, f, g, o), each [1, H].</summary>
        public (string Hidden, string Cell) LstmStep(IRecurrentLayer<float> layer, string x, string h, string c)
        {
            int hidden = layer.HiddenSize;
            string gates = layer.CombinedWeights is { } combined
                ? Product(combined, Graph.Node("Concat", [x, h], OnnxAttribute.Of("axis", 1L)))
                : Graph.Node("Add", [Product(layer.InputWeights, x), Product(layer.RecurrentWeights, h)]);
            gates = Graph.Node("Add", [gates, Bias(layer)]);
            string[] parts = Split(gates, 4, hidden);
            string i = Graph.Node("Sigmoid", [parts[0]]), f = Graph.Node("Sigmoid", [parts[1]]);
            string candidate = Graph.Node("Tanh", [parts[2]]), o = Graph.Node("Sigmoid", [parts[3]]);
            string cell = Graph.Node("Add", [Graph.Node("Mul", [f, c]), Graph.Node("Mul", [i, candidate])]);
            return (Graph.Node("Mul", [o, Graph.Node("Tanh", [cell])]), cell);
        }

        /// <summary>h' of a GRU layer (PyTorch's gates r, z, n with b_hn inside r's product), [1, H].</summary>
        public string GruStep(IRecurrentLayer<float> layer, string x, string h)
        {
            int hidden = layer.HiddenSize;
            string input = Graph.Node("Add", [Product(layer.InputWeights, x), Graph.Initializer(layer.InputWeightsName.Replace("weight", "bias"), layer.InputBias.Value, 1, 3 * hidden)]);
            string recurrent = Graph.Node("Add", [Product(layer.RecurrentWeights, h), Graph.Initializer(layer.RecurrentWeightsName.Replace("weight", "bias"), layer.RecurrentBias.Value, 1, 3 * hidden)]);
            string[] gi = Split(input, 3, hidden), gh = Split(recurrent, 3, hidden);
            string r = Graph.Node("Sigmoid", [Graph.Node("Add", [gi[0], gh[0]])]);
            string z = Graph.Node("Sigmoid", [Graph.Node("Add", [gi[1], gh[1]])]);
            string n = Graph.Node("Tanh", [Graph.Node("Add", [gi[2], Graph.Node("Mul", [r, gh[2]])])]);
            // h' = (1 − z)·n + z·h = n + z·(h − n)
            return Graph.Node("Add", [n, Graph.Node("Mul", [z, Graph.Node("Sub", [h, n])])]);
        }

        private string Bias(IRecurrentLayer<float> layer)
        {
            float[] sum = new float[layer.InputBias.Length];
            System.Numerics.Tensors.TensorPrimitives.Add(layer.InputBias.Value, layer.RecurrentBias.Value, sum);
            return Graph.Initializer($"rnn.bias_l{layer.Index}", sum, 1, sum.Length);
        }

        private string[] Split(string value, int parts, int size) =>
            Graph.Node("Split", [value, Graph.Initializer("split", Enumerable.Repeat((long)size, parts).ToArray(), parts)], parts, OnnxAttribute.Of("axis", 1L));

        private string Gemm(string x, string weight) => Graph.Node("Gemm", [x, weight], OnnxAttribute.Of("transB", 1L));

        private string DenseProduct(IWeightMatrix<float> form, float[] dense, string x, string name)
        {
            if (precision == WeightPrecision.Float32) return Gemm(x, DenseWeight(form, dense, name));
            (string values, string scales) = Quantized(dense, form.Rows, form.Columns, name);
            string weight = precision == WeightPrecision.Int8
                ? Graph.Node("DequantizeLinear", [values, scales, Graph.Initializer(name + ".zero", new sbyte[form.Rows], form.Rows)], OnnxAttribute.Of("axis", 0L))
                : Graph.Node("Mul", [Graph.Node("Cast", [values], OnnxAttribute.Of("to", (long)ElementType.Float)),
                    Graph.Node("Unsqueeze", [scales, Graph.Initializer("axes", new long[] { 1 }, 1)])]);
            return Gemm(x, weight);
        }

        private string DenseWeight(IWeightMatrix<float> form, float[] dense, string name)
        {
            if (!_denseWeights.TryGetValue(form, out string? initializer))
                _denseWeights[form] = initializer = Graph.Initializer(name, dense, form.Rows, form.Columns);
            return initializer;
        }

        // Per-row int8 or fp16 values [m, n] and their scales [m], as Dopant's runtime stores them.
        private (string Values, string Scales) Quantized(float[] dense, int rows, int columns, string name)
        {
            var scales = new float[rows];
            string values;
            if (precision == WeightPrecision.Int8)
            {
                var q = new sbyte[dense.Length];
                RowQuantization.ToInt8(dense, rows, columns, q, scales);
                values = Graph.Initializer(name + ".int8", q, rows, columns);
            }
            else
            {
                var q = new Half[dense.Length];
                RowQuantization.ToFloat16(dense, rows, columns, q, scales);
                values = Graph.Initializer(name + ".fp16", q, rows, columns);
            }
            return (values, Graph.Initializer(name + ".scale", scales, rows));
        }

        private string LowRankProduct(float[] left, float[] right, int rows, int rank, int columns, string x, string name) =>
            Gemm(Gemm(x, Graph.Initializer(name + ".right", right, rank, columns)), Graph.Initializer(name + ".left", left, rows, rank));

        // y = vec(Σ_r A_r · X · B_rᵀ) with X = x read as N1 × N2: [r, M1, N1] · [N1, N2] → [r, M1, N2]; · [r, N2, M2] → [r, M1, M2].
        private string KroneckerProduct(KroneckerMatrix<float> kron, string x)
        {
            KroneckerShape s = kron.Shape;
            int rank = kron.Rank;
            var transposedB = new float[kron.Right.Length];
            for (int r = 0; r < rank; r++)
                for (int i = 0; i < s.M2; i++)
                    for (int j = 0; j < s.N2; j++)
                        transposedB[(r * s.N2 + j) * s.M2 + i] = kron.Right.Value[(r * s.M2 + i) * s.N2 + j];
            string matrix = Graph.Node("Reshape", [x, Graph.Initializer("shape", new long[] { s.N1, s.N2 }, 2)]);
            string left = Graph.Node("MatMul", [Graph.Initializer(kron.Left.Name, kron.Left.Value, rank, s.M1, s.N1), matrix]);
            string both = Graph.Node("MatMul", [left, Graph.Initializer(kron.Right.Name + ".t", transposedB, rank, s.N2, s.M2)]);
            string sum = Graph.Node("ReduceSum", [both, Graph.Initializer("axes", new long[] { 0 }, 1)], OnnxAttribute.Of("keepdims", 0L));
            return Graph.Node("Reshape", [sum, Graph.Initializer("shape", new long[] { 1, kron.Rows }, 2)]);
        }

        private string SparseProduct(PrunedMatrix<float> pruned, string x)
        {
            CsrMatrix<float> csr = pruned.ToCsr();
            var indices = new long[csr.NonZeroCount];
            for (int i = 0; i < csr.Rows; i++)
                for (int k = csr.RowPointers[i]; k < csr.RowPointers[i + 1]; k++)
                    indices[k] = (long)i * csr.Columns + csr.ColumnIndices[k];
            return Gemm(x, Graph.SparseInitializer(pruned.Weight.Name, csr.Values, indices, csr.Rows, csr.Columns));
        }
    }
}
