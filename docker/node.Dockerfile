# hop3's generated Dockerfile for Node apps (package.json).
# hop3 passes BASE_IMAGE (final stage, needs node) and BUILD_IMAGE (needs npm; corepack for yarn and pnpm apps)
# as build args, and the HOP3_* args below from what it read in the app: its package manager and scripts.
ARG BASE_IMAGE=node:20-slim
ARG BUILD_IMAGE=node:20-slim

FROM ${BUILD_IMAGE} AS build
WORKDIR /app
# @hop3 build-packages
# npm's and corepack's caches stay in the build stage, which the final image does not inherit.
ENV npm_config_cache=/tmp/npm-cache npm_config_update_notifier=false \
    COREPACK_HOME=/tmp/corepack COREPACK_ENABLE_DOWNLOAD_PROMPT=0 COREPACK_ENABLE_AUTO_PIN=0
# A corepack spec (yarn@4.5.3, pnpm@9) for yarn and pnpm apps, empty for npm: hop3's setup script fetches it
# and copies it into /app/.hop3/package-manager, with its commands in /app/.hop3/bin.
ARG HOP3_PACKAGE_MANAGER=
# The steps, as shell commands (empty: skipped): heroku-prebuild, the install (frozen to the lockfile), the build
# script (heroku-postbuild instead of build when there), pruning dev dependencies, heroku-cleanup.
ARG HOP3_NODE_PREBUILD=
ARG HOP3_NODE_INSTALL="npm install --no-audit --no-fund"
ARG HOP3_NODE_BUILD="npm run build --if-present"
ARG HOP3_NODE_PRUNE="npm prune --omit=dev --no-audit --no-fund"
ARG HOP3_NODE_CLEANUP=
# corepack's registry and integrity settings, only when set in hop3's environment or [docker] build-args: unset, its checks stay on.
ARG COREPACK_NPM_REGISTRY
ARG COREPACK_INTEGRITY_KEYS
# Dependencies before the code, so a code-only change reuses the install from the engine's cache. hop3 replaces the
# next line with COPYs of what the install reads (package.json, lockfile, manager config, local file: packages), or of
# everything (an app with heroku-prebuild or install scripts of its own).
# hop3:copy-dependency-files
COPY .hop3/package-manager-setup.mjs /app/.hop3/package-manager-setup.mjs
# With a CA bundle or registry settings (issue #14), hop3 replaces the next line with a COPY of them into
# /tmp/hop3-network, which the steps below source (the copy `COPY . /app` makes is removed after the build step);
# the final stage copies /app only, so they stay in this stage.
# hop3:network
# Without a build script, dev dependencies go now; with one, after the build that may need them.
RUN set -e; \
    if [ -f /tmp/hop3-network/env.sh ]; then . /tmp/hop3-network/env.sh; fi; \
    if [ -n "$HOP3_PACKAGE_MANAGER" ]; then node .hop3/package-manager-setup.mjs "$HOP3_PACKAGE_MANAGER" /app; fi; \
    export PATH="/app/.hop3/bin:$PATH"; \
    for step in "$HOP3_NODE_PREBUILD" "$HOP3_NODE_INSTALL"; do if [ -n "$step" ]; then echo "\$ $step"; sh -c "$step"; fi; done; \
    if [ -z "$HOP3_NODE_BUILD" ] && [ -n "$HOP3_NODE_PRUNE" ]; then echo "\$ $HOP3_NODE_PRUNE"; sh -c "$HOP3_NODE_PRUNE"; fi
COPY . /app
RUN set -e; \
    if [ -f /tmp/hop3-network/env.sh ]; then . /tmp/hop3-network/env.sh; fi; \
    export PATH="/app/.hop3/bin:$PATH"; \
    if [ -n "$HOP3_NODE_BUILD" ]; then set -- "$HOP3_NODE_BUILD" "$HOP3_NODE_PRUNE"; else set --; fi; \
    for step in "$@" "$HOP3_NODE_CLEANUP"; do if [ -n "$step" ]; then echo "\$ $step"; sh -c "$step"; fi; done; \
    rm -rf /app/.hop3-network

# Final stage: the base image plus /app (with its production node_modules, and yarn or pnpm in .hop3/ when used).
FROM ${BASE_IMAGE}
WORKDIR /app
# @hop3 run-packages
# Numeric, so it needs no passwd entry in any base image. Before the COPY, which changes with every build, so the
# cache keeps it; COPY ignores USER: /app stays root-owned and read-only to the app.
USER 10001:10001
COPY --from=build /app /app
