#!/bin/sh
# The mosquitto container's command (compose.yaml): copy the certificates to where the
# broker's own user can read them, then run the broker. mosquitto 2 loads certificates
# after dropping root, and the mounted key may be readable by root only (a bureau's
# folder) or by another user (the brightwatch image's `certs` job); a copy owned by
# mosquitto, mode 0600, works with both. Restart the container after renewing them.
set -eu
src=${CERTS_SRC:-/certs}
dst=${CERTS_DST:-/mosquitto/tls}
owner=${CERTS_OWNER:-mosquitto}
mkdir -p "$dst"
for name in ca.crt server.crt server.key; do
  if [ ! -r "$src/$name" ]; then
    echo "start.sh: $src/$name is missing or unreadable (run the certs job, or supply it)" >&2
    exit 1
  fi
  cp "$src/$name" "$dst/$name.new"
  chown "$owner" "$dst/$name.new"
  chmod 0600 "$dst/$name.new"
  mv -f "$dst/$name.new" "$dst/$name"
done
chown "$owner" "$dst"
chmod 0700 "$dst"
exec "$@"
