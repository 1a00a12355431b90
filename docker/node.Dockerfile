# hop3's generated Dockerfile for Node apps (package.json).
# hop3 passes BASE_IMAGE (final stage, needs node) and BUILD_IMAGE (needs npm) as build args.
ARG BASE_IMAGE=node:20-slim
ARG BUILD_IMAGE=node:20-slim

FROM ${BUILD_IMAGE} AS build
WORKDIR /app
# @hop3 build-packages
# npm's cache stays in the build stage, which the final image does not inherit.
ENV npm_config_cache=/tmp/npm-cache npm_config_update_notifier=false
# Dependencies before the code, so a code-only change reuses the install from the engine's cache. hop3 replaces the
# next line with COPYs of what `npm ci` reads (package.json, lockfile, .npmrc, local file: packages), or of everything.
# hop3:copy-dependency-files
# Without a build script, dev dependencies go now; with one, after the build that may need them.
RUN if [ -f package-lock.json ] || [ -f npm-shrinkwrap.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi \
 && if node -e "process.exit(require('./package.json').scripts?.build ? 1 : 0)"; then npm prune --omit=dev --no-audit --no-fund; fi
COPY . /app
RUN if node -e "process.exit(require('./package.json').scripts?.build ? 0 : 1)"; then npm run build && npm prune --omit=dev --no-audit --no-fund; fi

# Final stage: the base image plus /app (with its production node_modules); npm is not needed to run.
FROM ${BASE_IMAGE}
WORKDIR /app
# @hop3 run-packages
# Numeric, so it needs no passwd entry in any base image. Before the COPY, which changes with every build, so the
# cache keeps it; COPY ignores USER: /app stays root-owned and read-only to the app.
USER 10001:10001
COPY --from=build /app /app
