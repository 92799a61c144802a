#!/usr/bin/env bash
# Builds, in the repository root, what a run of `bench gpu` on a lent GPU machine needs (that
# machine has no Node.js and no network): .gpu/ (node, xz-compressed; dawn.node of the `webgpu`
# package, compressed; the benchmark bundled into one file with esbuild next to a minimal
# node_modules/webgpu; a prelude that unpacks them) and .gl/ (Debian's Vulkan/EGL loader
# packages). Both folders are added to git's info/exclude. See sim/gpu/README.md for the run.
# Usage: sim/gpu/device-kit.sh   (then carry .gpu and .gl; about 12 MB together)
set -euo pipefail
root=$(git rev-parse --show-toplevel)
cd "$root"
exclude=$(git rev-parse --git-path info/exclude)
mkdir -p "$(dirname "$exclude")"
for d in /.gpu/ /.gl/; do grep -qxF "$d" "$exclude" 2>/dev/null || echo "$d" >>"$exclude"; done
rm -rf .gpu && mkdir -p .gpu .gl
xz -9 -T0 -c "$(readlink -f "$(command -v node)")" >.gpu/node.xz
w=node_modules/webgpu
mkdir -p .gpu/node_modules/webgpu/dist/linux-x64
cp "$w/package.json" "$w/index.js" .gpu/node_modules/webgpu/
xz -9 -T0 -c "$w/dist/linux-x64/dawn.node" >.gpu/dawn.node.xz
# the benchmark as one ES module (webgpu stays external: it loads dawn.node from its folder)
npx esbuild bench/gpu.ts --bundle --platform=node --format=esm --external:webgpu \
  --external:@tensorflow/tfjs-node --external:@tensorflow/tfjs-node-gpu --loader:.wasm=file \
  --banner:js="import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" \
  --outdir=.gpu --entry-names=bench-gpu --out-extension:.js=.mjs --log-level=error
if ! ls .gl/*.deb >/dev/null 2>&1; then
  lists=$(mktemp -d)
  trap 'rm -rf "$lists"' EXIT
  mkdir -p "$lists/partial"
  o="-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=$lists"
  # shellcheck disable=SC2086
  apt-get $o update -qq
  # shellcheck disable=SC2086
  (cd .gl && apt-get $o download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2 >/dev/null)
fi
cat >.gpu/prelude.sh <<'PRELUDE'
# Sourced first on the device machine, from the repository root: installs the carried loaders,
# unpacks node to /tmp/node and dawn.node next to the bundle's webgpu package, prints the GPU.
for f in .gl/*.deb; do dpkg -x "$f" /; done
ldconfig
xz -dc .gpu/node.xz >/tmp/node && chmod +x /tmp/node
xz -dc .gpu/dawn.node.xz >.gpu/node_modules/webgpu/dist/linux-x64/dawn.node
export XDG_RUNTIME_DIR=/tmp
# the NVIDIA Vulkan driver is found by default; if no adapter is found, try:
# export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
nvidia-smi -L 2>/dev/null || true
echo "node $(/tmp/node --version) ready at /tmp/node"
PRELUDE
du -sh .gpu .gl
echo 'device command: source .gpu/prelude.sh; cd .gpu && /tmp/node bench-gpu.mjs --full --no-cpu | tee $OUT/bench-gpu-full.json'
