#!/bin/bash
# Packs, on a build machine, what the GPU machine needs to run the gpu suite and the GPU
# benchmark from this build. That machine has the NVIDIA driver, CUDA (cuFFT) and CuPy but not
# Debian's FFTW, libtiff, GLib or cairo, and no ../shared beside the checkout.
#
#   tests/gpu/device-pack.sh [BUILD] [DEST]        defaults: build .device
#
# BUILD must be configured with -Dcuda=enabled (or auto, with nvcc found). DEST/build mirrors
# BUILD's layout for the programs used there, so their $ORIGIN/../core run paths still hold;
# DEST/lib has every shared library they load except the C runtime and CUDA's cuFFT and driver
# (tests/gpu/device-run.sh drops from it whatever the GPU machine has itself); DEST/data has the
# bars stack the deconvolution tests read. Then, e.g. with this workplace's device tool:
#   run(command="bash tests/gpu/device-run.sh all", carry=[".device"])
set -euo pipefail
build=${1:-build}
dest=${2:-.device}
progs=(tests/test-gpu tests/test-convolve tests/test-deconvolve tests/test-cli app/lucy-cli
       tests/bench/bench-gpu)

ninja -C "$build" "${progs[@]}" core/lucy-cuda.so >/dev/null
rm -rf "$dest"
mkdir -p "$dest/lib" "$dest/data/real"
for p in "${progs[@]}" core/liblucy.so.0 core/lucy-cuda.so; do
  mkdir -p "$dest/build/$(dirname "$p")"
  cp -L "$build/$p" "$dest/build/$p"
done

# The C runtime and the GPU's own libraries come from the GPU machine: its driver must match
# its libcuda, and cuFFT (~270 MB) is too large to carry.
skip='^(linux-vdso|ld-linux|libc|libm|libdl|libpthread|librt|libgcc_s|libstdc\+\+|libcuda|libcufft)\.'
for p in "${progs[@]}" core/lucy-cuda.so; do
  ldd "$dest/build/$p" | awk '$2 == "=>" && $3 ~ /^\// {print $1, $3}'
done | sort -u | while read -r soname path; do
  [[ $soname =~ $skip ]] || [[ $path == "$(realpath "$dest")"/* ]] || cp -L "$path" "$dest/lib/$soname"
done

data=${LUCY_SHARED_DATA:-$(dirname "$(realpath .)")/shared/data}
if [ -d "$data/real" ]; then
  cp "$data"/real/bars-*.tif "$dest/data/real/"
else
  echo "note: no $data/real: the bars tests will be skipped there" >&2
fi
du -sh "$dest" | awk '{print "packed " $1 " in '"$dest"'"}'
ls "$dest/lib" | tr '\n' ' '
echo
