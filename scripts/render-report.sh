#!/bin/sh
# Renders a plan's report.html to a PNG at the page's natural height with
# headless chromium (installed from Debian if missing).
# Usage: scripts/render-report.sh DIR/report.html [out.png]
set -eu
html=$(realpath "$1")
out=$(realpath -m "${2:-report.png}")
width=1000
command -v chromium >/dev/null 2>&1 || apt-get install -y chromium
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
run() {
  chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --hide-scrollbars --user-data-dir="$work/profile" "$@" 2>/dev/null
}
# The page's height: a copy that writes its scroll height into its title,
# read back from the DOM chromium dumps (the report itself has no script).
sed 's#</body>#<script>document.title="height:"+document.documentElement.scrollHeight</script></body>#' \
  "$html" >"$work/measure.html"
height=$(run --window-size="$width,1000" --dump-dom "file://$work/measure.html" |
  sed -n 's/.*<title>height:\([0-9]*\)<\/title>.*/\1/p')
[ -n "$height" ] || { echo "render-report: could not measure $html" >&2; exit 1; }
run --window-size="$width,$height" --screenshot="$out" "file://$html"
echo "$out (${width}x$height)"
