using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Dopant.Numerics;

namespace Dopant.Inference;

/// <summary>
/// A dense W for single-vector products, stored in panels so that a product reads one sequential stream: each panel
/// holds 8 rows, and within it every block of 16 columns holds those 8 rows' 16 values one row after another (rows
/// and columns padded with zeros to whole panels and blocks, in 64-byte aligned memory). The values are 32-bit floats
/// (<typeparamref name="TValue"/> = <see cref="float"/>), or 16-bit floats or 8-bit integers with one float scale per
/// row (W[i, j] ≈ scale[i]·value[i, j], as <see cref="RowQuantization"/>), widened to floats in registers. A product
/// keeps 8 rows' sums in registers, folds them to 8 outputs at the end of the panel, and splits the panels over two
/// threads when the weights are past the L2 cache (the result does not depend on the split).
/// </summary>
internal sealed unsafe class PanelStepMatrix<TValue> : IStepMatrix, IDisposable where TValue : unmanaged
{
    /// <summary>Rows per panel.</summary>
    public const int PanelRows = 8;

    /// <summary>Columns per block within a panel.</summary>
    public const int BlockColumns = 16;

    // As Blas.Sgemv: splitting pays once the weights are past the L2 cache.
    private const long ParallelBytes = 1L << 20;

    private readonly TValue* _panels;
    private readonly float[] _scales;
    private readonly float[] _x;
    private readonly int _panelCount, _blocks;
    private readonly SgemmKernelKind _kernel;

    /// <summary>Packs W (row-major <paramref name="rows"/> × <paramref name="columns"/>), quantizing it row by row unless fp32.</summary>
    public PanelStepMatrix(ReadOnlySpan<float> weights, int rows, int columns) : this(weights, rows, columns, Blas.ActiveKernel) { }

    /// <summary>As the public constructor, with the instruction family chosen (tests run every family this machine has).</summary>
    internal PanelStepMatrix(ReadOnlySpan<float> weights, int rows, int columns, SgemmKernelKind kernel)
    {
        if (typeof(TValue) != typeof(float) && typeof(TValue) != typeof(sbyte) && typeof(TValue) != typeof(Half))
            throw new NotSupportedException($"{typeof(TValue).Name} weights; expected float, Half or sbyte.");
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(columns);
        if (weights.Length != (long)rows * columns) throw new ArgumentException($"Expected {(long)rows * columns} weights, got {weights.Length}.", nameof(weights));
        if (!Blas.IsSupported(kernel)) throw new PlatformNotSupportedException($"The {kernel} kernel needs instructions this machine lacks.");
        Rows = rows;
        Columns = columns;
        _kernel = kernel;
        _panelCount = (rows + PanelRows - 1) / PanelRows;
        _blocks = (columns + BlockColumns - 1) / BlockColumns;
        _scales = new float[_panelCount * PanelRows];
        _x = new float[_blocks * BlockColumns];

        TValue[] values = new TValue[(long)rows * columns];
        if (typeof(TValue) == typeof(float)) weights.CopyTo(MemoryMarshal.Cast<TValue, float>(values.AsSpan()));
        else if (typeof(TValue) == typeof(sbyte)) RowQuantization.ToInt8(weights, rows, columns, MemoryMarshal.Cast<TValue, sbyte>(values.AsSpan()), _scales.AsSpan(0, rows));
        else RowQuantization.ToFloat16(weights, rows, columns, MemoryMarshal.Cast<TValue, Half>(values.AsSpan()), _scales.AsSpan(0, rows));

        nuint length = (nuint)_panelCount * (nuint)_blocks * PanelRows * BlockColumns;
        _panels = (TValue*)NativeMemory.AlignedAlloc(Math.Max(length, 1) * (nuint)sizeof(TValue), 64);
        new Span<TValue>(_panels, (int)length).Clear();
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < columns; j++)
                _panels[Offset(i, j)] = values[(long)i * columns + j];
    }

    public int Rows { get; }

    public int Columns { get; }

    public bool SplitsOverThreads => true;

    /// <summary>The values (as stored, without the padding) and, when quantized, the per-row scales.</summary>
    public long WeightBytes => (long)Rows * Columns * sizeof(TValue) + (typeof(TValue) == typeof(float) ? 0 : (long)Rows * sizeof(float));

    /// <summary>W[i, j] as this matrix computes with it (scale[i]·value[i, j] when quantized).</summary>
    public float this[int row, int column]
    {
        get
        {
            if ((uint)row >= (uint)Rows || (uint)column >= (uint)Columns) throw new ArgumentOutOfRangeException(nameof(row));
            TValue v = _panels[Offset(row, column)];
            return typeof(TValue) == typeof(float) ? Unsafe.As<TValue, float>(ref v)
                : typeof(TValue) == typeof(sbyte) ? _scales[row] * Unsafe.As<TValue, sbyte>(ref v)
                : _scales[row] * (float)Unsafe.As<TValue, Half>(ref v);
        }
    }

    public void MultiplyAdd(ReadOnlySpan<float> x, Span<float> y)
    {
        if (x.Length < Columns || y.Length < Rows) throw new ArgumentException($"Expected x of {Columns} and y of {Rows}.");
        x[..Columns].CopyTo(_x);
        var job = new PanelsJob(this, y);
        if (WeightBytes >= ParallelBytes && _panelCount > 1 && WorkerPool.Shared is { ThreadCount: > 1 } pool && !WorkerPool.IsInsideLoop)
            pool.For(_panelCount, job, 2);
        else job.Invoke(0, _panelCount);
    }

    public void Dispose()
    {
        NativeMemory.AlignedFree(_panels);
        GC.SuppressFinalize(this);
    }

    ~PanelStepMatrix() => NativeMemory.AlignedFree(_panels);

    private long Offset(int row, int column) =>
        ((long)(row / PanelRows) * _blocks + column / BlockColumns) * PanelRows * BlockColumns + row % PanelRows * BlockColumns + column % BlockColumns;

    private void MultiplyPanels(Span<float> y, int start, int end)
    {
        fixed (float* x = _x, scales = _scales)
        {
            float* sums = stackalloc float[PanelRows];
            for (int p = start; p < end; p++)
            {
                TValue* panel = _panels + (long)p * _blocks * PanelRows * BlockColumns;
                switch (_kernel)
                {
                    case SgemmKernelKind.Avx512Fma: PanelAvx512(panel, x, sums); break;
                    case SgemmKernelKind.Avx2Fma: PanelAvx2(panel, x, sums); break;
                    default: PanelScalar(panel, x, sums); break;
                }
                int rows = Math.Min(PanelRows, Rows - p * PanelRows);
                for (int r = 0; r < rows; r++)
                {
                    int i = p * PanelRows + r;
                    y[i] += typeof(TValue) == typeof(float) ? sums[r] : scales[i] * sums[r];
                }
            }
        }
    }

    private void PanelAvx512(TValue* w, float* x, float* sums)
    {
        Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default, s4 = default, s5 = default, s6 = default, s7 = default;
        for (int b = 0; b < _blocks; b++, w += PanelRows * BlockColumns)
        {
            Vector512<float> xv = Vector512.Load(x + b * BlockColumns);
            s0 = Vector512.FusedMultiplyAdd(Widen512(w), xv, s0);
            s1 = Vector512.FusedMultiplyAdd(Widen512(w + BlockColumns), xv, s1);
            s2 = Vector512.FusedMultiplyAdd(Widen512(w + 2 * BlockColumns), xv, s2);
            s3 = Vector512.FusedMultiplyAdd(Widen512(w + 3 * BlockColumns), xv, s3);
            s4 = Vector512.FusedMultiplyAdd(Widen512(w + 4 * BlockColumns), xv, s4);
            s5 = Vector512.FusedMultiplyAdd(Widen512(w + 5 * BlockColumns), xv, s5);
            s6 = Vector512.FusedMultiplyAdd(Widen512(w + 6 * BlockColumns), xv, s6);
            s7 = Vector512.FusedMultiplyAdd(Widen512(w + 7 * BlockColumns), xv, s7);
        }
        Fold(s0.GetLower() + s0.GetUpper(), s1.GetLower() + s1.GetUpper(), s2.GetLower() + s2.GetUpper(), s3.GetLower() + s3.GetUpper(),
            s4.GetLower() + s4.GetUpper(), s5.GetLower() + s5.GetUpper(), s6.GetLower() + s6.GetUpper(), s7.GetLower() + s7.GetUpper()).Store(sums);
    }

    private void PanelAvx2(TValue* w, float* x, float* sums)
    {
        Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default, s4 = default, s5 = default, s6 = default, s7 = default;
        for (int b = 0; b < _blocks; b++, w += PanelRows * BlockColumns)
        {
            Vector256<float> lo = Vector256.Load(x + b * BlockColumns), hi = Vector256.Load(x + b * BlockColumns + 8);
            s0 = Vector256.FusedMultiplyAdd(Widen256(w + 8), hi, Vector256.FusedMultiplyAdd(Widen256(w), lo, s0));
            s1 = Vector256.FusedMultiplyAdd(Widen256(w + BlockColumns + 8), hi, Vector256.FusedMultiplyAdd(Widen256(w + BlockColumns), lo, s1));
            s2 = Vector256.FusedMultiplyAdd(Widen256(w + 2 * BlockColumns + 8), hi, Vector256.FusedMultiplyAdd(Widen256(w + 2 * BlockColumns), lo, s2));
            s3 = Vector256.FusedMultiplyAdd(Widen256(w + 3 * BlockColumns + 8), hi, Vector256.FusedMultiplyAdd(Widen256(w + 3 * BlockColumns), lo, s3));
            s4 = Vector256.FusedMultiplyAdd(Widen256(w + 4 * BlockColumns + 8), hi, Vector256.FusedMultiplyAdd(Widen256(w + 4 * BlockColumns), lo, s4));
            s5 = Vector256.FusedMultiplyAdd(Widen256(w + 5 * BlockColumns + 8), hi, Vector256.FusedMultiplyAdd(Widen256(w + 5 * BlockColumns), lo, s5));
            s6 = Vector256.FusedMultiplyAdd(Widen256(w + 6 * BlockColumns + 8), hi, Vector256.FusedMultiplyAdd(Widen256(w + 6 * BlockColumns), lo, s6));
            s7 = Vector256.FusedMultiplyAdd(Widen256(w + 7 * BlockColumns + 8), hi, Vector256.FusedMultiplyAdd(Widen256(w + 7 * BlockColumns), lo, s7));
        }
        Fold(s0, s1, s2, s3, s4, s5, s6, s7).Store(sums);
    }

    private void PanelScalar(TValue* w, float* x, float* sums)
    {
        for (int r = 0; r < PanelRows; r++) sums[r] = 0;
        for (int b = 0; b < _blocks; b++, w += PanelRows * BlockColumns)
            for (int r = 0; r < PanelRows; r++)
            {
                float sum = sums[r];
                for (int k = 0; k < BlockColumns; k++) sum += Scalar(w[r * BlockColumns + k]) * x[b * BlockColumns + k];
                sums[r] = sum;
            }
    }

    // Eight vectors to their eight sums, in order: pairwise horizontal adds within each 128-bit lane, then the lanes.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Fold(Vector256<float> v0, Vector256<float> v1, Vector256<float> v2, Vector256<float> v3,
        Vector256<float> v4, Vector256<float> v5, Vector256<float> v6, Vector256<float> v7)
    {
        Vector256<float> low = Avx.HorizontalAdd(Avx.HorizontalAdd(v0, v1), Avx.HorizontalAdd(v2, v3));
        Vector256<float> high = Avx.HorizontalAdd(Avx.HorizontalAdd(v4, v5), Avx.HorizontalAdd(v6, v7));
        return Avx.Permute2x128(low, high, 0x20) + Avx.Permute2x128(low, high, 0x31);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Widen512(TValue* p)
    {
        if (typeof(TValue) == typeof(float)) return Vector512.Load((float*)p);
        if (typeof(TValue) == typeof(sbyte)) return Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(Vector128.Load((sbyte*)p)));
        return HalfVectors.Widen16((ushort*)p);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Widen256(TValue* p)
    {
        if (typeof(TValue) == typeof(float)) return Vector256.Load((float*)p);
        if (typeof(TValue) == typeof(sbyte)) return Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32((sbyte*)p));
        return HalfVectors.Widen((ushort*)p);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Scalar(TValue v) =>
        typeof(TValue) == typeof(float) ? Unsafe.As<TValue, float>(ref v)
        : typeof(TValue) == typeof(sbyte) ? Unsafe.As<TValue, sbyte>(ref v)
        : (float)Unsafe.As<TValue, Half>(ref v);

    private readonly ref struct PanelsJob(PanelStepMatrix<TValue> matrix, Span<float> y) : IRangeBody
    {
        private readonly Span<float> _y = y;

        public void Invoke(int start, int end) => matrix.MultiplyPanels(_y, start, end);
    }
}
