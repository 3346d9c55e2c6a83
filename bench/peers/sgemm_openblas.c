/* Times OpenBLAS cblas_sgemm / cblas_sgemv on one shape and prints the median GFLOP/s.
 * Usage: sgemm_openblas gemm M N K TRANSA TRANSB REPS   (TRANS* is N or T; row-major, alpha=1, beta=0)
 *        sgemm_openblas gemv M N TRANS REPS
 * Threads come from OPENBLAS_NUM_THREADS; the kernel from OPENBLAS_CORETYPE.
 * The CBLAS prototypes are declared here so that no development headers are needed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { CblasRowMajor = 101, CblasNoTrans = 111, CblasTrans = 112 };
void cblas_sgemm(int order, int transa, int transb, int m, int n, int k, float alpha, const float *a, int lda,
                 const float *b, int ldb, float beta, float *c, int ldc);
void cblas_sgemv(int order, int trans, int m, int n, float alpha, const float *a, int lda, const float *x, int incx,
                 float beta, float *y, int incy);
char *openblas_get_corename(void);
int openblas_get_num_threads(void);

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static int cmp(const void *x, const void *y) { double a = *(const double *)x, b = *(const double *)y; return (a > b) - (a < b); }
static float *filled(long count) {
    float *p = aligned_alloc(64, (count * sizeof(float) + 63) / 64 * 64);
    for (long i = 0; i < count; i++) p[i] = (float)((i * 7919) % 1000) / 1000.0f - 0.5f;
    return p;
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: see the header of sgemm_openblas.c\n"); return 2; }
    int gemm = strcmp(argv[1], "gemm") == 0;
    if ((gemm && argc != 8) || (!gemm && argc != 6)) { fprintf(stderr, "bad arguments\n"); return 2; }
    int m = atoi(argv[2]), n = atoi(argv[3]);
    int k = gemm ? atoi(argv[4]) : 0;
    int ta = gemm ? argv[5][0] == 'T' : argv[4][0] == 'T';
    int tb = gemm ? argv[6][0] == 'T' : 0;
    int reps = atoi(argv[gemm ? 7 : 5]);
    double flops = gemm ? 2.0 * m * n * k : 2.0 * m * n;
    float *a, *b, *c;
    if (gemm) { a = filled((long)m * k); b = filled((long)k * n); c = filled((long)m * n); }
    else { a = filled((long)m * n); b = filled(ta ? m : n); c = filled(ta ? n : m); }
    double *t = malloc(sizeof(double) * reps);
    for (int r = -2; r < reps; r++) {
        double t0 = now();
        if (gemm)
            cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n, k, 1.0f,
                        a, ta ? m : k, b, tb ? k : n, 0.0f, c, n);
        else
            cblas_sgemv(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, m, n, 1.0f, a, n, b, 1, 0.0f, c, 1);
        double dt = now() - t0;
        if (r >= 0) t[r] = dt;
    }
    qsort(t, reps, sizeof(double), cmp);
    printf("core=%s threads=%d median_gflops=%.2f\n", openblas_get_corename(), openblas_get_num_threads(), flops / t[reps / 2] / 1e9);
    return 0;
}
