# hop3's generated Dockerfile for Node apps (package.json).
# hop3 passes BASE_IMAGE (final stage, needs node) and BUILD_IMAGE (needs npm) as build args.
ARG BASE_IMAGE=node:20-slim
ARG BUILD_IMAGE=node:20-slim

FROM ${BUILD_IMAGE} AS build
WORKDIR /app
# npm's cache stays in the build stage, which the final image does not inherit.
ENV npm_config_cache=/tmp/npm-cache npm_config_update_notifier=false
COPY . /app
RUN if [ -f package-lock.json ] || [ -f npm-shrinkwrap.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi \
 && npm run build --if-present \
 && npm prune --omit=dev --no-audit --no-fund

# Final stage: the base image plus /app (with its production node_modules); npm is not needed to run.
FROM ${BASE_IMAGE}
WORKDIR /app
COPY --from=build /app /app
# Numeric, so it needs no passwd entry in any base image; /app stays root-owned and read-only to the app.
USER 10001:10001
