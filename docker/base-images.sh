#!/usr/bin/env bash
# Build hop3's local Docker base images (no container registry needed).
#
#   hop3/base-runtime:bookworm  debootstrap minbase + python3 + python3-venv + nodejs
#   hop3/base-build:bookworm    base-runtime + npm (no compiler)
#   hop3/base-go:bookworm       base-runtime + golang-go (no C compiler: Go builds with CGO_ENABLED=0)
#   hop3/base-busybox:latest    FROM scratch + static busybox and its applet symlinks
#   hop3/swarm-node:bookworm    base-runtime + docker.io: a Docker Engine to run privileged, as one node of a test swarm
#
# Existing images are reused. Images are imported through the Engine API
# (curl on the socket), so no particular docker CLI version is required.
#
#   bash docker/base-images.sh           build the missing images
#   bash docker/base-images.sh --check   exit 0 iff all images exist (no output)
#   HOP3_REBUILD_BASE_IMAGES=1 ...        rebuild even if present
#   HOP3_DEBIAN_MIRROR=http://...         override the mirror (default: from apt config)
set -euo pipefail

export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
if [ "$(id -u)" -eq 0 ]; then SUDO=(); else SUDO=(sudo); fi
as_root() { "${SUDO[@]}" "$@"; }
step() { echo "[base-images] $*"; }
die() { echo "[base-images] ERROR: $*" >&2; exit 1; }

DOCKER_SOCK=/var/run/docker.sock
API=http://localhost/v1.41
SUITE=bookworm
RUNTIME_IMAGE=hop3/base-runtime:bookworm
BUILD_IMAGE=hop3/base-build:bookworm
BUSYBOX_IMAGE=hop3/base-busybox:latest
GO_IMAGE=hop3/base-go:bookworm
SWARM_NODE_IMAGE=hop3/swarm-node:bookworm
DEB_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
BB_PATH=/usr/sbin:/usr/bin:/sbin:/bin

image_exists() { # name:tag
  local code
  code="$(as_root curl -s -o /dev/null -w '%{http_code}' --unix-socket "$DOCKER_SOCK" "$API/images/$1/json" || true)"
  [ "$code" = 200 ]
}

need() { # name:tag -> true when it must be built
  [ "${HOP3_REBUILD_BASE_IMAGES:-0}" = 1 ] || ! image_exists "$1"
}

if [ "${1:-}" = "--check" ]; then
  for img in "$RUNTIME_IMAGE" "$BUILD_IMAGE" "$GO_IMAGE" "$BUSYBOX_IMAGE" "$SWARM_NODE_IMAGE"; do
    need "$img" && exit 1
  done
  exit 0
fi

[ "$(as_root curl -s --max-time 3 --unix-socket "$DOCKER_SOCK" http://localhost/_ping 2>/dev/null)" = OK ] \
  || die "Docker Engine not reachable on $DOCKER_SOCK (run scripts/setup-engines.sh)"

urlencode() { # pure bash, RFC 3986 unreserved chars kept
  local LC_ALL=C s="$1" out="" c i
  for ((i = 0; i < ${#s}; i++)); do
    c="${s:i:1}"
    case "$c" in
      [a-zA-Z0-9.~_-]) out+="$c" ;;
      *) printf -v c '%%%02X' "'$c"; out+="$c" ;;
    esac
  done
  printf '%s' "$out"
}

# import_tar NAME:TAG CHANGE... < rootfs.tar
import_tar() {
  local ref="$1"; shift
  local repo="${ref%:*}" tag="${ref##*:}" q c out
  q="fromSrc=-&repo=$(urlencode "$repo")&tag=$(urlencode "$tag")"
  for c in "$@"; do q="$q&changes=$(urlencode "$c")"; done
  out="$(as_root curl -sS --fail --unix-socket "$DOCKER_SOCK" -X POST \
    -H 'Content-Type: application/x-tar' -T - "$API/images/create?$q")" \
    || die "import of $ref failed: $out"
  case "$out" in *'"error'*) die "import of $ref failed: $out" ;; esac
  image_exists "$ref" || die "import of $ref did not produce the image: $out"
}

# engine_build NAME:TAG CONTEXT_DIR LOG: build CONTEXT_DIR/Dockerfile through the Engine API (no docker CLI needed)
engine_build() {
  local ref="$1" ctx="$2" log="$3" out
  out="$(as_root tar -C "$ctx" -c Dockerfile | as_root curl -sS --unix-socket "$DOCKER_SOCK" -X POST \
    -H 'Content-Type: application/x-tar' --data-binary @- "$API/build?t=$(urlencode "$ref")&rm=1&forcerm=1")" \
    || die "build of $ref failed: $out"
  printf '%s\n' "$out" > "$log"
  case "$out" in *'"errorDetail"'*) tail -n 20 "$log" >&2; die "build of $ref failed (log: $log)" ;; esac
  image_exists "$ref" || die "build of $ref did not produce the image (log: $log)"
}

# Mirror that apt uses for the main bookworm suite (deb822 .sources or sources.list).
detect_mirror() {
  if [ -n "${HOP3_DEBIAN_MIRROR:-}" ]; then echo "$HOP3_DEBIAN_MIRROR"; return; fi
  local m="" f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    m="$(awk -v suite="$SUITE" '
      function flush() { if (uris != "" && enabled && (" " suites " ") ~ (" " suite " ") && types ~ /(^| )deb( |$)/) { split(uris, u, " "); print u[1]; found=1; exit } uris=""; suites=""; types=""; enabled=1 }
      BEGIN { enabled=1 }
      /^[[:space:]]*$/ { flush(); next }
      /^[[:space:]]*#/ { next }
      tolower($1) == "uris:"   { $1=""; uris=$0 }
      tolower($1) == "suites:" { $1=""; suites=$0 }
      tolower($1) == "types:"  { $1=""; types=$0 }
      tolower($1) == "enabled:" { enabled = (tolower($2) != "no") }
      END { if (!found) flush() }' "$f")"
    [ -n "$m" ] && { echo "$m"; return; }
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    m="$(awk -v suite="$SUITE" '
      $1 == "deb" { i=2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ } if ($(i+1) == suite) { print $i; exit } }' "$f")"
    [ -n "$m" ] && { echo "$m"; return; }
  done
  echo http://deb.debian.org/debian
}

WORK=""
cleanup() {
  [ -n "$WORK" ] || return 0
  # unmount anything below the work dir (deepest first) before deleting it
  local mnts
  mnts="$(findmnt -rn -o TARGET | awk -v w="$WORK" 'index($0, w "/") == 1' | sort -r || true)"
  if [ -n "$mnts" ]; then
    echo "$mnts" | while read -r m; do as_root umount -l "$m" || true; done
  fi
  if findmnt -rn -o TARGET | awk -v w="$WORK" 'index($0, w "/") == 1 { f=1 } END { exit !f }'; then
    echo "[base-images] WARNING: mounts remain below $WORK, not deleting it" >&2
  else
    as_root rm -rf --one-file-system "$WORK"
  fi
}
trap cleanup EXIT

# tar a rootfs to stdout, without caches, apt lists, docs and device nodes
tar_rootfs() {
  as_root tar -C "$1" --numeric-owner --anchored \
    --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' --exclude='./run/*' \
    --exclude='./tmp/*' --exclude='./var/tmp/*' \
    --exclude='./var/cache/apt/*.bin' --exclude='./var/cache/apt/archives/*.deb' \
    --exclude='./var/cache/apt/archives/partial/*' --exclude='./var/lib/apt/lists/*' \
    --exclude='./usr/share/doc/*' --exclude='./usr/share/man/*' --exclude='./usr/share/info/*' \
    --exclude='./var/log/apt/*' --exclude='./var/log/dpkg.log' --exclude='./var/log/alternatives.log' \
    --exclude='./var/log/bootstrap.log' \
    -c .
}

check_no_compiler() { # rootfs label
  local c
  c="$(as_root chroot "$1" /bin/sh -c 'for c in gcc cc g++ c++ clang; do command -v $c; done' || true)"
  [ -z "$c" ] || die "$2 unexpectedly contains a compiler: $c"
}

# ---------------------------------------------------------------------------
# debootstrap images
# ---------------------------------------------------------------------------
if need "$RUNTIME_IMAGE" || need "$BUILD_IMAGE"; then
  command -v debootstrap >/dev/null || die "debootstrap not installed"
  WORK="$(as_root mktemp -d /var/tmp/hop3-base-images.XXXXXX)"
  ROOTFS="$WORK/rootfs"
  MIRROR="$(detect_mirror)"
  step "debootstrap --variant=minbase $SUITE from $MIRROR (log: /tmp/hop3-debootstrap.log)"
  as_root debootstrap --variant=minbase --include=python3,python3-venv,nodejs \
    "$SUITE" "$ROOTFS" "$MIRROR" > "/tmp/hop3-debootstrap.log" 2>&1 \
    || { tail -n 30 /tmp/hop3-debootstrap.log >&2; die "debootstrap failed (full log: /tmp/hop3-debootstrap.log)"; }

  # Don't start services inside the chroot; docker provides resolv.conf/hostname.
  printf '#!/bin/sh\nexit 101\n' | as_root tee "$ROOTFS/usr/sbin/policy-rc.d" >/dev/null
  as_root chmod 755 "$ROOTFS/usr/sbin/policy-rc.d"
  as_root chroot "$ROOTFS" apt-get clean
  as_root sh -c ": > '$ROOTFS/etc/resolv.conf'; echo localhost > '$ROOTFS/etc/hostname'"

  # sanity: python3 + venv (offline ensurepip) + node, and no compiler
  as_root chroot "$ROOTFS" /bin/sh -c \
    'python3 -m venv /tmp/hop3-venv-check && /tmp/hop3-venv-check/bin/pip --version >/dev/null && rm -rf /tmp/hop3-venv-check && node -e "process.exit(0)"' \
    || die "base-runtime rootfs sanity check failed (python3 venv / node)"
  check_no_compiler "$ROOTFS" "$RUNTIME_IMAGE"

  DEB_CHANGES=("LABEL io.hop3.base=1" "ENV PATH=$DEB_PATH" "ENV LANG=C.UTF-8" 'CMD ["/bin/bash"]')

  if need "$RUNTIME_IMAGE"; then
    step "importing $RUNTIME_IMAGE"
    as_root rm -f "$ROOTFS/usr/sbin/policy-rc.d"
    tar_rootfs "$ROOTFS" | import_tar "$RUNTIME_IMAGE" "${DEB_CHANGES[@]}"
  fi

  if need "$BUILD_IMAGE"; then
    step "installing npm in the chroot (--no-install-recommends)"
    printf '#!/bin/sh\nexit 101\n' | as_root tee "$ROOTFS/usr/sbin/policy-rc.d" >/dev/null
    as_root chmod 755 "$ROOTFS/usr/sbin/policy-rc.d"
    as_root cp /etc/resolv.conf "$ROOTFS/etc/resolv.conf"
    as_root mount -t proc proc "$ROOTFS/proc"
    as_root mount -t devpts -o newinstance,ptmxmode=0666 devpts "$ROOTFS/dev/pts"
    # npm Recommends git, node-tap; node-gyp Recommends build-essential (gcc, g++, make).
    # --no-install-recommends keeps the build image compiler-free (~350 packages instead of ~630).
    as_root chroot "$ROOTFS" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends npm \
      > /tmp/hop3-chroot-npm.log 2>&1 \
      || { tail -n 30 /tmp/hop3-chroot-npm.log >&2; die "apt-get install npm in chroot failed (log: /tmp/hop3-chroot-npm.log)"; }
    as_root chroot "$ROOTFS" apt-get clean
    as_root umount "$ROOTFS/dev/pts"
    as_root umount "$ROOTFS/proc"
    as_root sh -c "rm -rf '$ROOTFS'/var/lib/apt/lists/* '$ROOTFS/usr/sbin/policy-rc.d'; : > '$ROOTFS/etc/resolv.conf'"
    as_root chroot "$ROOTFS" /bin/sh -c 'npm --version >/dev/null' || die "npm does not run in the build rootfs"
    check_no_compiler "$ROOTFS" "$BUILD_IMAGE"
    step "importing $BUILD_IMAGE"
    tar_rootfs "$ROOTFS" | import_tar "$BUILD_IMAGE" "${DEB_CHANGES[@]}"
  fi
fi

# ---------------------------------------------------------------------------
# Go build image: a `docker build` from base-runtime (apt works inside containers), through the Engine API
# ---------------------------------------------------------------------------
if need "$GO_IMAGE"; then
  step "building $GO_IMAGE from $RUNTIME_IMAGE + golang-go (log: /tmp/hop3-base-go.log)"
  [ -n "$WORK" ] || WORK="$(as_root mktemp -d /var/tmp/hop3-base-images.XXXXXX)"
  GO_CTX="$WORK/go-context"
  as_root mkdir -p "$GO_CTX"
  # --no-install-recommends leaves out gcc/g++: the image builds pure-Go binaries (hop3's go template sets CGO_ENABLED=0).
  as_root tee "$GO_CTX/Dockerfile" >/dev/null <<DOCKERFILE
FROM $RUNTIME_IMAGE
RUN apt-get update -q \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends golang-go ca-certificates \\
 && apt-get clean && rm -rf /var/lib/apt/lists/* \\
 && CGO_ENABLED=0 go version
DOCKERFILE
  engine_build "$GO_IMAGE" "$GO_CTX" /tmp/hop3-base-go.log
fi

# ---------------------------------------------------------------------------
# Swarm node image (docker-in-docker, for the multi-node swarm test): Debian's docker.io on base-runtime
# ---------------------------------------------------------------------------
if need "$SWARM_NODE_IMAGE"; then
  step "building $SWARM_NODE_IMAGE from $RUNTIME_IMAGE + docker.io (log: /tmp/hop3-swarm-node.log)"
  [ -n "$WORK" ] || WORK="$(as_root mktemp -d /var/tmp/hop3-base-images.XXXXXX)"
  NODE_CTX="$WORK/swarm-node-context"
  as_root mkdir -p "$NODE_CTX"
  # The engine listens on its socket and, unauthenticated, on tcp 2375 of its own network only (a test network).
  as_root tee "$NODE_CTX/Dockerfile" >/dev/null <<DOCKERFILE
FROM $RUNTIME_IMAGE
RUN apt-get update -q \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends docker.io iptables ca-certificates \\
 && apt-get clean && rm -rf /var/lib/apt/lists/* \\
 && dockerd --version
LABEL io.hop3.base=1
VOLUME /var/lib/docker
EXPOSE 2375
CMD ["dockerd", "--host=unix:///var/run/docker.sock", "--host=tcp://0.0.0.0:2375", "--tls=false"]
DOCKERFILE
  engine_build "$SWARM_NODE_IMAGE" "$NODE_CTX" /tmp/hop3-swarm-node.log
fi

# ---------------------------------------------------------------------------
# busybox image
# ---------------------------------------------------------------------------
if need "$BUSYBOX_IMAGE"; then
  [ -x /bin/busybox ] || die "/bin/busybox missing (apt-get install busybox-static)"
  step "building $BUSYBOX_IMAGE from /bin/busybox"
  [ -n "$WORK" ] || WORK="$(as_root mktemp -d /var/tmp/hop3-base-images.XXXXXX)"
  BB="$WORK/busybox"
  as_root mkdir -p "$BB"/{bin,sbin,usr/bin,usr/sbin,etc,root,www,var/www,tmp,proc,sys,dev}
  as_root chmod 1777 "$BB/tmp"
  as_root cp /bin/busybox "$BB/bin/busybox"
  # fails if /bin/busybox is the dynamically linked one (package "busybox")
  as_root chroot "$BB" /bin/busybox true 2>/dev/null \
    || die "/bin/busybox is not statically linked; install busybox-static"
  # applet symlinks at their canonical paths (/bin/sh, /usr/bin/env, /usr/sbin/httpd, ...)
  as_root chroot "$BB" /bin/busybox --install -s
  as_root sh -c "printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > '$BB/etc/passwd'
                 printf 'root:x:0:\nnogroup:x:65534:\n' > '$BB/etc/group'"
  as_root tar -C "$BB" --numeric-owner -c . \
    | import_tar "$BUSYBOX_IMAGE" "LABEL io.hop3.base=1" "ENV PATH=$BB_PATH" 'CMD ["/bin/sh"]'
fi
