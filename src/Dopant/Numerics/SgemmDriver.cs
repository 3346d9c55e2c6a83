using System.Buffers;
using System.Numerics.Tensors;

namespace Dopant.Numerics;

/// <summary>The operands of one GEMM call, as raw pointers into pinned spans.</summary>
internal unsafe struct SgemmArgs
{
    public bool TransA, TransB;
    public int M, N, K;
    public float Alpha, Beta;
    public float* A, B, C;
    public nint Lda, Ldb, Ldc;

    /// <summary>A prepacked op(B) (<see cref="PackedMatrix"/>) or null; then B and Ldb are unused.</summary>
    public float* PackedB;

    /// <summary>The panels per k block of <see cref="PackedB"/> and its k block depth.</summary>
    public int PackedPanels, PackedKc;

    /// <summary>The column of the prepacked B where this (sliced) product's column 0 lies; a multiple of NR.</summary>
    public int PackedColumn0;

    /// <summary>The same product restricted to rows [i0, i1) and columns [j0, j1) of C.</summary>
    public readonly SgemmArgs Slice(int i0, int i1, int j0, int j1)
    {
        SgemmArgs s = this;
        s.M = i1 - i0;
        s.N = j1 - j0;
        s.A = TransA ? A + i0 : A + i0 * Lda;
        s.B = TransB ? B + j0 * Ldb : B + j0;
        s.PackedColumn0 = PackedColumn0 + j0;
        s.C = C + i0 * Ldc + j0;
        return s;
    }
}

/// <summary>
/// The cache-blocked GEMM loops of Goto and van de Geijn ("Anatomy of high-performance matrix multiplication",
/// ACM TOMS 34(3), 2008) in the BLIS order (Van Zee and van de Geijn, ACM TOMS 41(3), 2015): a kc×nc panel of B is
/// packed for the L3 cache, an mc×kc block of A for the L2 cache, and the micro-kernel sweeps MR×NR tiles with a
/// kc×NR micro-panel of B resident in L1. Threads split C by whole tiles, so every element of C is accumulated in the
/// same order whatever the thread count; only a product whose C is small and whose k is long (a weight gradient summed
/// over a batch of many thousand rows) is cut along k, into parts that depend on its shape alone.
/// </summary>
internal static unsafe class SgemmDriver
{
    /// <summary>The depth of a packed block (the k extent summed by one micro-kernel call).</summary>
    internal static int KcBlock = 768;

    /// <summary>The rows of A packed per block (rounded down to a multiple of MR).</summary>
    internal static int McBlock = 288;

    /// <summary>The columns of B packed per panel (rounded down to a multiple of NR).</summary>
    internal static int NcBlock = 4096;

    /// <summary>
    /// Up to this many MR-row tiles of C, a unit-stride B is read in place instead of packed: packing would cost more
    /// than the few strided re-reads (measured: 20×2600×650 runs at 105 GFLOP/s in place against 72 packed, but at
    /// three tiles and more the strided panel's TLB and cache misses make packing win).
    /// </summary>
    internal static int InPlaceMaxTiles = 2;

    /// <summary>Below this many flops (2·m·n·k) a call runs on one thread.</summary>
    internal static long ParallelFlops = 1L << 21;

    /// <summary>
    /// The k extent of a packed block: at most <see cref="KcBlock"/>, with the blocks of k as even as possible (so
    /// k = 1300 gives two blocks of 650, not 1024 + 276). Depends on k alone, never on the thread split.
    /// </summary>
    public static int BlockDepth(int k)
    {
        if (k <= KcBlock) return Math.Max(k, 1);
        int blocks = (k + KcBlock - 1) / KcBlock;
        return (k + blocks - 1) / blocks;
    }

    /// <summary>The most elements of C a product summed in parts of k may have (<see cref="SplitKParts"/>).</summary>
    internal static long SplitKMaxOutput = 1 << 16;

    /// <summary>The least k a product summed in parts of k may have (<see cref="SplitKParts"/>).</summary>
    internal static int SplitKMinDepth = 4096;

    /// <summary>
    /// The parts of k a product is summed in: 1, or for a small C and a long k (C's few tiles would keep all but one
    /// thread idle) up to 8 parts of at least 2,048 terms. A function of the shape alone, never of the threads.
    /// </summary>
    public static int SplitKParts(int m, int n, int k) =>
        (long)m * n <= SplitKMaxOutput && k >= SplitKMinDepth ? Math.Min(8, k / (SplitKMinDepth / 2)) : 1;

    /// <summary>Computes the product, split across <paramref name="pool"/> when it is large enough.</summary>
    public static void Run<TKernel>(in SgemmArgs args, WorkerPool? pool) where TKernel : struct, ISgemmMicroKernel
    {
        int parts = args.PackedB == null ? SplitKParts(args.M, args.N, args.K) : 1;
        if (parts > 1)
        {
            RunSplitK<TKernel>(args, parts, pool);
            return;
        }
        int threads = pool?.ThreadCount ?? 1;
        if (threads > 1 && 2L * args.M * args.N * args.K >= ParallelFlops && !WorkerPool.IsInsideLoop)
        {
            int colPanels = (args.N + TKernel.NR - 1) / TKernel.NR;
            int rowTiles = (args.M + TKernel.MR - 1) / TKernel.MR;
            if (colPanels >= 2 && (colPanels >= 4 * threads || colPanels >= rowTiles))
            {
                pool!.For(colPanels, new ColumnSplit<TKernel>(args));
                return;
            }
            if (rowTiles >= 2)
            {
                pool!.For(rowTiles, new RowSplit<TKernel>(args));
                return;
            }
        }
        Serial<TKernel>(args);
    }

    /// <summary>
    /// Packs all of op(B) (k×n) into <paramref name="dst"/> in the layout <see cref="Serial{TKernel}"/> reads through
    /// <see cref="SgemmArgs.PackedB"/>: k blocks of depth <paramref name="kc"/>, each a run of ⌈n/NR⌉ micro-panels.
    /// </summary>
    public static void PackWholeB<TKernel>(bool transB, float* b, nint ldb, int k, int n, int kc, float* dst, WorkerPool? pool)
        where TKernel : struct, ISgemmMicroKernel
    {
        int nr = TKernel.NR, panels = (n + nr - 1) / nr;
        var job = new WholeBPacker(transB, b, ldb, k, n, kc, nr, dst);
        if (pool is not null && (long)k * n >= 1 << 16 && !WorkerPool.IsInsideLoop) pool.For(panels, job);
        else job.Invoke(0, panels);
    }

    private readonly struct WholeBPacker(bool transB, float* b, nint ldb, int k, int n, int kc, int nr, float* dst) : IRangeBody
    {
        public void Invoke(int start, int end)
        {
            int panels = (n + nr - 1) / nr;
            for (int pc = 0; pc < k; pc += kc)
            {
                int depth = Math.Min(kc, k - pc);
                float* block = dst + (nint)pc * panels * nr;
                for (int t = start; t < end; t++)
                    SgemmPacking.PackBPanel(transB, b, ldb, pc, t * nr, depth, Math.Min(nr, n - t * nr), nr, block + (nint)t * nr * depth);
            }
        }
    }

    /// <summary>Where the micro-kernel reads its kc×NR panels of op(B) from.</summary>
    private enum BSource
    {
        /// <summary>A <see cref="PackedMatrix"/> packed before the call.</summary>
        Prepacked,

        /// <summary>B itself, when it is unit-stride along n and few rows of C reuse it; ragged edge panels are packed.</summary>
        InPlace,

        /// <summary>One panel at a time, just before use, when a single block of A covers all rows of C (each panel is
        /// used once, so it goes straight from B to L1/L2 instead of through a large packed block).</summary>
        PackedPerPanel,

        /// <summary>A whole kc×nc block packed up front and reused by every block of A.</summary>
        PackedBlock,
    }

    /// <summary>Computes the whole product on the calling thread.</summary>
    public static void Serial<TKernel>(in SgemmArgs args) where TKernel : struct, ISgemmMicroKernel
    {
        int mr = TKernel.MR, nr = TKernel.NR;
        int m = args.M, n = args.N, k = args.K;
        int kcMax = args.PackedB != null ? args.PackedKc : BlockDepth(k);
        int mcMax = Math.Min(Math.Max(mr, McBlock / mr * mr), m);
        int ncMax = Math.Min(Math.Max(nr, NcBlock / nr * nr), n);
        BSource source = args.PackedB != null ? BSource.Prepacked
            : !args.TransB && m <= InPlaceMaxTiles * mr ? BSource.InPlace
            : m <= mcMax ? BSource.PackedPerPanel
            : BSource.PackedBlock;

        float* packedA = AlignedBuffer.PackedA.Get((nuint)mcMax * (nuint)kcMax);
        float* packedB = source switch
        {
            BSource.Prepacked => null,
            BSource.PackedBlock => AlignedBuffer.PackedB.Get((nuint)kcMax * (nuint)((ncMax + nr - 1) / nr * nr)),
            _ => AlignedBuffer.PackedB.Get((nuint)kcMax * (nuint)nr),
        };

        for (int jc = 0; jc < n; jc += ncMax)
        {
            int nc = Math.Min(ncMax, n - jc);
            int ncFull = nc / nr * nr;
            for (int pc = 0; pc < k; pc += kcMax)
            {
                int kc = Math.Min(kcMax, k - pc);
                float beta = pc == 0 ? args.Beta : 1f;
                if (source == BSource.PackedBlock)
                    SgemmPacking.PackB(args.TransB, args.B, args.Ldb, pc, jc, kc, nc, nr, packedB);
                else if (source == BSource.InPlace && ncFull < nc)
                    SgemmPacking.PackBPanel(false, args.B, args.Ldb, pc, jc + ncFull, kc, nc - ncFull, nr, packedB);

                for (int ic = 0; ic < m; ic += mcMax)
                {
                    int mc = Math.Min(mcMax, m - ic);
                    SgemmPacking.PackA(args.TransA, args.A, args.Lda, ic, pc, mc, kc, mr, packedA);
                    float* cBlock = args.C + ic * args.Ldc + jc;

                    for (int jr = 0; jr < nc; jr += nr)
                    {
                        int cols = Math.Min(nr, nc - jr);
                        float* bPanel = packedB;
                        nint ldb = nr;
                        switch (source)
                        {
                            case BSource.Prepacked:
                                bPanel = args.PackedB + (nint)pc * args.PackedPanels * nr + (nint)((args.PackedColumn0 + jc + jr) / nr) * nr * kc;
                                break;
                            case BSource.InPlace when jr < ncFull:
                                bPanel = args.B + pc * args.Ldb + jc + jr;
                                ldb = args.Ldb;
                                break;
                            case BSource.PackedPerPanel:
                                SgemmPacking.PackBPanel(args.TransB, args.B, args.Ldb, pc, jc + jr, kc, cols, nr, packedB);
                                break;
                            case BSource.PackedBlock:
                                bPanel = packedB + (nint)jr * kc;
                                break;
                        }

                        for (int ir = 0; ir < mc; ir += mr)
                            TKernel.Tile(Math.Min(mr, mc - ir), cols, kc, packedA + (nint)ir * kc, bPanel, ldb,
                                cBlock + ir * args.Ldc + jr, args.Ldc, args.Alpha, beta);
                    }
                }
            }
        }
    }

    // Each part of k sums into its own block of C's shape (alpha applied); then C = beta·C + the blocks in part order.
    private static void RunSplitK<TKernel>(in SgemmArgs args, int parts, WorkerPool? pool) where TKernel : struct, ISgemmMicroKernel
    {
        int size = args.M * args.N;
        float[] partial = ArrayPool<float>.Shared.Rent(parts * size);
        try
        {
            fixed (float* blocks = partial)
            {
                var job = new KSplit<TKernel>(args, parts, blocks);
                if (pool is not null && !WorkerPool.IsInsideLoop) pool.For(parts, job);
                else job.Invoke(0, parts);
                for (int i = 0; i < args.M; i++)
                {
                    var row = new Span<float>(args.C + i * args.Ldc, args.N);
                    var first = new ReadOnlySpan<float>(blocks + (nint)i * args.N, args.N);
                    if (args.Beta == 0) first.CopyTo(row);
                    else
                    {
                        TensorPrimitives.Multiply(row, args.Beta, row);
                        TensorPrimitives.Add(row, first, row);
                    }
                    for (int p = 1; p < parts; p++)
                        TensorPrimitives.Add(row, new ReadOnlySpan<float>(blocks + (nint)p * size + (nint)i * args.N, args.N), row);
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(partial);
        }
    }

    private readonly struct KSplit<TKernel>(SgemmArgs args, int parts, float* blocks) : IRangeBody where TKernel : struct, ISgemmMicroKernel
    {
        public void Invoke(int start, int end)
        {
            for (int p = start; p < end; p++)
            {
                int k0 = (int)((long)args.K * p / parts), k1 = (int)((long)args.K * (p + 1) / parts);
                SgemmArgs part = args;
                part.K = k1 - k0;
                part.A = args.TransA ? args.A + k0 * args.Lda : args.A + k0;
                part.B = args.TransB ? args.B + k0 : args.B + k0 * args.Ldb;
                part.C = blocks + (nint)p * args.M * args.N;
                part.Ldc = args.N;
                part.Beta = 0;
                Serial<TKernel>(part);
            }
        }
    }

    private readonly struct ColumnSplit<TKernel>(SgemmArgs args) : IRangeBody where TKernel : struct, ISgemmMicroKernel
    {
        public void Invoke(int start, int end)
            => Serial<TKernel>(args.Slice(0, args.M, start * TKernel.NR, Math.Min(end * TKernel.NR, args.N)));
    }

    private readonly struct RowSplit<TKernel>(SgemmArgs args) : IRangeBody where TKernel : struct, ISgemmMicroKernel
    {
        public void Invoke(int start, int end)
            => Serial<TKernel>(args.Slice(start * TKernel.MR, Math.Min(end * TKernel.MR, args.M), 0, args.N));
    }
}
