#!/usr/bin/env bash
# Builds bench/peers/sgemm_openblas.c against Debian's OpenBLAS (package libopenblas0-pthread) and times one shape.
# Usage: sgemm_openblas.sh THREADS gemm M N K TRANSA TRANSB REPS
#        sgemm_openblas.sh THREADS gemv M N TRANS REPS
# Prints: core=SKYLAKEX threads=T median_gflops=X
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
OPENBLAS_CORETYPE="${OPENBLAS_CORETYPE:-SkylakeX}" OPENBLAS_NUM_THREADS="$threads" "$exe" "$@"
