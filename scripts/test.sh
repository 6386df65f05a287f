#!/usr/bin/env bash
# `npm test`: installs what the tests need (Debian's chromium for its SwiftShader Vulkan driver, libvulkan1 for
# Dawn in Node, binutils for strip), then runs every test. WebGPU tests fail loudly when no adapter is found.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1' || need+=(libvulkan1)
# strip, for the GPU kit's bundles (tests/scripts/kit.test.ts strips dawn.node as npm run kit does).
command -v strip >/dev/null || need+=(binutils)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "[test] installing ${need[*]} from Debian's packages"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "[test] missing ${need[*]}: install them (as root: apt-get install -y ${need[*]})" >&2
    exit 1
  fi
fi
export VK_ICD_FILENAMES="${VK_ICD_FILENAMES:-/usr/lib/chromium/vk_swiftshader_icd.json}"
mkdir -p test-results
[ -d node_modules ] || npm install --no-audit --no-fund
npx tsc --noEmit
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json=test-results/vitest.json "$@" || status=$?
node -e '
const r = JSON.parse(require("fs").readFileSync("test-results/vitest.json", "utf8"));
console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed` + (r.numPendingTests ? `, ${r.numPendingTests} skipped` : ""));
' || true
exit $status
