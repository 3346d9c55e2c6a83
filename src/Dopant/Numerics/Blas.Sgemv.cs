using System.Runtime.Intrinsics;

namespace Dopant.Numerics;

public static partial class Blas
{
    /// <summary>
    /// y = alpha · op(A) · x + beta · y for a row-major m×n matrix A: op(A) = A (x has n elements, y has m) or, when
    /// <paramref name="trans"/>, op(A) = Aᵀ (x has m elements, y has n). With beta = 0, y is not read.
    /// </summary>
    /// <remarks>
    /// Bandwidth-bound, so A is streamed once: without transpose four rows are dotted with x at a time; with
    /// transpose four rows are folded into y per pass (an axpy over rows). Large matrices are split across two
    /// threads of <see cref="WorkerPool.Shared"/> by rows of y, which keeps results bit-identical to one thread.
    /// </remarks>
    /// <param name="trans">Whether op(A) = Aᵀ.</param>
    /// <param name="m">Rows of A.</param>
    /// <param name="n">Columns of A.</param>
    /// <param name="alpha">The scale of the product.</param>
    /// <param name="a">A, row-major with leading dimension <paramref name="lda"/>.</param>
    /// <param name="lda">The distance between rows of A, at least n.</param>
    /// <param name="x">The input vector: n elements, or m when <paramref name="trans"/>.</param>
    /// <param name="beta">The scale of the previous y; 0 means y is write-only.</param>
    /// <param name="y">The output vector: m elements, or n when <paramref name="trans"/>.</param>
    public static void Sgemv(bool trans, int m, int n, float alpha, ReadOnlySpan<float> a, int lda,
        ReadOnlySpan<float> x, float beta, Span<float> y)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ValidateMatrix(m, n, a.Length, lda, nameof(a), nameof(lda));
        int xLength = trans ? m : n, yLength = trans ? n : m;
        if (x.Length < xLength) throw new ArgumentException($"x needs {xLength} elements; it has {x.Length}.", nameof(x));
        if (y.Length < yLength) throw new ArgumentException($"y needs {yLength} elements; it has {y.Length}.", nameof(y));
        SgemvCore(ActiveKernel, WorkerPool.Shared, trans, m, n, alpha, a, lda, x, beta, y);
    }

    /// <summary><see cref="Sgemv"/> after validation, with the kernel family and pool (null: one thread) chosen by the caller.</summary>
    internal static unsafe void SgemvCore(SgemmKernelKind kernel, WorkerPool? pool, bool trans, int m, int n, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> x, float beta, Span<float> y)
    {
        int yLength = trans ? n : m;
        if (yLength == 0) return;
        if (!IsSupported(kernel)) throw new PlatformNotSupportedException($"The {kernel} kernel needs instructions this machine lacks.");
        if (alpha == 0 || (trans ? m : n) == 0)
        {
            ScaleMatrix(1, yLength, beta, y, yLength);
            return;
        }
        fixed (float* pa = a, px = x, py = y)
        {
            var job = new SgemvJob(kernel, trans, m, n, alpha, pa, lda, px, beta, py);
            int threads = pool is null || WorkerPool.IsInsideLoop ? 1 : Math.Min(pool.ThreadCount, 2);
            // Splitting pays once A is past the L2 cache and each thread still gets a long run of y.
            if (threads > 1 && (long)m * n >= SgemvParallelElements && yLength >= 256)
                pool!.For(job.Chunks, job, threads);
            else
                job.Invoke(0, job.Chunks);
        }
    }

    /// <summary>At or above this many elements of A, <see cref="Sgemv"/> splits the work in two.</summary>
    internal static long SgemvParallelElements = 1L << 18;

    /// <summary>One GEMV call, split into chunks of y: rows of A without transpose, 64-column blocks with it.</summary>
    private readonly unsafe struct SgemvJob(SgemmKernelKind kernel, bool trans, int m, int n, float alpha,
        float* a, nint lda, float* x, float beta, float* y) : IRangeBody
    {
        private const int ColumnChunk = 64;

        public int Chunks => trans ? (n + ColumnChunk - 1) / ColumnChunk : m;

        public void Invoke(int start, int end)
        {
            if (trans)
            {
                int j0 = start * ColumnChunk, j1 = Math.Min(end * ColumnChunk, n);
                switch (kernel)
                {
                    case SgemmKernelKind.Avx512Fma: ColumnsAxpy16(j0, j1, m, alpha, a, lda, x, beta, y); break;
                    case SgemmKernelKind.Avx2Fma: ColumnsAxpy8(j0, j1, m, alpha, a, lda, x, beta, y); break;
                    default: ColumnsAxpyScalar(j0, j1, m, alpha, a, lda, x, beta, y); break;
                }
            }
            else
            {
                switch (kernel)
                {
                    case SgemmKernelKind.Avx512Fma: RowsDot16(start, end, n, alpha, a, lda, x, beta, y); break;
                    case SgemmKernelKind.Avx2Fma: RowsDot8(start, end, n, alpha, a, lda, x, beta, y); break;
                    default: RowsDotScalar(start, end, n, alpha, a, lda, x, beta, y); break;
                }
            }
        }
    }

    private static unsafe void RowsDot16(int i0, int i1, int n, float alpha, float* a, nint lda, float* x, float beta, float* y)
    {
        int i = i0;
        for (; i + 4 <= i1; i += 4)
        {
            float* r0 = a + i * lda, r1 = r0 + lda, r2 = r1 + lda, r3 = r2 + lda;
            Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default;
            Vector512<float> t0 = default, t1 = default, t2 = default, t3 = default;
            int j = 0;
            for (; j + 32 <= n; j += 32)
            {
                Vector512<float> x0 = Vector512.Load(x + j), x1 = Vector512.Load(x + j + 16);
                s0 = Vector512.FusedMultiplyAdd(Vector512.Load(r0 + j), x0, s0); t0 = Vector512.FusedMultiplyAdd(Vector512.Load(r0 + j + 16), x1, t0);
                s1 = Vector512.FusedMultiplyAdd(Vector512.Load(r1 + j), x0, s1); t1 = Vector512.FusedMultiplyAdd(Vector512.Load(r1 + j + 16), x1, t1);
                s2 = Vector512.FusedMultiplyAdd(Vector512.Load(r2 + j), x0, s2); t2 = Vector512.FusedMultiplyAdd(Vector512.Load(r2 + j + 16), x1, t2);
                s3 = Vector512.FusedMultiplyAdd(Vector512.Load(r3 + j), x0, s3); t3 = Vector512.FusedMultiplyAdd(Vector512.Load(r3 + j + 16), x1, t3);
            }
            if (j + 16 <= n)
            {
                Vector512<float> x0 = Vector512.Load(x + j);
                s0 = Vector512.FusedMultiplyAdd(Vector512.Load(r0 + j), x0, s0);
                s1 = Vector512.FusedMultiplyAdd(Vector512.Load(r1 + j), x0, s1);
                s2 = Vector512.FusedMultiplyAdd(Vector512.Load(r2 + j), x0, s2);
                s3 = Vector512.FusedMultiplyAdd(Vector512.Load(r3 + j), x0, s3);
                j += 16;
            }
            float d0 = Vector512.Sum(s0 + t0), d1 = Vector512.Sum(s1 + t1), d2 = Vector512.Sum(s2 + t2), d3 = Vector512.Sum(s3 + t3);
            for (; j < n; j++)
            {
                d0 = MathF.FusedMultiplyAdd(r0[j], x[j], d0);
                d1 = MathF.FusedMultiplyAdd(r1[j], x[j], d1);
                d2 = MathF.FusedMultiplyAdd(r2[j], x[j], d2);
                d3 = MathF.FusedMultiplyAdd(r3[j], x[j], d3);
            }
            Store(y + i, d0, alpha, beta);
            Store(y + i + 1, d1, alpha, beta);
            Store(y + i + 2, d2, alpha, beta);
            Store(y + i + 3, d3, alpha, beta);
        }
        for (; i < i1; i++)
        {
            float* r0 = a + i * lda;
            Vector512<float> s0 = default, t0 = default;
            int j = 0;
            for (; j + 32 <= n; j += 32)
            {
                s0 = Vector512.FusedMultiplyAdd(Vector512.Load(r0 + j), Vector512.Load(x + j), s0);
                t0 = Vector512.FusedMultiplyAdd(Vector512.Load(r0 + j + 16), Vector512.Load(x + j + 16), t0);
            }
            if (j + 16 <= n)
            {
                s0 = Vector512.FusedMultiplyAdd(Vector512.Load(r0 + j), Vector512.Load(x + j), s0);
                j += 16;
            }
            float d0 = Vector512.Sum(s0 + t0);
            for (; j < n; j++) d0 = MathF.FusedMultiplyAdd(r0[j], x[j], d0);
            Store(y + i, d0, alpha, beta);
        }
    }

    private static unsafe void ColumnsAxpy16(int j0, int j1, int m, float alpha, float* a, nint lda, float* x, float beta, float* y)
    {
        ScaleY(j0, j1, beta, y);
        int i = 0;
        for (; i + 4 <= m; i += 4)
        {
            float* r0 = a + i * lda, r1 = r0 + lda, r2 = r1 + lda, r3 = r2 + lda;
            float a0 = alpha * x[i], a1 = alpha * x[i + 1], a2 = alpha * x[i + 2], a3 = alpha * x[i + 3];
            Vector512<float> v0 = Vector512.Create(a0), v1 = Vector512.Create(a1), v2 = Vector512.Create(a2), v3 = Vector512.Create(a3);
            int j = j0;
            for (; j + 16 <= j1; j += 16)
            {
                Vector512<float> t = Vector512.Load(y + j);
                t = Vector512.FusedMultiplyAdd(Vector512.Load(r0 + j), v0, t);
                t = Vector512.FusedMultiplyAdd(Vector512.Load(r1 + j), v1, t);
                t = Vector512.FusedMultiplyAdd(Vector512.Load(r2 + j), v2, t);
                t = Vector512.FusedMultiplyAdd(Vector512.Load(r3 + j), v3, t);
                t.Store(y + j);
            }
            for (; j < j1; j++)
            {
                float t = y[j];
                t = MathF.FusedMultiplyAdd(r0[j], a0, t);
                t = MathF.FusedMultiplyAdd(r1[j], a1, t);
                t = MathF.FusedMultiplyAdd(r2[j], a2, t);
                t = MathF.FusedMultiplyAdd(r3[j], a3, t);
                y[j] = t;
            }
        }
        for (; i < m; i++)
        {
            float* r0 = a + i * lda;
            float a0 = alpha * x[i];
            Vector512<float> v0 = Vector512.Create(a0);
            int j = j0;
            for (; j + 16 <= j1; j += 16)
                Vector512.FusedMultiplyAdd(Vector512.Load(r0 + j), v0, Vector512.Load(y + j)).Store(y + j);
            for (; j < j1; j++) y[j] = MathF.FusedMultiplyAdd(r0[j], a0, y[j]);
        }
    }

    private static unsafe void RowsDot8(int i0, int i1, int n, float alpha, float* a, nint lda, float* x, float beta, float* y)
    {
        int i = i0;
        for (; i + 4 <= i1; i += 4)
        {
            float* r0 = a + i * lda, r1 = r0 + lda, r2 = r1 + lda, r3 = r2 + lda;
            Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default;
            Vector256<float> t0 = default, t1 = default, t2 = default, t3 = default;
            int j = 0;
            for (; j + 16 <= n; j += 16)
            {
                Vector256<float> x0 = Vector256.Load(x + j), x1 = Vector256.Load(x + j + 8);
                s0 = Vector256.FusedMultiplyAdd(Vector256.Load(r0 + j), x0, s0); t0 = Vector256.FusedMultiplyAdd(Vector256.Load(r0 + j + 8), x1, t0);
                s1 = Vector256.FusedMultiplyAdd(Vector256.Load(r1 + j), x0, s1); t1 = Vector256.FusedMultiplyAdd(Vector256.Load(r1 + j + 8), x1, t1);
                s2 = Vector256.FusedMultiplyAdd(Vector256.Load(r2 + j), x0, s2); t2 = Vector256.FusedMultiplyAdd(Vector256.Load(r2 + j + 8), x1, t2);
                s3 = Vector256.FusedMultiplyAdd(Vector256.Load(r3 + j), x0, s3); t3 = Vector256.FusedMultiplyAdd(Vector256.Load(r3 + j + 8), x1, t3);
            }
            if (j + 8 <= n)
            {
                Vector256<float> x0 = Vector256.Load(x + j);
                s0 = Vector256.FusedMultiplyAdd(Vector256.Load(r0 + j), x0, s0);
                s1 = Vector256.FusedMultiplyAdd(Vector256.Load(r1 + j), x0, s1);
                s2 = Vector256.FusedMultiplyAdd(Vector256.Load(r2 + j), x0, s2);
                s3 = Vector256.FusedMultiplyAdd(Vector256.Load(r3 + j), x0, s3);
                j += 8;
            }
            float d0 = Vector256.Sum(s0 + t0), d1 = Vector256.Sum(s1 + t1), d2 = Vector256.Sum(s2 + t2), d3 = Vector256.Sum(s3 + t3);
            for (; j < n; j++)
            {
                d0 = MathF.FusedMultiplyAdd(r0[j], x[j], d0);
                d1 = MathF.FusedMultiplyAdd(r1[j], x[j], d1);
                d2 = MathF.FusedMultiplyAdd(r2[j], x[j], d2);
                d3 = MathF.FusedMultiplyAdd(r3[j], x[j], d3);
            }
            Store(y + i, d0, alpha, beta);
            Store(y + i + 1, d1, alpha, beta);
            Store(y + i + 2, d2, alpha, beta);
            Store(y + i + 3, d3, alpha, beta);
        }
        for (; i < i1; i++)
        {
            float* r0 = a + i * lda;
            Vector256<float> s0 = default, t0 = default;
            int j = 0;
            for (; j + 16 <= n; j += 16)
            {
                s0 = Vector256.FusedMultiplyAdd(Vector256.Load(r0 + j), Vector256.Load(x + j), s0);
                t0 = Vector256.FusedMultiplyAdd(Vector256.Load(r0 + j + 8), Vector256.Load(x + j + 8), t0);
            }
            if (j + 8 <= n)
            {
                s0 = Vector256.FusedMultiplyAdd(Vector256.Load(r0 + j), Vector256.Load(x + j), s0);
                j += 8;
            }
            float d0 = Vector256.Sum(s0 + t0);
            for (; j < n; j++) d0 = MathF.FusedMultiplyAdd(r0[j], x[j], d0);
            Store(y + i, d0, alpha, beta);
        }
    }

    private static unsafe void ColumnsAxpy8(int j0, int j1, int m, float alpha, float* a, nint lda, float* x, float beta, float* y)
    {
        ScaleY(j0, j1, beta, y);
        int i = 0;
        for (; i + 4 <= m; i += 4)
        {
            float* r0 = a + i * lda, r1 = r0 + lda, r2 = r1 + lda, r3 = r2 + lda;
            float a0 = alpha * x[i], a1 = alpha * x[i + 1], a2 = alpha * x[i + 2], a3 = alpha * x[i + 3];
            Vector256<float> v0 = Vector256.Create(a0), v1 = Vector256.Create(a1), v2 = Vector256.Create(a2), v3 = Vector256.Create(a3);
            int j = j0;
            for (; j + 8 <= j1; j += 8)
            {
                Vector256<float> t = Vector256.Load(y + j);
                t = Vector256.FusedMultiplyAdd(Vector256.Load(r0 + j), v0, t);
                t = Vector256.FusedMultiplyAdd(Vector256.Load(r1 + j), v1, t);
                t = Vector256.FusedMultiplyAdd(Vector256.Load(r2 + j), v2, t);
                t = Vector256.FusedMultiplyAdd(Vector256.Load(r3 + j), v3, t);
                t.Store(y + j);
            }
            for (; j < j1; j++)
            {
                float t = y[j];
                t = MathF.FusedMultiplyAdd(r0[j], a0, t);
                t = MathF.FusedMultiplyAdd(r1[j], a1, t);
                t = MathF.FusedMultiplyAdd(r2[j], a2, t);
                t = MathF.FusedMultiplyAdd(r3[j], a3, t);
                y[j] = t;
            }
        }
        for (; i < m; i++)
        {
            float* r0 = a + i * lda;
            float a0 = alpha * x[i];
            Vector256<float> v0 = Vector256.Create(a0);
            int j = j0;
            for (; j + 8 <= j1; j += 8)
                Vector256.FusedMultiplyAdd(Vector256.Load(r0 + j), v0, Vector256.Load(y + j)).Store(y + j);
            for (; j < j1; j++) y[j] = MathF.FusedMultiplyAdd(r0[j], a0, y[j]);
        }
    }

    private static unsafe void RowsDotScalar(int i0, int i1, int n, float alpha, float* a, nint lda, float* x, float beta, float* y)
    {
        for (int i = i0; i < i1; i++)
        {
            float* r = a + i * lda;
            float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
            int j = 0;
            for (; j + 4 <= n; j += 4)
            {
                s0 += r[j] * x[j];
                s1 += r[j + 1] * x[j + 1];
                s2 += r[j + 2] * x[j + 2];
                s3 += r[j + 3] * x[j + 3];
            }
            float d = (s0 + s1) + (s2 + s3);
            for (; j < n; j++) d += r[j] * x[j];
            float v = d * alpha;
            y[i] = beta == 0 ? v : y[i] * beta + v;
        }
    }

    private static unsafe void ColumnsAxpyScalar(int j0, int j1, int m, float alpha, float* a, nint lda, float* x, float beta, float* y)
    {
        for (int j = j0; j < j1; j++) y[j] = beta == 0 ? 0 : y[j] * beta;
        for (int i = 0; i < m; i++)
        {
            float* r = a + i * lda;
            float ai = alpha * x[i];
            for (int j = j0; j < j1; j++) y[j] += r[j] * ai;
        }
    }

    private static unsafe void ScaleY(int j0, int j1, float beta, float* y)
    {
        if (beta == 1) return;
        var span = new Span<float>(y + j0, j1 - j0);
        if (beta == 0) span.Clear();
        else System.Numerics.Tensors.TensorPrimitives.Multiply(span, beta, span);
    }

    private static unsafe void Store(float* y, float dot, float alpha, float beta)
    {
        float v = dot * alpha;
        *y = beta == 0 ? v : MathF.FusedMultiplyAdd(*y, beta, v);
    }
}
