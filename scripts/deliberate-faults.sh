#!/bin/bash
# The deliberate faults of the test-suite review, one at a time: each is planted in a scratch git worktree
# of HEAD, the tests that should notice it are run, the outcome is printed (a fault no test notices says
# "NOT CAUGHT" and the script exits 1), and the worktree is removed. Logs: test-results/faults/<fault>.log.
# Usage: bash scripts/deliberate-faults.sh   (from the project root; about 10 minutes on 2 cores)
set -u
root=$(pwd)
scratch=$(mktemp -d)/faults
logs=$root/test-results/faults
mkdir -p "$logs"
git worktree add -q --detach "$scratch" HEAD
ln -s "$root/node_modules" "$scratch/node_modules"
trap 'git -C "$root" worktree remove --force "$scratch"' EXIT
cd "$scratch"
missed=0

# plant FILE OLD NEW: OLD must stand exactly once in FILE.
plant() {
  python3 - "$@" <<'PY'
import sys
path, old, new = sys.argv[1:4]
s = open(path).read()
if s.count(old) != 1:
    sys.exit(f'{path}: expected one "{old}", found {s.count(old)}')
open(path, 'w').write(s.replace(old, new))
PY
}

# fault NAME FILE OLD NEW TEST...: plants the fault, runs the tests, reverts.
fault() {
  local name=$1 file=$2 old=$3 new=$4
  shift 4
  plant "$file" "$old" "$new" || { echo "$name: could not be planted (the code changed?)"; missed=1; return; }
  if npx vitest run "$@" > "$logs/$name.log" 2>&1; then
    echo "$name: NOT CAUGHT"
    missed=1
  else
    echo "$name: caught by"
    sed 's/\x1b\[[0-9;]*m//g' "$logs/$name.log" | grep -E '^ *FAIL ' | sed 's/^ *FAIL */  /' | sort -u
  fi
  git checkout -q -- "$file"
}

fault bop-csv-R-column-major src/train/bopCsv.ts \
  "Array.from(r.R, num).join(' ')" "[0, 3, 6, 1, 4, 7, 2, 5, 8].map((j) => num(r.R[j])).join(' ')" \
  tests/train/bopCsv.test.ts tests/cli/predict.test.ts
fault symmetric-object-scored-by-ADD src/train/evaluate.ts \
  "metricPts, s.kPx, obj.symmetric, p.status" "metricPts, s.kPx, false, p.status" \
  tests/train/evaluate.test.ts
fault wgsl-hessian-term-dropped src/kernels/pnpBackward.wgsl \
  "- Sy * Hq * Sy + S) * w2" "- Sy * Hq * Sy) * w2" \
  tests/kernels/pnpKernels.test.ts tests/ops
fault wgsl-pts3d-gradient-sign src/kernels/pnpBackward.wgsl \
  "- cross(om, dpiTrho))" "+ cross(om, dpiTrho))" \
  tests/kernels/pnpKernels.test.ts tests/ops tests/demos/structureFromMotion.test.ts
fault crop-K-half-pixel src/data/crop.ts \
  "s * kPx[2] + tx * kPx[8]," "s * kPx[2] + (tx + 0.5) * kPx[8]," \
  tests/data/crop.test.ts tests/data/samples.test.ts
exit $missed
