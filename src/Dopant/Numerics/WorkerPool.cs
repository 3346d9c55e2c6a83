using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;

namespace Dopant.Numerics;

/// <summary>
/// A persistent pool of worker threads that runs parallel-for loops on the calling thread plus
/// <see cref="ThreadCount"/> − 1 workers. Threads are created once; between loops they spin briefly and then
/// block, so that a loop issued shortly after another starts in about a microsecond.
/// </summary>
/// <remarks>
/// <para>
/// <c>For(count, ...)</c> splits [0, count) into min(<see cref="ThreadCount"/>, count) contiguous ranges; range
/// <c>i</c> of <c>p</c> is [count·i/p, count·(i+1)/p). The split depends only on the count and the number of
/// ranges, so a body whose result depends on its ranges is deterministic for a given thread count. Each range runs on
/// whichever thread claims it first: the caller runs range 0 and then every range no worker has claimed yet, so a
/// worker that the operating system has not scheduled (more busy threads than cores) does not hold up the loop.
/// </para>
/// <para>
/// A loop started from inside a body (of any pool), from a second thread while this pool is busy, or after
/// <see cref="Dispose"/> runs on the calling thread alone, range by range with the same split; it never deadlocks.
/// If a range throws, the other ranges still run to completion and the first exception is rethrown to the caller.
/// </para>
/// </remarks>
public sealed unsafe class WorkerPool : IDisposable
{
    /// <summary>The environment variable that sets the size of <see cref="Shared"/> (a positive integer).</summary>
    public const string ThreadCountVariable = "DOPANT_THREADS";

    /// <summary>The largest number of threads a pool can have.</summary>
    public const int MaxThreadCount = RangeMask;

    private const int RangeMask = 0xFFFF;

    // How long a worker keeps polling for the next loop before it blocks, and how long the caller polls for the
    // workers to finish before it blocks. Long enough to cover the gap between GEMMs of one LSTM time step.
    private static readonly long WorkerSpinTicks = Stopwatch.Frequency / 10_000; // 100 µs
    private static readonly long CallerSpinTicks = Stopwatch.Frequency / 1_000;  // 1 ms

    private static readonly Lock s_sharedLock = new();
    private static WorkerPool? s_shared;

    [ThreadStatic] private static int t_bodyDepth;

    private readonly Worker[] _workers;
    private readonly ManualResetEventSlim _done = new(false, 0);
    private int _busy;
    private volatile bool _disposed;

    // Bumped by the caller to wake the workers for a new loop (or for Dispose).
    private volatile int _generation;
    // The current loop's claims: generation << 32 | parts << 16 | next unclaimed range. A thread claims a range by
    // compare-and-swap, so a claim succeeds only for the loop it names, and that loop cannot end (nor its fields below
    // be rewritten) before the claimed range has run.
    private long _claim;
    private void* _body;
    private delegate*<void*, int, int, void> _invoke;
    private int _count;
    private int _unfinished;
    private ExceptionDispatchInfo? _error;

    /// <summary>Creates a pool that runs loops on the calling thread plus <paramref name="threadCount"/> − 1 workers.</summary>
    /// <param name="threadCount">The total number of threads a loop runs on, 1 to <see cref="MaxThreadCount"/>.</param>
    public WorkerPool(int threadCount) : this(threadCount, startWorkers: true)
    {
    }

    // Without started workers every loop runs on the caller, range by range, through the same claims (for tests).
    internal WorkerPool(int threadCount, bool startWorkers)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threadCount, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(threadCount, MaxThreadCount);
        ThreadCount = threadCount;
        _workers = new Worker[threadCount - 1];
        for (int i = 0; i < _workers.Length; i++)
        {
            var worker = new Worker(this, i + 1);
            _workers[i] = worker;
            if (startWorkers) worker.Thread.Start();
        }
    }

    /// <summary>The number of threads a loop runs on, the calling thread included.</summary>
    public int ThreadCount { get; }

    /// <summary>
    /// The process-wide pool used by the kernels of <see cref="Blas"/>. Its size is <see cref="SharedThreadCount"/>.
    /// </summary>
    public static WorkerPool Shared
    {
        get
        {
            WorkerPool? pool = Volatile.Read(ref s_shared);
            if (pool is not null) return pool;
            lock (s_sharedLock)
                return s_shared ??= new WorkerPool(DefaultThreadCount());
        }
    }

    /// <summary>
    /// The size of <see cref="Shared"/>: by default the value of the environment variable <c>DOPANT_THREADS</c> if it
    /// is a positive integer, otherwise <see cref="Environment.ProcessorCount"/>. Setting it replaces the shared pool;
    /// loops already running on the old pool finish normally.
    /// </summary>
    public static int SharedThreadCount
    {
        get => Shared.ThreadCount;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            WorkerPool? old;
            lock (s_sharedLock)
            {
                old = s_shared;
                if (old is not null && old.ThreadCount == value) return;
                Volatile.Write(ref s_shared, new WorkerPool(value));
            }
            old?.Dispose();
        }
    }

    /// <summary>True on a thread that is running the body of a loop of any pool (where loops run serially).</summary>
    public static bool IsInsideLoop => t_bodyDepth > 0;

    /// <summary>Runs <paramref name="body"/> over [0, <paramref name="count"/>) split into contiguous ranges.</summary>
    /// <param name="count">The number of indices; nothing runs when it is 0.</param>
    /// <param name="body">Called once per non-empty range with its start and end (exclusive).</param>
    public void For(int count, Action<int, int> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        For(count, new DelegateBody(body), int.MaxValue);
    }

    /// <summary>
    /// Runs <paramref name="body"/> over [0, <paramref name="count"/>) split into contiguous ranges, without allocating.
    /// </summary>
    /// <typeparam name="TBody">A struct (or ref struct) whose <see cref="IRangeBody.Invoke"/> processes one range.</typeparam>
    /// <param name="count">The number of indices; nothing runs when it is 0.</param>
    /// <param name="body">The loop body; every range runs on the same instance (workers see it by reference).</param>
    public void For<TBody>(int count, TBody body) where TBody : struct, IRangeBody, allows ref struct
        => For(count, body, int.MaxValue);

    /// <summary>
    /// Runs <paramref name="body"/> over [0, <paramref name="count"/>) split into at most
    /// <paramref name="maxDegreeOfParallelism"/> contiguous ranges, without allocating.
    /// </summary>
    /// <typeparam name="TBody">A struct (or ref struct) whose <see cref="IRangeBody.Invoke"/> processes one range.</typeparam>
    /// <param name="count">The number of indices; nothing runs when it is 0.</param>
    /// <param name="body">The loop body; every range runs on the same instance (workers see it by reference).</param>
    /// <param name="maxDegreeOfParallelism">An upper bound on the number of ranges (and threads), at least 1.</param>
    public void For<TBody>(int count, TBody body, int maxDegreeOfParallelism) where TBody : struct, IRangeBody, allows ref struct
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxDegreeOfParallelism, 1);
        int parts = Math.Min(Math.Min(ThreadCount, maxDegreeOfParallelism), count);
        if (parts <= 1)
        {
            if (count > 0) InvokeRange(ref body, 0, count);
            return;
        }
        if (t_bodyDepth > 0 || _disposed || Interlocked.CompareExchange(ref _busy, 1, 0) != 0)
        {
            for (int i = 0; i < parts; i++)
                InvokeRange(ref body, RangeStart(count, parts, i), RangeStart(count, parts, i + 1));
            return;
        }
        try
        {
            if (_disposed)
            {
                for (int i = 0; i < parts; i++)
                    InvokeRange(ref body, RangeStart(count, parts, i), RangeStart(count, parts, i + 1));
                return;
            }
            Run(count, parts, ref body);
        }
        finally
        {
            Volatile.Write(ref _busy, 0);
        }
    }

    /// <summary>Stops the worker threads. Loops issued afterwards run on the calling thread.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        // Wait for a loop in flight, then keep the pool busy forever so that no new loop is published.
        var spin = new SpinWait();
        while (Interlocked.CompareExchange(ref _busy, 1, 0) != 0) spin.SpinOnce();
        Interlocked.Increment(ref _generation);
        foreach (Worker worker in _workers) worker.Wake();
    }

    /// <summary>The start of range <paramref name="index"/> when [0, count) is split into <paramref name="parts"/> ranges.</summary>
    internal static int RangeStart(int count, int parts, int index) => (int)((long)count * index / parts);

    private static int DefaultThreadCount()
    {
        string? value = Environment.GetEnvironmentVariable(ThreadCountVariable);
        int count = int.TryParse(value, out int n) && n >= 1 ? n : Environment.ProcessorCount;
        return Math.Min(count, MaxThreadCount);
    }

    private static void InvokeRange<TBody>(ref TBody body, int start, int end) where TBody : struct, IRangeBody, allows ref struct
    {
        if (start >= end) return;
        t_bodyDepth++;
        try { body.Invoke(start, end); }
        finally { t_bodyDepth--; }
    }

    private void Run<TBody>(int count, int parts, ref TBody body) where TBody : struct, IRangeBody, allows ref struct
    {
        _body = Unsafe.AsPointer(ref body);
        _invoke = &Invoker<TBody>.Invoke;
        _count = count;
        _error = null;
        _unfinished = parts - 1;
        int generation = unchecked(_generation + 1);
        Volatile.Write(ref _claim, (long)generation << 32 | (long)parts << 16 | 1);
        Interlocked.Exchange(ref _generation, generation);
        foreach (Worker worker in _workers) worker.Wake();

        try
        {
            InvokeRange(ref body, 0, RangeStart(count, parts, 1));
        }
        catch (Exception e)
        {
            Interlocked.CompareExchange(ref _error, ExceptionDispatchInfo.Capture(e), null);
        }
        RunClaimedRanges(generation, isCaller: true);

        if (Volatile.Read(ref _unfinished) != 0)
        {
            long deadline = Stopwatch.GetTimestamp() + CallerSpinTicks;
            int spins = 0;
            while (Volatile.Read(ref _unfinished) != 0)
            {
                Thread.SpinWait(8);
                if ((++spins & 63) != 0 || Stopwatch.GetTimestamp() <= deadline) continue;
                // _unfinished is the truth and the event only a wake-up hint: the last worker of the previous loop may
                // set it late, so reset, re-check, then block, and loop if the wake-up was stale.
                while (Volatile.Read(ref _unfinished) != 0)
                {
                    _done.Reset();
                    if (Volatile.Read(ref _unfinished) == 0) break;
                    _done.Wait();
                }
            }
        }
        _body = null;
        ExceptionDispatchInfo? error = _error;
        _error = null;
        error?.Throw();
    }

    // Claims and runs ranges of the loop of this generation until none is left unclaimed.
    private void RunClaimedRanges(int generation, bool isCaller)
    {
        while (TryClaim(generation, out int index, out int parts))
        {
            try
            {
                int start = RangeStart(_count, parts, index), end = RangeStart(_count, parts, index + 1);
                if (start < end)
                {
                    t_bodyDepth++;
                    try { _invoke(_body, start, end); }
                    finally { t_bodyDepth--; }
                }
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref _error, ExceptionDispatchInfo.Capture(e), null);
            }
            finally
            {
                if (Interlocked.Decrement(ref _unfinished) == 0 && !isCaller) _done.Set();
            }
        }
    }

    private bool TryClaim(int generation, out int index, out int parts)
    {
        long claim = Volatile.Read(ref _claim);
        while (true)
        {
            index = (int)(claim & RangeMask);
            parts = (int)(claim >> 16 & RangeMask);
            if ((int)(claim >> 32) != generation || index >= parts) return false;
            long seen = Interlocked.CompareExchange(ref _claim, claim + 1, claim);
            if (seen == claim) return true;
            claim = seen;
        }
    }

    private static class Invoker<TBody> where TBody : struct, IRangeBody, allows ref struct
    {
        public static void Invoke(void* body, int start, int end) => Unsafe.AsRef<TBody>(body).Invoke(start, end);
    }

    private readonly struct DelegateBody(Action<int, int> body) : IRangeBody
    {
        public void Invoke(int start, int end) => body(start, end);
    }

    private sealed class Worker
    {
        private readonly WorkerPool _pool;
        private readonly SemaphoreSlim _wake = new(0);
        private int _sleeping;

        public Worker(WorkerPool pool, int index)
        {
            _pool = pool;
            Thread = new Thread(Loop) { IsBackground = true, Name = $"Dopant worker {index}" };
        }

        public Thread Thread { get; }

        // The sleeping flag and the generation form a Dekker pair (both sides write with a full fence, then read the
        // other), so either the worker sees the new loop or the caller sees the sleeping worker and releases it.
        public void Wake()
        {
            if (Volatile.Read(ref _sleeping) != 0 && Interlocked.Exchange(ref _sleeping, 0) != 0)
                _wake.Release();
        }

        private void Loop()
        {
            int seen = 0;
            while (true)
            {
                seen = WaitForLoop(seen);
                if (_pool._disposed) return;
                _pool.RunClaimedRanges(seen, isCaller: false);
            }
        }

        // A wake-up is only a hint: the caller may release a worker late, after the worker has already run that loop
        // (seen while spinning) and gone back to sleep, so the generation is checked again after every wake-up.
        private int WaitForLoop(int seen)
        {
            while (true)
            {
                long deadline = Stopwatch.GetTimestamp() + WorkerSpinTicks;
                int spins = 0;
                while (true)
                {
                    int generation = _pool._generation;
                    if (generation != seen) return generation;
                    Thread.SpinWait(8);
                    if ((++spins & 63) == 0 && Stopwatch.GetTimestamp() > deadline) break;
                }
                Interlocked.Exchange(ref _sleeping, 1);
                if (_pool._generation == seen)
                {
                    _wake.Wait();
                }
                else if (Interlocked.Exchange(ref _sleeping, 0) == 0)
                {
                    // The caller claimed the flag first; consume its release so the semaphore stays balanced.
                    _wake.Wait();
                }
            }
        }
    }
}
