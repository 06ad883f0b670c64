#!/usr/bin/env bash
# Test fixture: make sure the podman image of an "Agent host" exists.
# Debian bookworm with systemd as PID 1 (debootstrap, no registry needed), python3 and
# PyYAML for Ansible modules. The rootfs tarball is cached, so only the first run pays
# for debootstrap (~50 s); later runs import it (~5 s) or find the image (0 s).
# Usage: image.sh CACHE_DIR  -> prints the image name
set -euo pipefail
CACHE="${1:?cache dir}"
PACKAGES="python3,python3-yaml,systemd-sysv,dbus"
TAG="$(printf '%s' "bookworm:$PACKAGES:v1" | sha256sum | cut -c1-12)"
IMAGE="localhost/dd-privatelink-agent-host:$TAG"
PODMAN=(podman --cgroup-manager=cgroupfs --runtime runc)
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"

mkdir -p "$CACHE"
exec 9>"$CACHE/image.lock" && flock 9  # ./dev test builds it ahead in another lane: one build at a time
if "${PODMAN[@]}" image exists "$IMAGE"; then echo "$IMAGE"; exit 0; fi
TARBALL="$CACHE/rootfs-$TAG.tar"
if [ ! -s "$TARBALL" ]; then
  ROOTFS="$(mktemp -d "$CACHE/rootfs.XXXXXX")"
  trap 'rm -rf "$ROOTFS"' EXIT
  echo "debootstrap bookworm into $ROOTFS (first run only)" >&2
  debootstrap --variant=minbase --include="$PACKAGES" bookworm "$ROOTFS" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 \
    || { tail -20 "$CACHE/debootstrap.log" >&2; exit 1; }
  # Smaller and quieter systemd: no getty, no apt caches.
  rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/*
  ln -sf /dev/null "$ROOTFS/etc/systemd/system/getty.target"
  tar -C "$ROOTFS" -cf "$TARBALL.part" . && mv "$TARBALL.part" "$TARBALL"
fi
"${PODMAN[@]}" import --change 'CMD ["/sbin/init"]' "$TARBALL" "$IMAGE" >/dev/null
echo "$IMAGE"
