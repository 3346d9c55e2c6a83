#!/usr/bin/env bash
# Checks that a run folder's report renders: headless Chromium (Debian's `chromium`, installed with apt-get if missing)
# loads RUN_DIR/report.html with the network off and screenshots it to PNG (default RUN_DIR/report.png); the check
# fails unless the page has the results table and its charts, and the picture is a full-height, non-blank page.
#   bash scripts/check_report.sh RUN_DIR [OUT.png]
set -euo pipefail
run="${1:?usage: check_report.sh RUN_DIR [OUT.png]}"
report="$(cd "$run" && pwd)/report.html"
png="${2:-$(cd "$run" && pwd)/report.png}"
[ -f "$report" ] || { echo "check_report: '$report' does not exist (run 'dopant report $run' first)"; exit 1; }
if ! command -v chromium > /dev/null; then
  apt-get install -y chromium > /dev/null || { apt-get update > /dev/null && apt-get install -y chromium > /dev/null; }
fi
profile="$(mktemp -d)"
trap 'rm -rf "$profile"' EXIT
flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking
       --disable-component-update --disable-sync --user-data-dir="$profile" --hide-scrollbars)
# The page must carry everything itself: any request for another resource would fail here and show as a broken chart.
dom="$(timeout 120 chromium "${flags[@]}" --dump-dom "file://$report" 2> /dev/null)"
grep -q '<table' <<< "$dom" || { echo "check_report: the rendered page has no table"; exit 1; }
charts=$(grep -o '<svg' <<< "$dom" | wc -l)
[ "$charts" -ge 3 ] || { echo "check_report: the rendered page has $charts charts, expected at least 3"; exit 1; }
grep -qE '<script|<link|src="http' <<< "$dom" && { echo "check_report: the page loads scripts or resources from elsewhere"; exit 1; }
timeout 120 chromium "${flags[@]}" --window-size=1100,3000 --screenshot="$png" "file://$report" 2> /dev/null > /dev/null
python3 - "$png" <<'PY'
import struct, sys, zlib
path = sys.argv[1]
data = open(path, "rb").read()
if data[:8] != b"\x89PNG\r\n\x1a\n":
    sys.exit(f"check_report: {path} is not a PNG")
width, height = struct.unpack(">II", data[16:24])
# Decompress the image data and count rows that are not all one colour: a blank or failed page has almost none.
chunks, pos = [], 8
while pos < len(data):
    length, kind = struct.unpack(">I4s", data[pos:pos + 8])
    if kind == b"IDAT":
        chunks.append(data[pos + 8:pos + 8 + length])
    pos += 12 + length
raw = zlib.decompress(b"".join(chunks))
channels = {2: 3, 6: 4}[data[25]]
stride = width * channels + 1
rows = [raw[i * stride + 1:(i + 1) * stride] for i in range(height)]
busy = sum(1 for r in rows if len(set(r)) > channels * 2)
print(f"check_report: {path}: {width}x{height}, {busy} rows with content, {len(data):,} bytes")
if busy < height // 5:
    sys.exit("check_report: the screenshot is nearly blank")
PY
echo "check_report: $report renders ($charts charts)"
