using Dopant.IO;
using Dopant.Matrices;
using Dopant.Numerics;

namespace Dopant.Training;

/// <summary>
/// The tensors of a model's weights in a safetensors file, for any model that is a set of named weight matrices:
/// dense values under their parameter names (per-row int8 or fp16 in a quantized compact file), and the pruned parts
/// (pruned forms, doped matrices' S) with their masks, or in a compact file as CSR and block-CSR arrays. The file's
/// metadata (<c>dopant.forms</c> and the rest) is the caller's.
/// </summary>
/// <remarks>
/// A quantized compact file also stores single entries' CSR values per row at its precision (one scale a row, as the
/// runtime's quantized sparse kernels hold them) and their column indices in 16 bits when the matrix has at most 65,536
/// columns; whole blocks stay fp32.
/// </remarks>
internal static class WeightTensors
{
    private const string ScalesSuffix = ".scales";
    private const string BlockValuesSuffix = ".bsr_values", BlockColumnsSuffix = ".bsr_columns", BlockRowPointersSuffix = ".bsr_row_pointers";
    private const string CsrValuesSuffix = ".csr_values", CsrColumnsSuffix = ".csr_columns", CsrRowPointersSuffix = ".csr_row_pointers";
    private const string CsrScalesSuffix = ".csr_scales";

    /// <summary>
    /// The tensors of <paramref name="parameters"/>, and the forms of <paramref name="matrices"/> that are not dense
    /// (every combined <c>rnn.weight_l{k}</c> included) for <c>dopant.forms</c>.
    /// </summary>
    /// <exception cref="ArgumentException">A matrix has tensor names that its form's description would not restore.</exception>
    public static (List<SafeTensor> Tensors, SortedDictionary<string, WeightFormSpec> Forms) Write(IReadOnlyList<Parameter<float>> parameters,
        IReadOnlyList<(string Name, IWeightMatrix<float> Matrix)> matrices, bool compact, WeightPrecision precision)
    {
        List<PrunedMatrix<float>> pruned = PrunedParts(matrices);
        var sparseValues = compact ? pruned.Select(p => p.Weight.Name).ToHashSet(StringComparer.Ordinal) : [];
        var quantized = precision == WeightPrecision.Float32 ? [] : DenseMatrices(matrices).ToHashSet();
        var tensors = new List<SafeTensor>();
        foreach (Parameter<float> p in parameters)
            if (quantized.Contains(p)) tensors.AddRange(Quantized(p, precision));
            else if (!sparseValues.Contains(p.Name))
                tensors.Add(SafeTensor.Create<float>(p.Name, p.Value, p.Shape.Select(d => (long)d).ToArray()));
        var forms = new SortedDictionary<string, WeightFormSpec>(StringComparer.Ordinal);
        foreach ((string name, IWeightMatrix<float> matrix) in matrices)
        {
            WeightFormSpec spec = DescribeRestorable(name, matrix);
            if (spec.Kind != WeightFormSpec.DenseKind || name.StartsWith("rnn.weight_l", StringComparison.Ordinal)) forms[name] = spec;
        }
        foreach (PrunedMatrix<float> part in pruned)
        {
            if (compact)
            {
                // Whole blocks in block CSR, single entries (all of them, or a part's loose entries) in CSR.
                (PrunedMatrix<float>? blocks, PrunedMatrix<float>? entries) = part.Block switch
                {
                    { IsElement: true } => (null, part),
                    { HasLooseEntries: true } => part.SplitLooseEntries(),
                    _ => (part, (PrunedMatrix<float>?)null),
                };
                if (blocks is not null)
                {
                    (float[] values, int[] blockColumns, int[] blockRowPointers) = BlockCsr(blocks);
                    tensors.Add(SafeTensor.Create<float>(part.Weight.Name + BlockValuesSuffix, values, values.Length));
                    tensors.Add(SafeTensor.Create<int>(part.Weight.Name + BlockColumnsSuffix, blockColumns, blockColumns.Length));
                    tensors.Add(SafeTensor.Create<int>(part.Weight.Name + BlockRowPointersSuffix, blockRowPointers, blockRowPointers.Length));
                }
                if (entries is not null)
                {
                    CsrMatrix<float> csr = entries.ToCsr();
                    if (precision == WeightPrecision.Float32)
                    {
                        tensors.Add(SafeTensor.Create<float>(part.Weight.Name + CsrValuesSuffix, csr.Values, csr.NonZeroCount));
                        tensors.Add(SafeTensor.Create<int>(part.Weight.Name + CsrColumnsSuffix, csr.ColumnIndices, csr.NonZeroCount));
                    }
                    else tensors.AddRange(QuantizedCsr(part.Weight.Name, csr, precision));
                    tensors.Add(SafeTensor.Create<int>(part.Weight.Name + CsrRowPointersSuffix, csr.RowPointers, csr.Rows + 1));
                }
                continue;
            }
            var mask = new byte[part.Mask.Length];
            for (int k = 0; k < mask.Length; k++) mask[k] = part.Mask[k] == 0 ? (byte)0 : (byte)1;
            tensors.Add(SafeTensor.Create<byte>(WeightForms.MaskName(part), mask, part.Rows, part.Columns));
        }
        return (tensors, forms);
    }

    /// <summary>
    /// Reads the values of <paramref name="parameters"/> (the forms of <paramref name="matrices"/> already restored)
    /// from <paramref name="file"/>, adding every tensor name read to <paramref name="expected"/>; every problem is an
    /// <see cref="InvalidDataException"/> naming <paramref name="path"/>, the tensor and the problem, NaN and infinite
    /// weights included.
    /// </summary>
    public static void Read(string path, SafeTensorsFile file, IReadOnlyList<Parameter<float>> parameters,
        IReadOnlyList<(string Name, IWeightMatrix<float> Matrix)> matrices, bool compact, WeightPrecision precision, HashSet<string> expected)
    {
        List<PrunedMatrix<float>> prunedParts = PrunedParts(matrices);
        var sparseValues = compact ? prunedParts.Select(p => p.Weight.Name).ToHashSet(StringComparer.Ordinal) : [];
        var quantized = precision == WeightPrecision.Float32 ? [] : DenseMatrices(matrices).ToHashSet();
        foreach (Parameter<float> p in parameters)
        {
            if (sparseValues.Contains(p.Name)) continue;
            if (quantized.Contains(p))
            {
                RestoreQuantized(path, file, p, precision, expected);
                continue;
            }
            expected.Add(p.Name);
            file.RequireSingles(p.Name, p.Shape.Select(d => (long)d).ToArray()).CopyTo(p.Value, 0);
        }
        foreach (PrunedMatrix<float> pruned in prunedParts)
        {
            if (compact)
            {
                var dense = new float[pruned.Rows * pruned.Columns];
                var kept = new float[dense.Length];
                if (!pruned.Block.IsElement) RestoreFromBlockCsr(path, file, pruned, expected, dense, kept);
                if (pruned.Block.IsElement || pruned.Block.HasLooseEntries) RestoreFromCsr(path, file, pruned, precision, expected, dense, kept);
                dense.CopyTo(pruned.Weight.Value, 0);
                pruned.RestoreMask(kept);
                continue;
            }
            string maskName = WeightForms.MaskName(pruned);
            expected.Add(maskName);
            ReadOnlySpan<byte> bits = file.Require(maskName, SafeTensorsDType.UInt8, pruned.Rows, pruned.Columns).AsSpan<byte>();
            var mask = new float[bits.Length];
            for (int k = 0; k < bits.Length; k++)
                mask[k] = bits[k] <= 1 ? bits[k]
                    : throw new InvalidDataException($"'{path}': mask '{maskName}' holds {bits[k]} at index {k}; a mask holds only 0 (pruned) and 1 (kept).");
            try
            {
                pruned.RestoreMask(mask);
            }
            catch (ArgumentException e)
            {
                throw new InvalidDataException($"'{path}': mask '{maskName}': {e.Message.Split(" (Parameter", 2)[0]}", e);
            }
        }
        // A NaN or infinity would only surface as a NaN perplexity; name the tensor instead (pruned entries included:
        // the products multiply them by a zero mask, which keeps a NaN).
        foreach (Parameter<float> p in parameters)
            for (int k = 0; k < p.Value.Length; k++)
                if (!float.IsFinite(p.Value[k]))
                    throw new InvalidDataException($"'{path}': tensor {DiagnosticText.Quote(p.Name)} holds {p.Value[k]} at index {k}; a model's weights must be finite.");
    }

    // The dense matrices a quantized compact file stores per row: the embedding, recurrent matrices and decoder that are dense.
    private static IEnumerable<Parameter<float>> DenseMatrices(IReadOnlyList<(string Name, IWeightMatrix<float> Matrix)> matrices) =>
        matrices.Select(m => m.Matrix).OfType<DenseMatrix<float>>().Select(d => d.Weight);

    public static string PrecisionName(WeightPrecision precision) => precision == WeightPrecision.Int8 ? "int8" : "fp16";

    private static SafeTensor[] Quantized(Parameter<float> p, WeightPrecision precision)
    {
        int rows = p.Shape[0], columns = p.Shape[1];
        var scales = new float[rows];
        SafeTensor values;
        if (precision == WeightPrecision.Int8)
        {
            var q = new sbyte[p.Length];
            RowQuantization.ToInt8(p.Value, rows, columns, q, scales);
            values = SafeTensor.Create<sbyte>(p.Name + ".int8", q, rows, columns);
        }
        else
        {
            var h = new Half[p.Length];
            RowQuantization.ToFloat16(p.Value, rows, columns, h, scales);
            values = SafeTensor.Create<Half>(p.Name + ".fp16", h, rows, columns);
        }
        return [values, SafeTensor.Create<float>(p.Name + ScalesSuffix, scales, rows)];
    }

    private static void RestoreQuantized(string path, SafeTensorsFile file, Parameter<float> p, WeightPrecision precision, HashSet<string> expected)
    {
        int rows = p.Shape[0], columns = p.Shape[1];
        string valuesName = p.Name + "." + PrecisionName(precision);
        ReadOnlySpan<float> scales = file.Require(p.Name + ScalesSuffix, SafeTensorsDType.Float32, rows).AsSpan<float>();
        for (int i = 0; i < rows; i++)
            if (!float.IsFinite(scales[i]) || scales[i] < 0)
                throw new InvalidDataException($"'{path}': '{p.Name}{ScalesSuffix}' holds {scales[i]} at row {i}; a scale is finite and not negative.");
        if (precision == WeightPrecision.Int8)
            RowQuantization.Dequantize(file.Require(valuesName, SafeTensorsDType.Int8, rows, columns).AsSpan<sbyte>(), scales, columns, p.Value);
        else
        {
            ReadOnlySpan<Half> halves = file.Require(valuesName, SafeTensorsDType.Float16, rows, columns).AsSpan<Half>();
            foreach (Half h in halves)
                if (!Half.IsFinite(h)) throw new InvalidDataException($"'{path}': '{valuesName}' holds a value that is not finite.");
            RowQuantization.Dequantize(halves, scales, columns, p.Value);
        }
        expected.UnionWith([valuesName, p.Name + ScalesSuffix]);
    }

    // Every pruned part of the weight matrices (pruned forms, doped matrices' S), in state-dict order.
    private static List<PrunedMatrix<float>> PrunedParts(IReadOnlyList<(string Name, IWeightMatrix<float> Matrix)> matrices) =>
        [.. matrices.SelectMany(m => WeightForms.PrunedParts(m.Matrix))];

    // Block CSR of a part pruned in blocks: per block row, the kept blocks' column numbers (in blocks) and their entries
    // (row-major within a block, edge blocks cut short), so that the bytes are what StorageBytes counts.
    private static (float[] Values, int[] BlockColumns, int[] BlockRowPointers) BlockCsr(PrunedMatrix<float> part)
    {
        BlockShape block = part.Block;
        (int blockRows, int blockColumns) = block.GridFor(part.Rows, part.Columns);
        var values = new List<float>();
        var columns = new List<int>();
        var pointers = new int[blockRows + 1];
        for (int g = 0; g < blockRows; g++)
        {
            for (int b = 0; b < blockColumns; b++)
            {
                if (part.Mask[g * block.Rows * part.Columns + b * block.Columns] == 0) continue;
                columns.Add(b);
                for (int i = g * block.Rows; i < Math.Min((g + 1) * block.Rows, part.Rows); i++)
                    for (int j = b * block.Columns; j < Math.Min((b + 1) * block.Columns, part.Columns); j++)
                        values.Add(part.Weight.Value[i * part.Columns + j]);
            }
            pointers[g + 1] = columns.Count;
        }
        return ([.. values], [.. columns], pointers);
    }

    // A compact file's whole blocks: the block CSR arrays, checked, fill the dense values and the mask.
    private static void RestoreFromBlockCsr(string path, SafeTensorsFile file, PrunedMatrix<float> pruned, HashSet<string> expected, float[] dense, float[] mask)
    {
        string name = pruned.Weight.Name;
        BlockShape block = pruned.Block;
        (int blockRows, int blockColumns) = block.GridFor(pruned.Rows, pruned.Columns);
        ReadOnlySpan<int> starts = file.Require(name + BlockRowPointersSuffix, SafeTensorsDType.Int32, blockRows + 1).AsSpan<int>();
        if (starts[0] != 0) throw new InvalidDataException($"'{path}': '{name}{BlockRowPointersSuffix}' does not start at 0.");
        for (int g = 0; g < blockRows; g++)
            if (starts[g + 1] < starts[g] || starts[g + 1] - starts[g] > blockColumns)
                throw new InvalidDataException($"'{path}': '{name}{BlockRowPointersSuffix}' is not a valid pointer array at block row {g}.");
        ReadOnlySpan<int> columns = file.Require(name + BlockColumnsSuffix, SafeTensorsDType.Int32, starts[^1]).AsSpan<int>();
        long entries = 0;
        for (int g = 0; g < blockRows; g++)
            for (int k = starts[g]; k < starts[g + 1]; k++)
            {
                int b = columns[k];
                if ((uint)b >= (uint)blockColumns || k > starts[g] && b <= columns[k - 1])
                    throw new InvalidDataException($"'{path}': '{name}{BlockColumnsSuffix}' holds {b} in block row {g}; block columns must be increasing and below {blockColumns}.");
                entries += (long)(Math.Min((g + 1) * block.Rows, pruned.Rows) - g * block.Rows) * (Math.Min((b + 1) * block.Columns, pruned.Columns) - b * block.Columns);
            }
        ReadOnlySpan<float> values = file.Require(name + BlockValuesSuffix, SafeTensorsDType.Float32, entries).AsSpan<float>();
        expected.UnionWith([name + BlockRowPointersSuffix, name + BlockColumnsSuffix, name + BlockValuesSuffix]);
        int next = 0;
        for (int g = 0; g < blockRows; g++)
            for (int k = starts[g]; k < starts[g + 1]; k++)
                for (int i = g * block.Rows; i < Math.Min((g + 1) * block.Rows, pruned.Rows); i++)
                    for (int j = columns[k] * block.Columns; j < Math.Min((columns[k] + 1) * block.Columns, pruned.Columns); j++)
                    {
                        dense[i * pruned.Columns + j] = values[next++];
                        mask[i * pruned.Columns + j] = 1;
                    }
    }

    // A compact file's single entries: the CSR arrays, checked, fill the dense values and the mask (loose entries
    // must lie outside the whole blocks read before them).
    private static void RestoreFromCsr(string path, SafeTensorsFile file, PrunedMatrix<float> pruned, WeightPrecision precision, HashSet<string> expected,
        float[] dense, float[] mask)
    {
        string name = pruned.Weight.Name;
        SafeTensor rowPointers = file.Require(name + CsrRowPointersSuffix, SafeTensorsDType.Int32, pruned.Rows + 1);
        ReadOnlySpan<int> starts = rowPointers.AsSpan<int>();
        if (starts[0] != 0) throw new InvalidDataException($"'{path}': '{name}{CsrRowPointersSuffix}' does not start at 0.");
        for (int i = 0; i < pruned.Rows; i++)
            if (starts[i + 1] < starts[i])
                throw new InvalidDataException($"'{path}': '{name}{CsrRowPointersSuffix}' decreases at row {i}.");
        int count = starts[^1];
        expected.Add(name + CsrRowPointersSuffix);
        float[] values = precision == WeightPrecision.Float32
            ? file.Require(Expect(expected, name + CsrValuesSuffix), SafeTensorsDType.Float32, count).AsSpan<float>().ToArray()
            : RestoreQuantizedCsrValues(path, file, name, precision, starts, expected);
        SafeTensor columnTensor = file.TryGetTensor(name + CsrColumnsSuffix, out SafeTensor? found) && found.DType == SafeTensorsDType.UInt16 && precision != WeightPrecision.Float32
            ? file.Require(name + CsrColumnsSuffix, SafeTensorsDType.UInt16, count)
            : file.Require(name + CsrColumnsSuffix, SafeTensorsDType.Int32, count);
        int[] columns = columnTensor.DType == SafeTensorsDType.UInt16
            ? [.. columnTensor.AsSpan<ushort>().ToArray().Select(c => (int)c)]
            : columnTensor.AsSpan<int>().ToArray();
        expected.Add(name + CsrColumnsSuffix);
        for (int i = 0; i < pruned.Rows; i++)
        {
            for (int k = starts[i]; k < starts[i + 1]; k++)
            {
                int j = columns[k];
                if ((uint)j >= (uint)pruned.Columns || k > starts[i] && j <= columns[k - 1])
                    throw new InvalidDataException($"'{path}': '{name}{CsrColumnsSuffix}' holds {j} in row {i}; columns must be increasing and below {pruned.Columns}.");
                if (mask[i * pruned.Columns + j] != 0)
                    throw new InvalidDataException($"'{path}': '{name}{CsrColumnsSuffix}' holds row {i}, column {j}, which a kept block already holds.");
                dense[i * pruned.Columns + j] = values[k];
                mask[i * pruned.Columns + j] = 1;
            }
        }
    }

    private static string Expect(HashSet<string> expected, string name)
    {
        expected.Add(name);
        return name;
    }

    // Single entries at a quantized precision: each row's values with its own scale, columns in 16 bits where they fit.
    private static SafeTensor[] QuantizedCsr(string name, CsrMatrix<float> csr, WeightPrecision precision)
    {
        var scales = new float[csr.Rows];
        SafeTensor values;
        ReadOnlySpan<int> starts = csr.RowPointers;
        if (precision == WeightPrecision.Int8)
        {
            var q = new sbyte[csr.NonZeroCount];
            for (int i = 0; i < csr.Rows; i++)
            {
                int length = starts[i + 1] - starts[i];
                RowQuantization.ToInt8(csr.Values.Slice(starts[i], length), 1, length, q.AsSpan(starts[i], length), scales.AsSpan(i, 1));
            }
            values = SafeTensor.Create<sbyte>(name + CsrValuesSuffix + ".int8", q, q.Length);
        }
        else
        {
            var h = new Half[csr.NonZeroCount];
            for (int i = 0; i < csr.Rows; i++)
            {
                int length = starts[i + 1] - starts[i];
                RowQuantization.ToFloat16(csr.Values.Slice(starts[i], length), 1, length, h.AsSpan(starts[i], length), scales.AsSpan(i, 1));
            }
            values = SafeTensor.Create<Half>(name + CsrValuesSuffix + ".fp16", h, h.Length);
        }
        SafeTensor columns = csr.Columns <= ushort.MaxValue + 1
            ? SafeTensor.Create<ushort>(name + CsrColumnsSuffix, [.. csr.ColumnIndices[..csr.NonZeroCount].ToArray().Select(c => (ushort)c)], csr.NonZeroCount)
            : SafeTensor.Create<int>(name + CsrColumnsSuffix, csr.ColumnIndices, csr.NonZeroCount);
        return [values, columns, SafeTensor.Create<float>(name + CsrScalesSuffix, scales, csr.Rows)];
    }

    private static float[] RestoreQuantizedCsrValues(string path, SafeTensorsFile file, string name, WeightPrecision precision, ReadOnlySpan<int> starts,
        HashSet<string> expected)
    {
        int rows = starts.Length - 1, count = starts[^1];
        ReadOnlySpan<float> scales = file.Require(Expect(expected, name + CsrScalesSuffix), SafeTensorsDType.Float32, rows).AsSpan<float>();
        for (int i = 0; i < rows; i++)
            if (!float.IsFinite(scales[i]) || scales[i] < 0)
                throw new InvalidDataException($"'{path}': '{name}{CsrScalesSuffix}' holds {scales[i]} at row {i}; a scale is finite and not negative.");
        string valuesName = name + CsrValuesSuffix + "." + PrecisionName(precision);
        var values = new float[count];
        if (precision == WeightPrecision.Int8)
        {
            ReadOnlySpan<sbyte> quantized = file.Require(Expect(expected, valuesName), SafeTensorsDType.Int8, count).AsSpan<sbyte>();
            for (int i = 0; i < rows; i++)
                RowQuantization.Dequantize(quantized[starts[i]..starts[i + 1]], scales.Slice(i, 1), starts[i + 1] - starts[i], values.AsSpan(starts[i]..starts[i + 1]));
        }
        else
        {
            ReadOnlySpan<Half> halves = file.Require(Expect(expected, valuesName), SafeTensorsDType.Float16, count).AsSpan<Half>();
            foreach (Half h in halves)
                if (!Half.IsFinite(h)) throw new InvalidDataException($"'{path}': '{valuesName}' holds a value that is not finite.");
            for (int i = 0; i < rows; i++)
                RowQuantization.Dequantize(halves[starts[i]..starts[i + 1]], scales.Slice(i, 1), starts[i + 1] - starts[i], values.AsSpan(starts[i]..starts[i + 1]));
        }
        return values;
    }

    /// <summary>The description of a matrix to save, after checking that loading would rebuild it with the same tensor names.</summary>
    public static WeightFormSpec DescribeRestorable(string name, IWeightMatrix<float> matrix)
    {
        WeightFormSpec spec = WeightForms.Describe(matrix);
        string[] names = matrix.Parameters.Select(p => p.Name).ToArray();
        string[] restored = spec.Kind == WeightFormSpec.DenseKind
            ? [name]
            : WeightForms.Create<float>(spec, name, matrix.Rows, matrix.Columns).Parameters.Select(p => p.Name).ToArray();
        if (!names.SequenceEqual(restored, StringComparer.Ordinal))
            throw new ArgumentException(
                $"Weight matrix '{name}' has tensors [{string.Join(", ", names)}], but a checkpoint restores its form {spec.ToJson()} as " +
                $"[{string.Join(", ", restored)}]; build it with WeightForms.Create or WeightForms.FromDense under the name '{name}'.", nameof(matrix));
        return spec;
    }

}
