#!/usr/bin/env bash
# Idempotent engine setup for hop3 tests (Debian bookworm).
#
#   * installs docker.io, nix-bin, debootstrap, busybox-static, nginx-light, wrk, golang-go, docker-registry, openssh-client when missing
#   * makes sure /etc/nix/nix.conf has `sandbox = false` and
#     `experimental-features = nix-command flakes`, and that nix-build works
#   * starts dockerd in the background when the Engine API does not answer
#   * builds the local base images (docker/base-images.sh) when absent
#
# Quiet when everything is already in place; prints one line per step it
# actually performs. Runs as root, uses sudo otherwise.
#
# Environment knobs (all optional):
#   HOP3_DOCKERD_FLAGS     extra flags for dockerd (disables the fallback ladder)
#   HOP3_DOCKERD_TIMEOUT   seconds to wait for dockerd readiness (default 60)
#   HOP3_ENGINES_SMOKE=1   force the container port-publish smoke test
#   HOP3_SMOKE_PORT        host port for the smoke test (default 18999)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
export DEBIAN_FRONTEND=noninteractive

if [ "$(id -u)" -eq 0 ]; then SUDO=(); else SUDO=(sudo); fi

DOCKER_SOCK=/var/run/docker.sock
DOCKERD_LOG=/var/log/hop3-dockerd.log
APT_LOG=/var/log/hop3-setup-apt.log
NIX_DAEMON_LOG=/var/log/hop3-nix-daemon.log
DOCKERD_TIMEOUT="${HOP3_DOCKERD_TIMEOUT:-60}"
SMOKE_PORT="${HOP3_SMOKE_PORT:-18999}"

step() { echo "[setup-engines] $*"; }
die() { echo "[setup-engines] ERROR: $*" >&2; exit 1; }
as_root() { "${SUDO[@]}" "$@"; }

# Serialise concurrent runs (e.g. two test processes starting at once).
# `flock -o` holds the lock in the flock process only, so daemons started
# below (dockerd, nix-daemon) do not inherit the lock fd and keep it forever.
LOCK="${TMPDIR:-/tmp}/hop3-setup-engines.v2.lock"
if [ "${HOP3_SETUP_ENGINES_LOCKED:-}" != "$PPID" ] && command -v flock >/dev/null 2>&1; then
  # after exec, flock keeps our pid and becomes the parent of the re-run script
  HOP3_SETUP_ENGINES_LOCKED="$$" exec flock -o -w 1800 "$LOCK" bash "${BASH_SOURCE[0]}" "$@"
fi
unset HOP3_SETUP_ENGINES_LOCKED

DID_SOMETHING=0

# ---------------------------------------------------------------------------
# 1. packages
# ---------------------------------------------------------------------------
missing_packages() {
  local -a pkgs=()
  command -v dockerd >/dev/null 2>&1 || pkgs+=(docker.io)
  command -v nix-build >/dev/null 2>&1 || pkgs+=(nix-bin)
  command -v debootstrap >/dev/null 2>&1 || pkgs+=(debootstrap)
  # the dynamically linked "busybox" package also has /bin/busybox, but cannot run FROM scratch
  dpkg -s busybox-static >/dev/null 2>&1 || pkgs+=(busybox-static)
  command -v curl >/dev/null 2>&1 || pkgs+=(curl)
  # ssh-keygen and ssh-agent, for the DOCKER_HOST=ssh:// test (its SSH server is in the test itself)
  command -v ssh-agent >/dev/null 2>&1 || pkgs+=(openssh-client)
  # the router for zero-downtime swaps (hop3 runs its own nginx master; no system service) and the load generator
  command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || pkgs+=(nginx-light)
  command -v wrk >/dev/null 2>&1 || pkgs+=(wrk)
  # Go apps with the local builder (the docker builder uses hop3/base-go, built by docker/base-images.sh)
  command -v go >/dev/null 2>&1 || pkgs+=(golang-go)
  # host tools fixtures/nixpkgs-mini wraps for the nix tests of [build] packages and [run] packages
  command -v jq >/dev/null 2>&1 || pkgs+=(jq)
  command -v bc >/dev/null 2>&1 || pkgs+=(bc)
  # a real registry for the push/pull tests (test/helpers/local-registry.ts starts its own on 127.0.0.1; no service is used)
  [ -x /usr/bin/docker-registry ] || pkgs+=(docker-registry)
  # a throwaway CA for the docker network test (issue #14: no final image may hold it)
  command -v openssl >/dev/null 2>&1 || pkgs+=(openssl)
  echo "${pkgs[*]:-}"
}

wait_for_apt() {
  local waited=0
  while pgrep -x apt-get >/dev/null 2>&1 || pgrep -x apt >/dev/null 2>&1 || pgrep -x dpkg >/dev/null 2>&1; do
    [ "$waited" -eq 0 ] && step "waiting for a running apt-get/dpkg to finish"
    sleep 2
    waited=$((waited + 2))
    [ "$waited" -lt 900 ] || die "apt-get/dpkg still running after 15 min"
  done
}

PKGS="$(missing_packages)"
if [ -n "$PKGS" ]; then
  wait_for_apt
  PKGS="$(missing_packages)" # the other apt run may have installed them
fi
if [ -n "$PKGS" ]; then
  step "apt-get update (log: $APT_LOG)"
  as_root touch "$APT_LOG"
  as_root apt-get update -q 2>&1 | as_root tee -a "$APT_LOG" >/dev/null \
    || { as_root tail -n 20 "$APT_LOG" >&2; die "apt-get update failed"; }
  step "apt-get install -y $PKGS"
  # shellcheck disable=SC2086
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=600 $PKGS 2>&1 \
    | as_root tee -a "$APT_LOG" >/dev/null \
    || { as_root tail -n 30 "$APT_LOG" >&2; die "apt-get install failed"; }
  PKGS="$(missing_packages)"
  [ -z "$PKGS" ] || die "still missing after apt-get install: $PKGS"
  DID_SOMETHING=1
fi

# ---------------------------------------------------------------------------
# 2. nix
# ---------------------------------------------------------------------------
NIX_CONF="${HOP3_NIX_CONF:-/etc/nix/nix.conf}"
if [ ! -f "$NIX_CONF" ]; then
  step "creating $NIX_CONF"
  as_root mkdir -p "$(dirname "$NIX_CONF")"
  as_root touch "$NIX_CONF"
fi
append_nix_conf() { # make sure the file ends with a newline before appending
  if [ -s "$NIX_CONF" ] && [ -n "$(tail -c 1 "$NIX_CONF")" ]; then echo | as_root tee -a "$NIX_CONF" >/dev/null; fi
  echo "$1" | as_root tee -a "$NIX_CONF" >/dev/null
}
# sandbox = false (replace an explicit true/relaxed; otherwise append)
if ! grep -Eq '^[[:space:]]*sandbox[[:space:]]*=[[:space:]]*false[[:space:]]*$' "$NIX_CONF"; then
  if grep -Eq '^[[:space:]]*sandbox[[:space:]]*=' "$NIX_CONF"; then
    step "nix.conf: setting sandbox = false"
    as_root sed -i -E 's/^[[:space:]]*sandbox[[:space:]]*=.*/sandbox = false/' "$NIX_CONF"
  else
    step "nix.conf: adding sandbox = false"
    append_nix_conf 'sandbox = false'
  fi
fi
# experimental-features must include nix-command and flakes (keep any others)
EF_LINE="$(grep -E '^[[:space:]]*experimental-features[[:space:]]*=' "$NIX_CONF" | tail -n 1 || true)"
if [ -z "$EF_LINE" ]; then
  step "nix.conf: adding experimental-features = nix-command flakes"
  append_nix_conf 'experimental-features = nix-command flakes'
else
  EF_VALUE="${EF_LINE#*=}"
  EF_NEW="$EF_VALUE"
  for f in nix-command flakes; do
    case " $EF_NEW " in *" $f "*) ;; *) EF_NEW="$EF_NEW $f" ;; esac
  done
  if [ "$EF_NEW" != "$EF_VALUE" ]; then
    EF_NEW="$(echo $EF_NEW)" # squeeze whitespace
    step "nix.conf: experimental-features = $EF_NEW"
    as_root sed -i -E "s/^[[:space:]]*experimental-features[[:space:]]*=.*/experimental-features = $EF_NEW/" "$NIX_CONF"
  fi
fi

nix_smoke() {
  # Self-contained derivation (no nixpkgs, no network). --option substituters ''
  # avoids a ~5 s retry loop against cache.nixos.org on offline machines.
  (cd / && nix-build --no-out-link --option substituters '' -E \
    'derivation { name = "hop3-nix-smoke"; system = builtins.currentSystem; builder = "/bin/sh"; args = ["-c" "echo ok > $out"]; }') 2>&1
}

nix-build --version >/dev/null 2>&1 || die "nix-build --version fails"
if ! NIX_OUT="$(nix_smoke)"; then
  if [ "$(id -u)" -ne 0 ]; then
    # Non-root users go through the daemon ("auto" store picks the socket).
    if [ ! -S /nix/var/nix/daemon-socket/socket ]; then
      step "starting nix-daemon (log: $NIX_DAEMON_LOG)"
      as_root sh -c "setsid nohup nix-daemon >>'$NIX_DAEMON_LOG' 2>&1 </dev/null &"
      for _ in $(seq 1 20); do [ -S /nix/var/nix/daemon-socket/socket ] && break; sleep 0.5; done
    fi
    if ! id -nG | tr ' ' '\n' | grep -qx nix-users; then
      step "adding $(id -un) to group nix-users (effective on next login)"
      as_root usermod -aG nix-users "$(id -un)"
    fi
  else
    # Root uses the store directly; make sure the store skeleton is sane.
    step "repairing /nix ownership/permissions"
    as_root mkdir -p /nix/store /nix/var/nix
    as_root chown root:root /nix /nix/store /nix/var /nix/var/nix
    as_root chmod 1775 /nix/store
    if getent group nixbld >/dev/null; then as_root chgrp nixbld /nix/store; fi
  fi
  NIX_OUT="$(nix_smoke)" || die "nix-build of a trivial derivation fails:
$NIX_OUT"
  DID_SOMETHING=1
fi

# ---------------------------------------------------------------------------
# 3. dockerd
# ---------------------------------------------------------------------------
docker_ping() {
  [ "$(as_root curl -s --max-time 3 --unix-socket "$DOCKER_SOCK" http://localhost/_ping 2>/dev/null)" = "OK" ]
}

wait_docker_ready() { # $1 = timeout seconds; fails early if dockerd dies
  local deadline=$((SECONDS + $1))
  while [ "$SECONDS" -lt "$deadline" ]; do
    docker_ping && return 0
    pgrep -x dockerd >/dev/null 2>&1 || return 2
    sleep 0.5
  done
  return 1
}

STARTED_DOCKERD=0
if ! docker_ping; then
  if pgrep -x dockerd >/dev/null 2>&1; then
    step "dockerd is running but not answering yet; waiting up to ${DOCKERD_TIMEOUT}s"
    wait_docker_ready "$DOCKERD_TIMEOUT" || die "dockerd (pid $(pgrep -x dockerd | tr '\n' ' ')) does not answer on $DOCKER_SOCK; see $DOCKERD_LOG"
  else
    # Fallback ladder; the plain default works on the reference VM
    # (overlay2, iptables-nft, cgroup v1). Later entries are for sandboxes
    # without overlayfs / netfilter. Port publishing on 127.0.0.1 keeps
    # working with --iptables=false thanks to docker-proxy (userland proxy).
    if [ -n "${HOP3_DOCKERD_FLAGS+x}" ]; then
      LADDER=("$HOP3_DOCKERD_FLAGS")
    else
      LADDER=("" "--storage-driver=vfs" "--storage-driver=vfs --iptables=false")
    fi
    as_root touch "$DOCKERD_LOG"
    READY=0
    for flags in "${LADDER[@]}"; do
      step "starting dockerd ${flags:-(default flags)} (log: $DOCKERD_LOG)"
      echo "=== hop3 setup-engines: $(date -Is) dockerd $flags" | as_root tee -a "$DOCKERD_LOG" >/dev/null
      # setsid + all fds redirected: dockerd must not keep the caller's pipes open.
      as_root sh -c "setsid nohup dockerd $flags >>'$DOCKERD_LOG' 2>&1 </dev/null &"
      rc=0
      wait_docker_ready "$DOCKERD_TIMEOUT" || rc=$?
      if [ "$rc" -eq 0 ]; then READY=1; break; fi
      if [ "$rc" -eq 1 ]; then
        as_root tail -n 30 "$DOCKERD_LOG" >&2
        die "dockerd not ready after ${DOCKERD_TIMEOUT}s (still running); see $DOCKERD_LOG"
      fi
      echo "[setup-engines] dockerd exited; last log lines:" >&2
      as_root tail -n 8 "$DOCKERD_LOG" >&2
      # leftovers from a failed attempt
      as_root rm -f /var/run/docker.pid
    done
    [ "$READY" -eq 1 ] || die "could not start dockerd with any of: ${LADDER[*]}; see $DOCKERD_LOG"
    STARTED_DOCKERD=1
    DID_SOMETHING=1
  fi
fi

# ---------------------------------------------------------------------------
# 4. base images
# ---------------------------------------------------------------------------
BUILT_IMAGES=0
if ! bash "$REPO/docker/base-images.sh" --check; then
  bash "$REPO/docker/base-images.sh"
  BUILT_IMAGES=1
  DID_SOMETHING=1
fi

# ---------------------------------------------------------------------------
# 5. smoke test: container publishes a port on 127.0.0.1, reachable from host
# ---------------------------------------------------------------------------
if [ "$STARTED_DOCKERD" -eq 1 ] || [ "$BUILT_IMAGES" -eq 1 ] || [ "${HOP3_ENGINES_SMOKE:-0}" = 1 ]; then
  step "smoke test: busybox httpd on 127.0.0.1:$SMOKE_PORT"
  if [ -x /usr/bin/docker ]; then DOCKER=/usr/bin/docker; else DOCKER=docker; fi
  NAME="hop3-smoke-$$"
  cleanup_smoke() { as_root "$DOCKER" rm -f "$NAME" >/dev/null 2>&1 || true; }
  trap cleanup_smoke EXIT
  as_root "$DOCKER" run -d --rm --name "$NAME" -p "127.0.0.1:$SMOKE_PORT:8080" hop3/base-busybox:latest \
    sh -c 'echo hop3-smoke-ok > /www/index.html && exec httpd -f -p 8080 -h /www' >/dev/null
  BODY=""
  for _ in $(seq 1 40); do
    BODY="$(curl -s --max-time 2 "http://127.0.0.1:$SMOKE_PORT/" || true)"
    [ "$BODY" = "hop3-smoke-ok" ] && break
    sleep 0.25
  done
  cleanup_smoke
  trap - EXIT
  [ "$BODY" = "hop3-smoke-ok" ] || die "container port publish smoke test failed (got: '$BODY')"
fi

exit 0
