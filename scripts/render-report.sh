#!/bin/sh
# Renders a plan's report.html to a PNG with headless chromium (installed
# from Debian if missing). Usage: scripts/render-report.sh DIR/report.html [out.png]
set -eu
html=$(realpath "$1")
out=${2:-report.png}
command -v chromium >/dev/null 2>&1 || apt-get install -y chromium
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$(mktemp -d)" --screenshot="$out" --window-size=1200,2400 \
  "file://$html"
echo "$out"
