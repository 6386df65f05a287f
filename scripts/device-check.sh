#!/usr/bin/env bash
# The GPU machine's one command (README, "A GPU machine without Node"). Run from the repository root, as root, with
# the kit `npm run kit` built in .kit/: it unpacks Node and the bundles into /tmp, brings in the Vulkan loader
# (Debian's libvulkan1, dpkg -x into /) where none is installed, points the loader at NVIDIA's driver, and refuses to
# measure anything unless Dawn's adapter is a GPU (a software adapter's figures are not a GPU's). Then the steps asked
# for, in this order (all four by default), each step's output tee'd to a log in the output folder:
#   pnp          bench:pnp on webgpu: every implementation at B = 1,024, n = 8 (the CPU peers on this machine's CPU),
#                then the WGSL kernels alone for B from 1,024 to 1,048,576 (--pnp-B), n = 8
#   train-bench  bench:train: the `default` config on webgpu against PyTorch on this machine's GPU (--torch-device auto)
#   train        train --config default --backend webgpu on public/datasets/poselab-toy, stopped by SIGINT after
#                --train-seconds (the run ends after its step and writes its bundle); --resume <bundle> [--steps N]
#                continues a returned bundle instead
#   eval         eval of that bundle (or --model's) on the dataset's test split with detected crops: its log and BOP CSV
# A step that fails does not stop the others; the script exits 1 at the end if any failed (2 on a usage error).
# --deadline (default 570 s, under the 600 s a command may run) shortens the training, saying so, so that its bundle
# and the evaluation come back; with the defaults the whole takes about 8 to 9 minutes.
#
# In the output folder ($OUT, or --out), at most 8 files: device-check.log (set-up, adapter, summary), pnp.log,
# train-bench.log, bench.json (the JSON files bench:pnp and bench:train wrote, by file name), train.log,
# train-default.zip (the bundle), eval.log, poselab_poselab-toy-test.csv.
set -uo pipefail

usage() {
  cat <<'EOF'
usage: bash scripts/device-check.sh [--out DIR] [--kit DIR | --unpacked DIR] [--train-seconds S] [--resume BUNDLE]
                                    [--steps N] [--model BUNDLE] [--pnp-B LIST] [--deadline S] [pnp] [train-bench] [train] [eval]
  --out DIR          where results go (default: $OUT)
  --kit DIR          the kit npm run kit built (default .kit); --unpacked DIR: a kit already unpacked (DIR/bin/node, DIR/app)
  --train-seconds S  the training's wall-clock cap (default 300); --resume BUNDLE: continue that bundle (--steps N: its new total)
  --model BUNDLE     what eval evaluates when train is not run (default: the train step's bundle in the output folder)
  --pnp-B LIST       the WGSL-only batch sizes (default 1024,4096,16384,65536,262144,1048576)
  --deadline S       seconds from the start by which everything must end (default 570); the training is shortened to fit
EOF
}

die_usage() { echo "device-check: $*" >&2; usage >&2; exit 2; }

out=${OUT:-}
kit=.kit
unpacked=
train_seconds=300
resume=
steps=
model=
pnp_b=1024,4096,16384,65536,262144,1048576
deadline=570
want=()
while [ $# -gt 0 ]; do
  case $1 in
    -h|--help) usage; exit 0 ;;
    --out|--kit|--unpacked|--train-seconds|--resume|--steps|--model|--pnp-B|--deadline)
      [ $# -ge 2 ] || die_usage "$1 needs a value"
      case $1 in
        --out) out=$2 ;; --kit) kit=$2 ;; --unpacked) unpacked=$2 ;; --train-seconds) train_seconds=$2 ;;
        --resume) resume=$2 ;; --steps) steps=$2 ;; --model) model=$2 ;; --pnp-B) pnp_b=$2 ;; --deadline) deadline=$2 ;;
      esac
      shift 2 ;;
    pnp|train-bench|train|eval) want+=("$1"); shift ;;
    *) die_usage "unknown argument $1" ;;
  esac
done
[ -n "$out" ] || die_usage "no output folder: set OUT or give --out"
# At least 30 s of training: SIGINT stops a run cleanly only once it trains (the dataset is loaded and the networks
# built first), and the training is the step the deadline shortens.
[[ $train_seconds =~ ^[0-9]+$ ]] && [ "$train_seconds" -ge 30 ] || die_usage "--train-seconds $train_seconds: expected a whole number of seconds >= 30"
[[ $deadline =~ ^[0-9]+$ ]] && [ "$deadline" -ge 1 ] || die_usage "--deadline $deadline: expected a whole number of seconds >= 1"
[ -z "$steps" ] || [[ $steps =~ ^[0-9]+$ ]] || die_usage "--steps $steps: expected a positive integer"
[[ $pnp_b =~ ^[0-9]+(,[0-9]+)*$ ]] || die_usage "--pnp-B $pnp_b: expected a comma list of batch sizes"
[ -z "$resume" ] || [ -e "$resume" ] || die_usage "--resume $resume: no such file or folder"
[ -z "$model" ] || [ -e "$model" ] || die_usage "--model $model: no such file or folder"
[ ${#want[@]} -gt 0 ] || want=(pnp train-bench train eval)
wants() { local s; for s in "${want[@]}"; do [ "$s" = "$1" ] && return 0; done; return 1; }

mkdir -p "$out" || die_usage "--out $out: cannot create the folder"
out=$(cd "$out" && pwd)
log=$out/device-check.log
: > "$log"
say() { echo "[device-check $(date -u +%H:%M:%S)] $*" | tee -a "$log"; }
dataset=public/datasets/poselab-toy
bundle=$out/train-default.zip
work=$(mktemp -d /tmp/poselab-device-check.XXXXXX)
trap 'rm -rf "$work"' EXIT
declare -A result

# Seconds left before the deadline.
left() { echo $((deadline - SECONDS)); }
# Whether the dynamic loader's cache lists a library (grep reads it all: under pipefail, grep -q's early exit could
# fail ldconfig with SIGPIPE and read as "not installed").
has_lib() { ldconfig -p 2>/dev/null | grep -F "$1" >/dev/null; }

# --- the kit ---------------------------------------------------------------------------------------------------
if [ -n "$unpacked" ]; then
  root=$(cd "$unpacked" && pwd) || die_usage "--unpacked $unpacked: no such folder"
else
  archive=$kit/poselab-kit.tar.xz
  [ -f "$archive" ] || { say "no $archive: build the kit with npm run kit where Node is, and carry .kit here"; exit 1; }
  expected=$(sed -n 's/.*"sha256": "\([0-9a-f]*\)".*/\1/p' "$kit/manifest.json" 2>/dev/null | head -1)
  [ -n "$expected" ] || { say "$kit/manifest.json: missing, or no sha256 in it: an incomplete kit (npm run kit writes both)"; exit 1; }
  if command -v sha256sum >/dev/null; then
    got=$(sha256sum "$archive" | cut -d' ' -f1)
    [ "$got" = "$expected" ] || { say "$archive: sha256 $got, not the $expected of $kit/manifest.json: a damaged copy"; exit 1; }
  else
    say "no sha256sum here: $archive is not checked against $kit/manifest.json"
  fi
  root=/tmp/poselab-kit
  rm -rf "$root" && mkdir -p "$root"
  # xz where it is installed, else Python's lzma (this machine's python3 is the one thing known to be here).
  if command -v xz >/dev/null; then
    xz -dc "$archive" | tar -x -C "$root" || { say "unpacking $archive with xz and tar failed"; exit 1; }
  else
    python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1], "r:xz").extractall(sys.argv[2], filter="tar")' "$archive" "$root" \
      || { say "unpacking $archive with python3's tarfile failed (no xz here)"; exit 1; }
  fi
  say "kit unpacked into $root ($(sed -n 's/.*"commit": "\([^"]*\)".*/\1/p' "$kit/manifest.json" 2>/dev/null | head -1))"
fi
node=$root/bin/node
app=$root/app
if ! node_version=$("$node" --version 2>&1); then
  say "the kit's Node does not start here: $node_version"
  ldd "$node" 2>&1 | tee -a "$log"
  exit 1
fi
say "Node $node_version from the kit; $(nproc) cores; $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 2^20}' /proc/meminfo); $(python3 --version 2>&1); $(ldd --version 2>&1 | head -1)"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | sed 's/^/  nvidia-smi: /' | tee -a "$log"

# --- Vulkan: the loader, and NVIDIA's driver manifest ------------------------------------------------------------
if ! has_lib libvulkan.so.1; then
  deb=$(ls "$kit"/libvulkan1_*.deb 2>/dev/null | head -1)
  if [ -z "$deb" ]; then
    say "no libvulkan.so.1 here and no $kit/libvulkan1_*.deb to install it from"
  elif [ "$(id -u)" != 0 ]; then
    say "no libvulkan.so.1 here; installing $deb into / needs root"
  elif ! command -v dpkg >/dev/null; then
    say "no libvulkan.so.1 here, and no dpkg to unpack $deb with"
  else
    dpkg -x "$deb" / && ldconfig
    if has_lib libvulkan.so.1; then say "installed $(basename "$deb") (dpkg -x into /)"; else say "dpkg -x $deb did not give a libvulkan.so.1 the loader finds"; fi
  fi
fi
# Named even where the loader would find it by itself: src/node/webgpu.ts points an unset VK_ICD_FILENAMES at
# SwiftShader when Chromium's copy of it is installed, and a GPU must not lose to it.
if [ -z "${VK_ICD_FILENAMES:-}${VK_DRIVER_FILES:-}" ]; then
  for f in /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json \
           /usr/share/vulkan/icd.d/nvidia_icd.x86_64.json /etc/vulkan/icd.d/nvidia_icd.x86_64.json; do
    if [ -f "$f" ]; then export VK_ICD_FILENAMES=$f VK_DRIVER_FILES=$f; break; fi
  done
  if [ -n "${VK_ICD_FILENAMES:-}" ]; then
    say "Vulkan driver manifest: $VK_ICD_FILENAMES"
    lib=$(sed -n 's/.*"library_path"[^"]*"\([^"]*\)".*/\1/p' "$VK_ICD_FILENAMES" | head -1)
    # A driver library named without a folder must be where the dynamic loader looks; NVIDIA's container runtime
    # may leave it in /usr/local/nvidia/lib64 alone.
    if [ -n "$lib" ] && [ "${lib#/}" = "$lib" ] && ! has_lib "$lib"; then
      for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib; do
        if [ -e "$d/$lib" ]; then export LD_LIBRARY_PATH=$d${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}; say "$lib found in $d: LD_LIBRARY_PATH=$LD_LIBRARY_PATH"; break; fi
      done
    fi
  else
    say "no nvidia_icd.json in the usual places: Vulkan is left to find a driver by itself (NVIDIA_DRIVER_CAPABILITIES=${NVIDIA_DRIVER_CAPABILITIES:-unset}; Vulkan needs 'graphics')"
  fi
else
  say "Vulkan driver manifest as given: VK_ICD_FILENAMES=${VK_ICD_FILENAMES:-} VK_DRIVER_FILES=${VK_DRIVER_FILES:-}"
fi

# --- the adapter: a GPU, or nothing is measured -------------------------------------------------------------------
say "adapter check"
"$node" "$app/adapter-check.mjs" 2>&1 | tee -a "$log" "$work/adapter.txt"
if [ "${PIPESTATUS[0]}" != 0 ]; then
  # Where no adapter came, the Vulkan loader says why (a manifest it could not read, a driver library it could not load).
  if ! grep -q 'REFUSED: a software adapter' "$work/adapter.txt"; then
    say "the Vulkan loader's own account (VK_LOADER_DEBUG=error,warn,driver), last 40 lines:"
    VK_LOADER_DEBUG=error,warn,driver "$node" "$app/adapter-check.mjs" 2>&1 | tail -40 | sed 's/^/  /' | tee -a "$log"
  fi
  for s in "${want[@]}"; do say "$s: NOT RUN: no GPU adapter (above); no figures from a software adapter or none"; done
  say "FAILED: no GPU adapter"
  exit 1
fi

# --- the steps ----------------------------------------------------------------------------------------------------
# step NAME LIMIT_S CMD...: runs CMD under `timeout` (at most LIMIT_S and what the deadline leaves), output tee'd to
# NAME.log in the output folder; records passed or FAILED.
step() {
  local name=$1 limit=$2
  shift 2
  local room=$(( $(left) - 5 ))
  if [ "$room" -lt 20 ]; then
    say "$name: FAILED: $(left) s left before the deadline (--deadline $deadline), too little to run it"
    result[$name]=FAILED
    return 1
  fi
  [ "$limit" -le "$room" ] || limit=$room
  say "$name: $* (at most ${limit} s)"
  local t0=$SECONDS
  timeout -k 30 "$limit" "$@" 2>&1 | tee "$out/$name.log"
  local rc=${PIPESTATUS[0]}
  if [ "$rc" = 0 ]; then result[$name]=passed; say "$name: passed in $((SECONDS - t0)) s"
  else
    result[$name]=FAILED
    say "$name: FAILED (exit $rc$([ "$rc" = 124 ] || [ "$rc" = 137 ] && echo ": ran past ${limit} s")) after $((SECONDS - t0)) s; see $name.log"
  fi
  [ "$rc" = 0 ]
}

# bench.json: every results file the benchmarks wrote into $work/bench, by its name (one file for the 8 that come back).
collect_bench() {
  "$node" -e '
    const fs = require("fs"), path = require("path");
    const [dir, to] = process.argv.slice(1);
    const all = {};
    for (const f of fs.readdirSync(dir).sort()) if (f.endsWith(".json")) all[f] = JSON.parse(fs.readFileSync(path.join(dir, f), "utf8"));
    fs.writeFileSync(to, JSON.stringify(all, null, 2) + "\n");' "$work/bench" "$out/bench.json"
}
mkdir -p "$work/bench"

if wants pnp; then
  # The CPU peers take seconds a call from B = 10^4 and minutes at 10^6: every implementation at B = 1,024 (the
  # README's aim compares them there), the WGSL kernels alone at every size.
  step pnp 240 bash -c '"$1" "$2/bench-pnp.mjs" --B 1024 --n 8 --out "$3/"; a=$?; "$1" "$2/bench-pnp.mjs" --B "$4" --n 8 --impls wgsl --out "$3/"; b=$?; exit $((a || b))' \
    pnp "$node" "$app" "$work/bench" "$pnp_b"
  collect_bench
fi

if wants train-bench; then
  step train-bench 240 "$node" "$app/bench-train.mjs" --configs default --backends webgpu --steps 20 --warmup 3 \
    --torch-device auto --python "$(command -v python3)" --out "$work/bench/"
  collect_bench
fi

if wants train; then
  # Kept back from the training for what follows it: 45 s to finish the step under way and write the zip, 120 s for
  # the evaluation when it is asked for, and 60 s of margin (below).
  reserve=$((45 + $(wants eval && echo 120 || echo 0)))
  cap=$train_seconds
  room=$(( $(left) - reserve - 60 ))
  if [ "$room" -lt "$cap" ]; then
    say "train: the cap goes from $train_seconds s to $room s, so that the bundle and the evaluation come back before the deadline (--deadline $deadline)"
    cap=$room
  fi
  if [ "$cap" -lt 30 ]; then
    say "train: FAILED: ${cap} s left for it before the deadline (--deadline $deadline), under the 30 s a run needs"
    result[train]=FAILED
  else
    args=(--dataset "$dataset" --backend webgpu --out "$bundle")
    if [ -n "$resume" ]; then args+=(--resume "$resume"); else args+=(--config default); fi
    [ -z "$steps" ] || args+=(--steps "$steps")
    # SIGINT at the cap: train stops after the current step and still writes its bundle (exit 0, kept by
    # --preserve-status); the step's own timeout, 60 s beyond, is for a run that does not stop.
    step train $((cap + 90)) timeout --preserve-status -s INT -k 60 "$cap" "$node" "$app/train.mjs" "${args[@]}"
    if [ -f "$bundle" ]; then
      size=$(stat -c %s "$bundle")
      say "train: bundle $(basename "$bundle"), $((size / 1024)) KiB"
      if [ "$size" -gt $((16 * 1024 * 1024)) ]; then say "train: FAILED: the bundle is over the 16 MiB a returned file may be"; result[train]=FAILED; fi
    else
      say "train: FAILED: no bundle at $bundle"
      result[train]=FAILED
    fi
  fi
fi

if wants eval; then
  m=${model:-$bundle}
  if [ ! -e "$m" ]; then
    say "eval: FAILED: no bundle to evaluate ($m): run the train step, or give --model"
    result[eval]=FAILED
  else
    step eval 180 "$node" "$app/eval.mjs" --model "$m" --dataset "$dataset" --crops detected --backend webgpu --csv "$out/"
  fi
fi

status=0
for s in "${want[@]}"; do
  say "summary: $s ${result[$s]:-FAILED}"
  [ "${result[$s]:-FAILED}" = passed ] || status=1
done
say "$([ $status = 0 ] && echo 'all steps passed' || echo 'FAILED: some steps failed (above)') in $SECONDS s; results in $out: $(ls "$out" | tr '\n' ' ')"
exit $status
