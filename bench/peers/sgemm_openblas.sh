#!/usr/bin/env bash
# Builds bench/peers/sgemm_openblas.c against Debian's OpenBLAS (package libopenblas0-pthread) and times one shape.
# Usage: sgemm_openblas.sh THREADS gemm M N K TRANSA TRANSB REPS
#        sgemm_openblas.sh THREADS gemv M N TRANS REPS
# OPENBLAS_CORETYPE defaults to SkylakeX on a CPU with AVX-512, otherwise Haswell (AVX2 + FMA).
# Prints: core=NAME threads=T median_gflops=X
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
libdir=/usr/lib/x86_64-linux-gnu/openblas-pthread
if [[ ! -e "$libdir/libopenblas.so.0" ]]; then
    echo "OpenBLAS not found in $libdir (apt-get install libopenblas0-pthread)" >&2
    exit 3
fi
threads="$1"; shift
out="${TMPDIR:-/tmp}/dopant-peers"
mkdir -p "$out"
exe="$out/sgemm_openblas"
if [[ ! -x "$exe" || "$here/sgemm_openblas.c" -nt "$exe" ]]; then
    gcc -O2 -o "$exe" "$here/sgemm_openblas.c" "$libdir/libopenblas.so.0" -Wl,-rpath,"$libdir"
fi
# Debian's OpenBLAS picks its slower kernel on Zen; ask for the best one this CPU can run.
if [[ -z "${OPENBLAS_CORETYPE:-}" ]]; then
    if grep -qw avx512f /proc/cpuinfo; then OPENBLAS_CORETYPE=SkylakeX; else OPENBLAS_CORETYPE=Haswell; fi
fi
OPENBLAS_CORETYPE="$OPENBLAS_CORETYPE" OPENBLAS_NUM_THREADS="$threads" "$exe" "$@"
