#!/usr/bin/env bash
# Times two builds of the CLI side by side: `dopant bench infer` with the same arguments, alternating the builds for
# a number of rounds, so that both see the same machine load. Prints the bench's result lines, each prefixed with the
# build's label and the round.
#
#   scripts/compare_builds.sh OLD_DIR NEW_DIR ROUNDS [bench infer arguments...]
#   dotnet build src/Dopant.Cli -c Release -o /tmp/new   # and the same at the old commit into /tmp/old
#   scripts/compare_builds.sh /tmp/old /tmp/new 3 --preset medium --method dkp --factor 25 --block 16x1 \
#       --doping-share 0.9 --tokens 400 --repeats 5 --score-tokens 0 --threads 2
set -euo pipefail
if [ $# -lt 3 ]; then
  echo "usage: $0 OLD_DIR NEW_DIR ROUNDS [bench infer arguments...]" >&2
  exit 2
fi
old=$1 new=$2 rounds=$3
shift 3
for dir in "$old" "$new"; do
  [ -f "$dir/Dopant.Cli.dll" ] || { echo "error: no Dopant.Cli.dll in '$dir'" >&2; exit 2; }
done
for round in $(seq 1 "$rounds"); do
  for build in old new; do
    dir=$old; [ "$build" = new ] && dir=$new
    dotnet "$dir/Dopant.Cli.dll" bench infer "$@" | sed -n "s/^\([a-z]\)/$build round $round: \1/p"
  done
done
