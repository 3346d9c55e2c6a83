#!/usr/bin/env bash
# Packs the library (NuGet package Dopant) and the command (.NET tool Dopant.Cli, command `dopant`) into artifacts/,
# or into the folder given as the first argument. Then:
#   dotnet tool install --global --add-source ./artifacts Dopant.Cli
# With --check, also installs the tool into a temporary tool path and runs `dopant --version` and `dopant train --help`.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/artifacts"; check=0
for arg in "$@"; do
  case "$arg" in
    --check) check=1 ;;
    *) out="$(mkdir -p "$arg" && cd "$arg" && pwd)" ;;
  esac
done
dotnet pack "$root/src/Dopant" -c Release -o "$out" -nologo -v quiet
dotnet pack "$root/src/Dopant.Cli" -c Release -o "$out" -nologo -v quiet
ls -l "$out"/*.nupkg
if [ "$check" = 1 ]; then
  tools="$(mktemp -d)"
  trap 'rm -rf "$tools"' EXIT
  # A package cache of its own, so that an earlier package of the same version cannot stand in for this one.
  NUGET_PACKAGES="$tools/packages" dotnet tool install --tool-path "$tools" --add-source "$out" --ignore-failed-sources Dopant.Cli
  "$tools/dopant" --version
  "$tools/dopant" train --help | grep -q -- "--run" || { echo "pack: the installed dopant lacks 'train --run'"; exit 1; }
  echo "pack: the tool installs and runs"
fi
