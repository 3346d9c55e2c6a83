#!/usr/bin/env bash
# Builds and runs the TorchSharp training-throughput peer (Program.cs beside this file; TorchSharp-cpu 0.107, libtorch
# 2.10). libtorch 2.10 needs glibc 2.38 and GLIBCXX_3.4.32, newer than Debian 12's, so the first run unpacks Debian 13's
# libc6, libgcc-s1 and libstdc++6 into a private folder (apt-get download with a private sources list derived from the
# system's; nothing is installed) and runs a copy of the dotnet host whose ELF interpreter is Debian 13's loader. The
# system itself is untouched. Everything lives in ${PEER_CACHE:-${TMPDIR:-/tmp}/dopant-torchsharp-peer}; the peer is
# rebuilt there when a source or the project file is newer than its build.
#
# Usage: run.sh [--preset small|medium|large] [--data DIR] [--method M --factor F ...]   (run.sh --help lists them)
#        run.sh --self-check
#        run.sh --prepare    set up the C runtime and build, then exit (compare_training.py does this before timing)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${PEER_CACHE:-${TMPDIR:-/tmp}/dopant-torchsharp-peer}
lib=$cache/x/usr/lib/x86_64-linux-gnu
dll=$cache/artifacts/bin/TorchSharpPeer/release_linux-x64/TorchSharpPeer.dll
mkdir -p "$cache"

prepare() {
  if [ ! -x "$cache/dn/dotnet" ]; then
    rm -rf "$cache/x" "$cache/debs" "$cache/dn"
    mkdir -p "$cache/lists/partial" "$cache/apt/archives/partial" "$cache/debs"
    uri=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)
    [ -n "$uri" ] || uri=$(awk '$1 == "deb" && $2 !~ /^\[/ { print $2; exit }' /etc/apt/sources.list)
    echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri trixie main" > "$cache/sources.list"
    opts=(-o Dir::Etc::SourceList="$cache/sources.list" -o Dir::Etc::SourceParts=/dev/null
          -o Dir::State::Lists="$cache/lists" -o Dir::Cache="$cache/apt" -o APT::Sandbox::User=root)
    apt-get "${opts[@]}" update -qq >&2
    (cd "$cache/debs" && apt-get "${opts[@]}" download libc6 libgcc-s1 libstdc++6 >&2)
    for d in "$cache"/debs/*.deb; do dpkg-deb -x "$d" "$cache/x"; done
    if ! command -v patchelf >/dev/null; then
      apt-get install -y -qq patchelf >&2 || { apt-get update -qq >&2 && apt-get install -y -qq patchelf >&2; }
    fi
    root=$(dirname "$(readlink -f "$(command -v dotnet)")")
    mkdir -p "$cache/dn.tmp" && cp "$root/dotnet" "$cache/dn.tmp/dotnet"
    for d in host shared sdk packs; do [ -e "$root/$d" ] && ln -sfn "$root/$d" "$cache/dn.tmp/$d"; done
    patchelf --set-interpreter "$lib/ld-linux-x86-64.so.2" "$cache/dn.tmp/dotnet"
    mv "$cache/dn.tmp" "$cache/dn"
  fi
  if [ ! -f "$dll" ] || [ -n "$(find "$here" -maxdepth 1 \( -name '*.cs' -o -name '*.csproj' \) -newer "$dll")" ]; then
    # The build runs on the system's own dotnet: only running libtorch needs the newer C runtime.
    dotnet build "$here" -c Release --artifacts-path "$cache/artifacts" -nologo -v q >&2
    touch "$dll"
  fi
}

# One setup or build at a time, whoever calls.
exec 9>"$cache/lock"
flock 9
prepare
flock -u 9
exec 9>&-
[ "${1:-}" = "--prepare" ] && exit 0
# libtorch's OpenMP threads wait passively unless told otherwise, as word_lm.py's (bench/pytorch/dopant_lm.py): on two
# cores shared with other work, spinning threads lose their time slices and every parallel region stalls (small on 2
# threads ran several times slower with ACTIVE on a busy machine). OMP_WAIT_POLICY=ACTIVE overrides; the JSON line reports it.
exec env OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}" LD_LIBRARY_PATH="$lib" DOTNET_ROOT="$cache/dn" \
  "$cache/dn/dotnet" "$dll" "$@"
