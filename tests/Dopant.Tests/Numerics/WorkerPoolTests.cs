using Dopant.Numerics;

namespace Dopant.Tests.Numerics;

public class WorkerPoolTests
{
    private struct CountingBody(int[] hits) : IRangeBody
    {
        public readonly void Invoke(int start, int end)
        {
            for (int i = start; i < end; i++) Interlocked.Increment(ref hits[i]);
        }
    }

    private readonly ref struct SpanBody(Span<long> sums) : IRangeBody
    {
        private readonly Span<long> _sums = sums;

        public void Invoke(int start, int end)
        {
            for (int i = start; i < end; i++) _sums[i] = (long)i * i;
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(5)]
    public void EveryIndexRunsExactlyOnce(int threads)
    {
        using var pool = new WorkerPool(threads);
        Assert.Equal(threads, pool.ThreadCount);
        for (int count = 0; count <= 67; count++)
        {
            var hits = new int[count];
            pool.For(count, new CountingBody(hits));
            Assert.All(hits, h => Assert.Equal(1, h));

            var hits2 = new int[count];
            pool.For(count, (s, e) => { for (int i = s; i < e; i++) Interlocked.Increment(ref hits2[i]); });
            Assert.All(hits2, h => Assert.Equal(1, h));
        }
    }

    [Fact]
    public void RefStructBodiesCanWriteSpans()
    {
        using var pool = new WorkerPool(2);
        Span<long> sums = stackalloc long[100];
        pool.For(sums.Length, new SpanBody(sums));
        for (int i = 0; i < sums.Length; i++) Assert.Equal((long)i * i, sums[i]);
    }

    [Theory]
    [InlineData(2, 10)]
    [InlineData(3, 100)]
    [InlineData(4, 3)]
    public void RangesAreContiguousAndDeterministic(int threads, int count)
    {
        using var pool = new WorkerPool(threads);
        for (int repeat = 0; repeat < 20; repeat++)
        {
            var ranges = new System.Collections.Concurrent.ConcurrentBag<(int, int)>();
            pool.For(count, (s, e) => ranges.Add((s, e)));
            int parts = Math.Min(threads, count);
            var expected = Enumerable.Range(0, parts)
                .Select(i => (WorkerPool.RangeStart(count, parts, i), WorkerPool.RangeStart(count, parts, i + 1)))
                .Where(r => r.Item1 < r.Item2).OrderBy(r => r.Item1);
            Assert.Equal(expected, ranges.OrderBy(r => r.Item1));
        }
    }

    [Fact]
    public void MaxDegreeOfParallelismLimitsTheRanges()
    {
        using var pool = new WorkerPool(4);
        var ranges = new System.Collections.Concurrent.ConcurrentBag<(int, int)>();
        pool.For(10, new DelegateBody((s, e) => ranges.Add((s, e))), 2);
        Assert.Equal([(0, 5), (5, 10)], ranges.OrderBy(r => r.Item1));
    }

    private readonly struct DelegateBody(Action<int, int> body) : IRangeBody
    {
        public void Invoke(int start, int end) => body(start, end);
    }

    [Fact]
    public void ExceptionsInWorkersReachTheCaller()
    {
        using var pool = new WorkerPool(3);
        var hits = new int[30];
        var e = Assert.Throws<InvalidOperationException>(() => pool.For(30, (s, end) =>
        {
            for (int i = s; i < end; i++) Interlocked.Increment(ref hits[i]);
            if (s > 0) throw new InvalidOperationException("worker failed");
        }));
        Assert.Equal("worker failed", e.Message);
        Assert.All(hits, h => Assert.Equal(1, h)); // the other ranges still ran

        Assert.Throws<ArgumentException>(() => pool.For(30, (s, _) => { if (s == 0) throw new ArgumentException("caller failed"); }));

        // The pool still works afterwards.
        var after = new int[30];
        pool.For(30, new CountingBody(after));
        Assert.All(after, h => Assert.Equal(1, h));
    }

    [Fact]
    public async Task NestedLoopsRunSeriallyWithoutDeadlock()
    {
        using var pool = new WorkerPool(2);
        var hits = new int[8 * 50];
        var task = Task.Run(() => pool.For(8, (s, e) =>
        {
            Assert.True(WorkerPool.IsInsideLoop);
            for (int i = s; i < e; i++)
            {
                int row = i;
                pool.For(50, (s2, e2) => { for (int j = s2; j < e2; j++) Interlocked.Increment(ref hits[row * 50 + j]); });
                WorkerPool.Shared.For(1, (_, _) => { });
            }
        }));
        await task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.All(hits, h => Assert.Equal(1, h));
        Assert.False(WorkerPool.IsInsideLoop);
    }

    [Fact]
    public async Task ConcurrentCallersBothComplete()
    {
        using var pool = new WorkerPool(2);
        var a = new int[1000];
        var b = new int[1000];
        var t1 = Task.Run(() => { for (int r = 0; r < 200; r++) pool.For(a.Length, new CountingBody(a)); });
        var t2 = Task.Run(() => { for (int r = 0; r < 200; r++) pool.For(b.Length, new CountingBody(b)); });
        await Task.WhenAll(t1, t2).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.All(a, h => Assert.Equal(200, h));
        Assert.All(b, h => Assert.Equal(200, h));
    }

    [Fact]
    public void StructBodiesDoNotAllocate()
    {
        using var pool = new WorkerPool(2);
        var hits = new int[64];
        for (int r = 0; r < 100; r++) pool.For(hits.Length, new CountingBody(hits)); // warm up, tier up
        // A per-loop allocation shows in every attempt (1,000 loops, at least 24 KB); the runtime's own one-off
        // allocations while it re-compiles a method (24 bytes once, seen on CI without AVX2) show in one at most.
        var allocated = new long[3];
        for (int attempt = 0; attempt < allocated.Length; attempt++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int r = 0; r < 1000; r++) pool.For(hits.Length, new CountingBody(hits));
            allocated[attempt] = GC.GetAllocatedBytesForCurrentThread() - before;
        }
        Assert.True(allocated.Min() == 0 && allocated.Max() < 1000, $"allocated {string.Join(", ", allocated)} bytes in three attempts of 1,000 loops");
    }

    [Fact]
    public void ManyBackToBackLoopsAreCorrect()
    {
        using var pool = new WorkerPool(2);
        long total = 0;
        for (int r = 0; r < 20000; r++)
            pool.For(4, (s, e) => Interlocked.Add(ref total, e - s));
        Assert.Equal(80000, total);
    }

    // More threads than cores: a worker can run a loop (seen while spinning) and go back to sleep before the
    // caller's wake-up for that same loop reaches it; that late wake-up must not make it run the loop twice.
    // The old bug hung or double-counted within seconds; the generous limit only stops a hang, since on a loaded
    // machine the oversubscribed spinning takes several times longer than on an idle one (8 s idle, 53 s loaded).
    [Fact]
    public async Task OversubscribedPoolRunsEveryRangeExactlyOnce()
    {
        var task = Task.Run(() =>
        {
            for (int round = 0; round < 100; round++)
            {
                using var pool = new WorkerPool(Environment.ProcessorCount + 4);
                for (int count = 0; count <= 67; count++)
                {
                    var hits = new int[count];
                    pool.For(count, new CountingBody(hits));
                    for (int i = 0; i < count; i++)
                        Assert.True(hits[i] == 1, $"round {round}, count {count}: index {i} ran {hits[i]} times");
                }
            }
        });
        await task.WaitAsync(TimeSpan.FromMinutes(4));
    }

    // Workers that never get a core (here: never started) must not hold up a loop: the caller claims their ranges.
    [Theory]
    [InlineData(2)]
    [InlineData(5)]
    public async Task RangesNoWorkerClaimsRunOnTheCaller(int threads)
    {
        using var pool = new WorkerPool(threads, startWorkers: false);
        var task = Task.Run(() =>
        {
            int thread = Environment.CurrentManagedThreadId;
            for (int count = 0; count <= 23; count++)
            {
                var ranges = new List<(int, int)>();
                pool.For(count, (s, e) =>
                {
                    Assert.Equal(thread, Environment.CurrentManagedThreadId);
                    ranges.Add((s, e));
                });
                int parts = Math.Min(threads, count);
                var expected = Enumerable.Range(0, parts)
                    .Select(i => (WorkerPool.RangeStart(count, parts, i), WorkerPool.RangeStart(count, parts, i + 1)));
                Assert.Equal(expected, ranges);
            }
        });
        await task.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public void LoopsAfterDisposeRunOnTheCaller()
    {
        var pool = new WorkerPool(3);
        pool.Dispose();
        pool.Dispose();
        var hits = new int[10];
        int thread = Environment.CurrentManagedThreadId;
        pool.For(10, (s, e) =>
        {
            Assert.Equal(thread, Environment.CurrentManagedThreadId);
            for (int i = s; i < e; i++) hits[i]++;
        });
        Assert.All(hits, h => Assert.Equal(1, h));
    }

    [Fact]
    public void SharedPoolCanBeResized()
    {
        int original = WorkerPool.SharedThreadCount;
        Assert.True(original >= 1);
        try
        {
            WorkerPool.SharedThreadCount = 3;
            Assert.Equal(3, WorkerPool.Shared.ThreadCount);
            var hits = new int[100];
            WorkerPool.Shared.For(hits.Length, new CountingBody(hits));
            Assert.All(hits, h => Assert.Equal(1, h));
        }
        finally
        {
            WorkerPool.SharedThreadCount = original;
        }
        Assert.Equal(original, WorkerPool.Shared.ThreadCount);
        Assert.Throws<ArgumentOutOfRangeException>(() => WorkerPool.SharedThreadCount = 0);
        Assert.Throws<ArgumentOutOfRangeException>(() => new WorkerPool(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new WorkerPool(WorkerPool.MaxThreadCount + 1));
    }
}
