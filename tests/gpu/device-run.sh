#!/bin/bash
# Runs, on the GPU machine, what tests/gpu/device-pack.sh packed on a build machine:
#
#   bash tests/gpu/device-run.sh [info|suite|cli|sanitize|bench|bench-quick|all]...   (default: all)
#
# from the repository root, with the pack at $LUCY_DEVICE_PACK (default .device). info: the GPU
# and `lucy-cli info --devices`; suite: the gpu suite (test-gpu, then every convolution and
# deconvolution check of the core suite on the CUDA device); cli: the cli suite, whose CUDA
# planner checks switch from the no-driver work-area bound to ranges when it sees a GPU;
# sanitize: test-gpu under compute-sanitizer memcheck; bench: tests/bench/bench_gpu.py.
# Each step's log goes to $OUT (the device tool's folder that comes back) or /tmp/lucy-device;
# the exit status is the number of steps that failed. One device call runs at most 10 minutes:
# run "info suite", then "cli sanitize", then "bench" as separate calls (each step has its own
# timeout inside that).
set -uo pipefail
pack=$(realpath "${LUCY_DEVICE_PACK:-.device}")
out=${OUT:-/tmp/lucy-device}
mkdir -p "$out"
[ -x "$pack/build/tests/test-gpu" ] || { echo "no pack at $pack: run tests/gpu/device-pack.sh first"; exit 2; }

# Keep in the pack only the libraries this machine lacks: its own are built for it.
for f in "$pack"/lib/*; do
  [ -e "$f" ] && ldconfig -p | grep -q "^[[:space:]]*$(basename "$f") " && rm -f "$f"
done
cufft=$(ldconfig -p | awk '/libcufft\.so\.12 /{print $NF; exit}')
[ -n "$cufft" ] || cufft=$(find /usr/local/cuda*/lib64 /usr/local/cuda*/targets /opt /usr/lib \
  -name 'libcufft.so.12*' 2>/dev/null | head -1)
export LD_LIBRARY_PATH="$pack/lib${cufft:+:$(dirname "$cufft")}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export LUCY_CUDA_MODULE="$pack/build/core/lucy-cuda.so" LUCY_CLI="$pack/build/app/lucy-cli"
export LUCY_FIXTURES="$PWD/tests/fixtures" LUCY_SHARED_DATA="$pack/data"
export XDG_CACHE_HOME=/tmp/lucy-cache G_DEBUG=fatal-criticals PYTHONUNBUFFERED=1
bin=$pack/build/tests
failed=0

step() { # name, command...: runs it with its output in $out/name.log and on stdout
  local name=$1
  shift
  echo "=== $name: $*"
  local t0=$SECONDS
  "$@" 2>&1 | tee "$out/$name.log"
  local rc=${PIPESTATUS[0]}
  echo "=== $name: exit $rc after $((SECONDS - t0)) s"
  [ "$rc" = 0 ] || [ "$rc" = 77 ] || failed=$((failed + 1))
}

# the GPU image keeps numpy and CuPy in its venv; here, Debian's python3 has numpy
python=$(command -v /opt/torch/.venv/bin/python3 /usr/bin/python3 python3 | head -1)
for what in "${@:-all}"; do
  case $what in
  info | all)
    step info sh -c "nvidia-smi; echo cufft: ${cufft:-not found}; \"$LUCY_CLI\" info --devices" ;;&
  suite | all)
    step gpu timeout 200 "$bin/test-gpu"
    step convolve-cuda env LUCY_TEST_DEVICE=cuda timeout 120 "$bin/test-convolve"
    step deconvolve-cuda env LUCY_TEST_DEVICE=cuda timeout 240 "$bin/test-deconvolve" ;;&
  cli | all)
    step cli timeout 300 "$bin/test-cli" ;;&
  sanitize | all)
    sanitizer=$(command -v compute-sanitizer || ls /usr/local/cuda*/bin/compute-sanitizer \
      /usr/local/cuda*/compute-sanitizer/compute-sanitizer 2>/dev/null | head -1)
    step sanitize timeout 580 "${sanitizer:-compute-sanitizer}" --tool memcheck --leak-check full \
      --error-exitcode 1 "$bin/test-gpu" ;;&
  bench | all)
    step bench timeout 580 "$python" tests/bench/bench_gpu.py --build "$pack/build" --no-build ;;
  bench-quick)
    step bench timeout 580 "$python" tests/bench/bench_gpu.py --build "$pack/build" --no-build \
      --quick ;;
  info | suite | cli | sanitize) ;;
  *) echo "unknown step '$what' (info, suite, cli, sanitize, bench, bench-quick, all)"; exit 2 ;;
  esac
done
echo "$failed step(s) failed; logs in $out"
exit "$failed"
