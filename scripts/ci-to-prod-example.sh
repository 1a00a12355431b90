#!/usr/bin/env bash
# "Build in CI, run in production" (README.md), end to end on one machine: the commands of the README section,
# verbatim, with two HOP3_HOMEs standing for the CI runner and the production host, and the image deleted
# from the Docker host in between, so production really pulls it from the registry by digest.
#
#   REGISTRY=127.0.0.1:5000/team bash scripts/ci-to-prod-example.sh [app-dir]
#
# Needs Docker and a registry the daemon can push to (test/docker/ci-to-prod.docker.test.ts starts one on
# 127.0.0.1). Prints the production URL on stdout; leaves nothing running (the app is stopped at the end).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
: "${REGISTRY:?set REGISTRY=host:port[/namespace]}"
APP_DIR="${1:-$HERE/../fixtures/docker-own-dockerfile}"
APP="${APP:-ci-to-prod}"
CHECK_PATH="${CHECK_PATH:-built.txt}" # what production must serve (the default app's build writes it)
WORK="$(mktemp -d "${TMPDIR:-/tmp}/hop3-ci-to-prod.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
hop3() { node "$HERE/../bin/hop3.js" "$@"; }
say() { printf '### %s\n' "$*" >&2; }

cd "$WORK"
say "CI runner: build the image, push it, keep the pushed artifact"
(
  export HOP3_HOME="$WORK/ci-home"
  hop3 build "$APP_DIR" --name "$APP" --builder docker --output build.json
  hop3 push build.json --registry "$REGISTRY"
)
say "build.pushed.json names the image by digest: $(grep -o '"location": *"[^"]*"' build.pushed.json)"

say "(this machine plays production too: remove the image, so the run has to pull it)"
IMAGE_ID="$(sed -n 's/.*"image_id": *"\([^"]*\)".*/\1/p' build.pushed.json)"
docker rmi --force "$IMAGE_ID" >/dev/null

say "production host: run the pushed artifact (pulled by digest), check it, stop it"
(
  export HOP3_HOME="$WORK/prod-home"
  URL="$(hop3 run "$APP" --artifact build.pushed.json)"
  curl --fail --silent --show-error "$URL$CHECK_PATH" >&2
  hop3 status "$APP" >&2
  hop3 stop "$APP"
  echo "$URL"
)
