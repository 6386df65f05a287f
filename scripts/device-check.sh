#!/usr/bin/env bash
# The GPU machine's one command (README, "A GPU machine without Node"). Run from the repository root, as root, with
# the kit `npm run kit` built in .kit/: before anything else it refuses a kit built from other sources than this
# tree's (the digest in .kit/manifest.json against sha256sum's of the files .kit/sources.sha256 lists: stale bundles
# would spend the lease measuring other code), then unpacks Node and the bundles into /tmp, brings in the Vulkan loader
# (Debian's libvulkan1, dpkg -x into /) where none is installed, points the loader at NVIDIA's driver, and refuses to
# measure anything unless Dawn's adapter is a GPU (a software adapter's figures are not a GPU's). Then the steps asked
# for, always in this order (all four by default), each step's output tee'd to a log in the output folder:
#   train        train --config default --backend webgpu on public/datasets/poselab-toy, stopped by SIGINT after
#                --train-seconds (the run ends after its step and writes its bundle); --resume <bundle> [--steps N]
#                continues a returned bundle instead
#   eval         eval of that bundle (or --model's) on the dataset's test split with detected crops: its log and BOP CSV
#   pnp          bench:pnp on webgpu: every implementation at B = 1,024, n = 8 (the CPU peers on this machine's CPU),
#                then the WGSL kernels alone for B from 1,024 to 1,048,576 (--pnp-B), n = 8
#   train-bench  bench:train: the `default` config on webgpu against PyTorch on this machine's GPU (--torch-device
#                auto), or without the PyTorch peer (--no-torch, said in the log) where python3 cannot import torch
# The training and its evaluation come first: they are what the lease is for (the `default` run's ADD-0.1d on a GPU);
# the benchmarks take what is left. Everything ends by --deadline (570 s from the start, under the 600 s a command may
# run): the training's cap is cut, saying so, so that the evaluation's 180 s always fit after it, and each benchmark
# is skipped, saying so, where less than its minimum is left. How long the steps take on a GPU is an estimate (none
# has run them): with the defaults, the whole should take at most about 9.5 minutes, the deadline (a step killed at
# it may take 30 s more).
# A step that fails does not stop the others; the script exits 1 at the end if any failed (2 on a usage error). A
# benchmark skipped for time is named in the summary and does not fail the run.
#
# --allow-software is for tests alone, as are --quick and small --config, --dataset and --pnp-B values:
# tests/scripts/deviceCheck.test.ts runs every step on SwiftShader with them. Every line of the logs then says
# "SOFTWARE ADAPTER: not a GPU's figures", and so does each results file in bench.json.
#
# In the output folder ($OUT, or --out), at most 8 files: device-check.log (set-up, adapter, summary), train.log,
# train-default.zip (the bundle), eval.log, poselab_poselab-toy-test.csv, pnp.log, train-bench.log, bench.json (the
# JSON files bench:pnp and bench:train wrote, by file name).
set -uo pipefail

usage() {
  cat <<'EOF'
usage: bash scripts/device-check.sh [--out DIR] [--kit DIR | --unpacked DIR] [--config NAME] [--train-seconds S]
         [--resume BUNDLE] [--steps N] [--model BUNDLE] [--dataset DIR] [--pnp-B LIST] [--deadline S] [--quick]
         [--allow-software] [train] [eval] [pnp] [train-bench]
  steps              run in the order train, eval, pnp, train-bench, whatever order they are named in (default: all four)
  --out DIR          where results go (default: $OUT)
  --kit DIR          the kit npm run kit built (default .kit), refused unless built from this tree's sources;
                     --unpacked DIR: a kit already unpacked (DIR/bin/node, DIR/app), its sources not checked
  --config NAME      tiny, small, default or large (default default): the config train trains (--resume: the
                     bundle's own) and train-bench measures; the bundle is train-NAME.zip
  --train-seconds S  the training's wall-clock cap (default 240, at least 30), cut where eval would not fit after it
  --resume BUNDLE    train continues that bundle instead; --steps N: the run's total steps (>= 1; --resume: its new total)
  --model BUNDLE     what eval evaluates when train is not run (default: the train step's bundle in the output folder)
  --dataset DIR      what train and eval read (default public/datasets/poselab-toy)
  --pnp-B LIST       the WGSL-only batch sizes (default 1024,4096,16384,65536,262144,1048576); every implementation
                     runs at 1024, or at the smallest of these where it is smaller
  --deadline S       seconds from the start by which everything must end (default 570); the training is cut and the
                     benchmarks skipped to fit
  --quick            for tests: bench:pnp --quick and bench:train's 1 step without warm-up (paths, not figures)
  --allow-software   for tests alone: run the steps on a software adapter (SwiftShader), every line labelled
                     "SOFTWARE ADAPTER: not a GPU's figures"
EOF
}

die_usage() { echo "device-check: $*" >&2; usage >&2; exit 2; }

kOrder=(train eval pnp train-bench)
kSoftwareLabel="SOFTWARE ADAPTER: not a GPU's figures"
out=${OUT:-}
kit=.kit
unpacked=
config=default
train_seconds=240
resume=
steps=
model=
dataset=public/datasets/poselab-toy
pnp_b=1024,4096,16384,65536,262144,1048576
deadline=570
quick=0
software=0
want=()
while [ $# -gt 0 ]; do
  case $1 in
    -h|--help) usage; exit 0 ;;
    --*=*) die_usage "$1: give the value after a space (${1%%=*} ${1#*=})" ;;
    --out|--kit|--unpacked|--config|--train-seconds|--resume|--steps|--model|--dataset|--pnp-B|--deadline)
      [ $# -ge 2 ] || die_usage "$1 needs a value"
      # Each once: a second value would silently win.
      case " ${seen_flags:-} " in *" $1 "*) die_usage "$1 is given twice" ;; esac
      seen_flags="${seen_flags:-} $1"
      case $1 in
        --out) out=$2 ;; --kit) kit=$2 ;; --unpacked) unpacked=$2 ;; --config) config=$2 ;; --train-seconds) train_seconds=$2 ;;
        --resume) resume=$2 ;; --steps) steps=$2 ;; --model) model=$2 ;; --dataset) dataset=$2 ;; --pnp-B) pnp_b=$2 ;;
        --deadline) deadline=$2 ;;
      esac
      shift 2 ;;
    --quick) quick=1; shift ;;
    --allow-software) software=1; shift ;;
    train|eval|pnp|train-bench) want+=("$1"); shift ;;
    *) die_usage "unknown argument $1" ;;
  esac
done
[ -n "$out" ] || die_usage "no output folder: set OUT or give --out"
[[ $config =~ ^(tiny|small|default|large)$ ]] || die_usage "--config $config: expected tiny, small, default or large"
# At least 30 s of training: SIGINT stops a run cleanly only once it trains (the dataset is opened and the networks
# built first), and the training is the step the deadline shortens.
[[ $train_seconds =~ ^[0-9]+$ ]] && [ "$train_seconds" -ge 30 ] || die_usage "--train-seconds $train_seconds: expected a whole number of seconds >= 30"
[[ $deadline =~ ^[0-9]+$ ]] && [ "$deadline" -ge 1 ] || die_usage "--deadline $deadline: expected a whole number of seconds >= 1"
[ -z "$steps" ] || [[ $steps =~ ^[1-9][0-9]*$ ]] || die_usage "--steps $steps: expected a positive integer"
[[ $pnp_b =~ ^[1-9][0-9]{0,8}(,[1-9][0-9]{0,8})*$ ]] || die_usage "--pnp-B $pnp_b: expected a comma list of batch sizes (whole numbers >= 1)"
# bench:pnp's own bound (bench/args.ts kPnpBenchMaxPoints: B x n <= 100,000,000), here with n = 8.
for b in ${pnp_b//,/ }; do
  [ "$b" -le 12500000 ] || die_usage "--pnp-B $pnp_b: $b problems of 8 points exceed bench:pnp's 100,000,000 points in one configuration (B <= 12,500,000)"
done
[ -z "$unpacked" ] || [ -d "$unpacked" ] || die_usage "--unpacked $unpacked: no such folder"
[[ " ${seen_flags:-} " == *" --kit "* && " ${seen_flags:-} " == *" --unpacked "* ]] && die_usage "--kit and --unpacked: give one (a packed kit, or one already unpacked)"
[ -z "$resume" ] || [ -e "$resume" ] || die_usage "--resume $resume: no such file or folder"
[ -z "$model" ] || [ -e "$model" ] || die_usage "--model $model: no such file or folder"
[ ${#want[@]} -gt 0 ] || want=("${kOrder[@]}")
wants() { local s; for s in "${want[@]}"; do [ "$s" = "$1" ] && return 0; done; return 1; }
{ ! wants train && ! wants eval; } || [ -e "$dataset" ] || die_usage "--dataset $dataset: no such folder or file"
# bench:pnp's every-implementation run: at 1,024 (the README's aim compares them there), or below where --pnp-B asks.
pnp_all_b=1024
for b in ${pnp_b//,/ }; do [ "$b" -ge "$pnp_all_b" ] || pnp_all_b=$b; done

mkdir -p "$out" || die_usage "--out $out: cannot create the folder"
out=$(cd "$out" && pwd)
log=$out/device-check.log
: > "$log"
# Where a software adapter is let through (--allow-software), every line says so.
label=
[ "$software" = 0 ] || label="[$kSoftwareLabel] "
say() { echo "[device-check $(date -u +%H:%M:%S)] $label$*" | tee -a "$log"; }
# stdin to stdout, each line labelled where --allow-software is given.
labelled() {
  if [ -z "$label" ]; then cat; return; fi
  local l
  while IFS= read -r l || [ -n "$l" ]; do printf '%s%s\n' "$label" "$l"; done
}
bundle=$out/train-$config.zip
work=$(mktemp -d /tmp/poselab-device-check.XXXXXX)
trap 'rm -rf "$work"' EXIT
declare -A result
[ "$software" = 0 ] || say "--allow-software: a software adapter is let through; this run is for tests, and none of its figures is a GPU's"

# Seconds left before the deadline.
left() { echo $((deadline - SECONDS)); }
# Whether the dynamic loader's cache lists a library (grep reads it all: under pipefail, grep -q's early exit could
# fail ldconfig with SIGPIPE and read as "not installed").
has_lib() { ldconfig -p 2>/dev/null | grep -F "$1" >/dev/null; }

# --- the kit: built from this tree's sources, whole ----------------------------------------------------------------
if [ -n "$unpacked" ]; then
  root=$(cd "$unpacked" && pwd)
  say "kit: unpacked in $root (--unpacked): its sources are not checked against this tree"
else
  manifest=$kit/manifest.json
  list=$kit/sources.sha256
  [ -f "$manifest" ] || { say "no $manifest: build the kit with npm run kit where Node is, and carry .kit here"; exit 1; }
  # manifest.json's "sources" block holds the digest (scripts/kit/sources.ts); sed reads it: there may be no JSON
  # parser here, and Node is not unpacked yet.
  sources_expected=$(sed -n '/"sources": {/,/}/ s/.*"sha256": "\([0-9a-f]\{64\}\)".*/\1/p' "$manifest" | head -1)
  if [ -z "$sources_expected" ] || [ ! -s "$list" ]; then
    say "REFUSED: no sources digest in $manifest, or no $list: a kit from before that check, or an incomplete one; rebuild the kit with npm run kit"
    exit 1
  fi
  if command -v sha256sum >/dev/null; then
    mapfile -t sources < <(cut -c67- "$list")
    # What scripts/kit/sources.ts hashed: sha256sum's lines for the listed files, in the list's order. A file missing
    # here gives no line (sha256sum says so on stderr), so the digest differs too.
    sources_got=$(sha256sum -- "${sources[@]}" 2>/dev/null | sha256sum | cut -d' ' -f1)
    if [ "$sources_got" != "$sources_expected" ]; then
      say "REFUSED: a stale kit: the ${#sources[@]} files $list lists hash to $sources_got in this tree ($(pwd)), but the kit's bundles were built from $sources_expected ($manifest, sources.sha256); rebuild the kit with npm run kit"
      differ=$(sha256sum -c --quiet "$list" 2>&1 | head -20)
      if [ -n "$differ" ]; then
        say "the files that differ from $list (sha256sum -c), at most 20:"
        echo "$differ" | sed 's/^/  /' | labelled | tee -a "$log"
      else
        say "every file matches $list itself: the list is not the one the manifest's digest was made from (a kit put together from two builds)"
      fi
      exit 1
    fi
    say "kit: built from this tree's sources (${#sources[@]} files, sha256 $sources_got)"
  else
    say "no sha256sum here: the kit's sources are not checked against this tree, nor its archive against $manifest"
  fi
  archive=$kit/poselab-kit.tar.xz
  [ -f "$archive" ] || { say "no $archive: build the kit with npm run kit where Node is, and carry .kit here"; exit 1; }
  expected=$(sed -n '/"archive": {/,/}/ s/.*"sha256": "\([0-9a-f]*\)".*/\1/p' "$manifest" | head -1)
  [ -n "$expected" ] || { say "$manifest: no archive sha256 in it: an incomplete kit (npm run kit writes it)"; exit 1; }
  if command -v sha256sum >/dev/null; then
    got=$(sha256sum "$archive" | cut -d' ' -f1)
    [ "$got" = "$expected" ] || { say "$archive: sha256 $got, not the $expected of $manifest: a damaged copy"; exit 1; }
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
  say "kit unpacked into $root ($(sed -n 's/.*"commit": "\([^"]*\)".*/\1/p' "$manifest" 2>/dev/null | head -1))"
fi
node=$root/bin/node
app=$root/app
if ! node_version=$("$node" --version 2>&1); then
  say "the kit's Node does not start here: $node_version"
  ldd "$node" 2>&1 | labelled | tee -a "$log"
  exit 1
fi
say "Node $node_version from the kit; $(nproc) cores; $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 2^20}' /proc/meminfo); $(command -v python3 >/dev/null && python3 --version 2>&1 || echo 'no python3'); $(ldd --version 2>&1 | head -1)"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | sed 's/^/  nvidia-smi: /' | labelled | tee -a "$log"

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
adapter_args=()
[ "$software" = 0 ] || adapter_args=(--allow-software)
"$node" "$app/adapter-check.mjs" "${adapter_args[@]}" 2>&1 | labelled | tee -a "$log" "$work/adapter.txt"
if [ "${PIPESTATUS[0]}" != 0 ]; then
  # Where no adapter came, the Vulkan loader says why (a manifest it could not read, a driver library it could not load).
  if ! grep -q 'REFUSED: a software adapter' "$work/adapter.txt"; then
    say "the Vulkan loader's own account (VK_LOADER_DEBUG=error,warn,driver), last 40 lines:"
    VK_LOADER_DEBUG=error,warn,driver "$node" "$app/adapter-check.mjs" "${adapter_args[@]}" 2>&1 | tail -40 | sed 's/^/  /' | labelled | tee -a "$log"
  fi
  for s in "${kOrder[@]}"; do wants "$s" && say "$s: NOT RUN: no GPU adapter (above); no figures from a software adapter or none"; done
  say "FAILED: no GPU adapter"
  exit 1
fi

# --- the steps ----------------------------------------------------------------------------------------------------
# The plan, in seconds: the evaluation's limit, kept free after the training; after the training's cap, 60 s for the
# run to finish its step and write its bundle (then SIGKILL), 5 s more for the step's own timeout and its 30 s of
# grace: 95 s at worst, 100 kept. The benchmarks' limits, and the least each is started with.
kEvalS=180
kTrainTailS=100
kPnpS=240
kPnpMinS=90
kTrainBenchS=240
kTrainBenchMinS=90

# step NAME LIMIT CMD...: runs CMD under `timeout` (at most LIMIT s and what the deadline leaves), output tee'd to
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
  timeout -k 30 "$limit" "$@" 2>&1 | labelled | tee "$out/$name.log"
  local rc=${PIPESTATUS[0]}
  if [ "$rc" = 0 ]; then result[$name]=passed; say "$name: passed in $((SECONDS - t0)) s"
  else
    result[$name]=FAILED
    say "$name: FAILED (exit $rc$([ "$rc" = 124 ] || [ "$rc" = 137 ] && echo ": ran past ${limit} s")) after $((SECONDS - t0)) s; see $name.log"
  fi
  [ "$rc" = 0 ]
}

# fits NAME MIN: whether what the deadline leaves holds a benchmark's least time; else it is skipped, saying so.
fits() {
  local room=$(( $(left) - 5 ))
  [ "$room" -lt "$2" ] || return 0
  say "$1: SKIPPED: $room s left before the deadline (--deadline $deadline), under the $2 s it is started with at least; a shorter --train-seconds leaves it more, or run it alone"
  result[$1]=SKIPPED
  return 1
}

# bench.json: every results file the benchmarks wrote into $work/bench, by its name (one file for the 8 that come
# back); a software adapter's each say so first, wherever they are copied to.
collect_bench() {
  "$node" -e '
    const fs = require("fs"), path = require("path");
    const [dir, to, label] = process.argv.slice(1);
    const all = {};
    for (const f of fs.readdirSync(dir).sort()) {
      if (!f.endsWith(".json")) continue;
      const r = JSON.parse(fs.readFileSync(path.join(dir, f), "utf8"));
      all[f] = label ? { label, ...r } : r;
    }
    fs.writeFileSync(to, JSON.stringify(all, null, 2) + "\n");' "$work/bench" "$out/bench.json" "$([ "$software" = 0 ] || echo "$kSoftwareLabel")"
}
mkdir -p "$work/bench"

if wants train; then
  after=$kTrainTailS
  wants eval && after=$((after + kEvalS))
  cap=$train_seconds
  room=$(( $(left) - 5 - after ))
  if [ "$room" -lt "$cap" ]; then
    say "train: the cap goes from $train_seconds s to $room s, so that the bundle$(wants eval && echo ' and the evaluation') come back before the deadline (--deadline $deadline)"
    cap=$room
  fi
  if [ "$cap" -lt 30 ]; then
    say "train: FAILED: ${cap} s left for it before the deadline (--deadline $deadline), under the 30 s a run needs"
    result[train]=FAILED
  else
    args=(--dataset "$dataset" --backend webgpu --out "$bundle")
    if [ -n "$resume" ]; then args+=(--resume "$resume"); else args+=(--config "$config"); fi
    [ -z "$steps" ] || args+=(--steps "$steps")
    # SIGINT at the cap: train stops after the current step and still writes its bundle, exiting 130 (128 + SIGINT's
    # number, kept by --preserve-status), which is this step's success; a run that reaches its last step first exits
    # 0. SIGKILL 60 s later is for a run that does not stop, and the step's own timeout, 5 s beyond that, for a
    # timeout that does not end.
    step train $((cap + 65)) bash -c 'timeout --preserve-status -s INT -k 60 "$@"; rc=$?; [ "$rc" = 130 ] && exit 0; exit "$rc"' \
      capped "$cap" "$node" "$app/train.mjs" "${args[@]}"
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
    step eval $kEvalS "$node" "$app/eval.mjs" --model "$m" --dataset "$dataset" --crops detected --backend webgpu --csv "$out/"
  fi
fi

if wants pnp && fits pnp $kPnpMinS; then
  # The CPU peers take seconds a call from B = 10^4 and minutes at 10^6: every implementation at one size, the WGSL
  # kernels alone at every size.
  step pnp $kPnpS bash -c 'q=(); [ "$6" = 1 ] && q=(--quick); "$1" "$2/bench-pnp.mjs" "${q[@]}" --B "$5" --n 8 --out "$3/"; a=$?; "$1" "$2/bench-pnp.mjs" "${q[@]}" --B "$4" --n 8 --impls wgsl --out "$3/"; b=$?; exit $((a || b))' \
    pnp "$node" "$app" "$work/bench" "$pnp_b" "$pnp_all_b" "$quick"
  collect_bench
fi

if wants train-bench && fits train-bench $kTrainBenchMinS; then
  # PyTorch's peer where this python3 imports torch; else bench:train without it, which keeps the webgpu row (given
  # --python, bench:train refuses a Python without torch as a usage error, and would measure nothing).
  if torch=$(timeout 60 python3 -c 'import torch; print(torch.__version__)' 2>/dev/null) && [ -n "$torch" ]; then
    torch_args=(--torch-device auto --python "$(command -v python3)")
    say "train-bench: PyTorch $torch in $(command -v python3) is the webgpu row's peer"
  else
    torch_args=(--no-torch)
    say "train-bench: $(command -v python3 >/dev/null && echo "$(command -v python3) cannot import torch" || echo 'no python3') here: bench:train runs with --no-torch, its webgpu row without the PyTorch peer"
  fi
  if [ "$quick" = 1 ]; then bench_steps=(--steps 1 --warmup 0); else bench_steps=(--steps 20 --warmup 3); fi
  step train-bench $kTrainBenchS "$node" "$app/bench-train.mjs" --configs "$config" --backends webgpu "${bench_steps[@]}" "${torch_args[@]}" --out "$work/bench/"
  collect_bench
fi

status=0
skipped=()
for s in "${kOrder[@]}"; do
  wants "$s" || continue
  say "summary: $s ${result[$s]:-FAILED}"
  case ${result[$s]:-FAILED} in
    passed) ;;
    SKIPPED) skipped+=("$s") ;;
    *) status=1 ;;
  esac
done
if [ $status != 0 ]; then verdict='FAILED: some steps failed (above)'
elif [ ${#skipped[@]} -gt 0 ]; then verdict="no step failed; skipped for time: ${skipped[*]}"
else verdict='all steps passed'
fi
say "$verdict in $SECONDS s; results in $out: $(ls "$out" | tr '\n' ' ')"
exit $status
