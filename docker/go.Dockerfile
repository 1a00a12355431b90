# hop3's generated Dockerfile for Go apps (go.mod).
# hop3 passes BASE_IMAGE (final stage: runs the binary), BUILD_IMAGE (has Go) and GO_BUILD (what to build
# and where: `-o bin/app .` or `-o bin/ ./cmd/api ./cmd/worker`) as build args.
ARG BASE_IMAGE=debian:bookworm-slim
ARG BUILD_IMAGE=golang:1-bookworm

FROM ${BUILD_IMAGE} AS build
WORKDIR /app
# @hop3 build-packages
ARG GO_BUILD="-o bin/app ."
# Portable binaries by default; [docker] build-args may set CGO_ENABLED=1 with a build image that has a C compiler.
ARG CGO_ENABLED=0
# The user's module settings, passed by hop3 when set on the host; unset, Go uses its defaults.
ARG GOPROXY
ARG GOFLAGS
ARG GOPRIVATE
ARG GONOPROXY
ARG GONOSUMDB
ARG GOSUMDB
ARG GOINSECURE
# Caches stay in the build stage, which the final image does not inherit.
ENV GOCACHE=/tmp/go-cache GOPATH=/tmp/go
# A CA bundle (issue #14) is copied here for the module downloads, and its copy in /app removed by the build step.
# hop3:network
COPY . /app
# Vendored modules build offline; no VCS stamp, so a .git in the context needs no git in the image.
RUN set -e; mod=; \
    if [ -f /tmp/hop3-network/env.sh ]; then . /tmp/hop3-network/env.sh; fi; rm -rf /app/.hop3-network; \
    if [ -f vendor/modules.txt ] && ! printf ' %s' "$GOFLAGS" | grep -q -- ' -mod='; then mod=-mod=vendor; fi; \
    go build -buildvcs=false $mod $GO_BUILD

# Final stage: the base image plus /app (the source, for the files a Go app reads at run time, and bin/); no Go.
FROM ${BASE_IMAGE}
WORKDIR /app
# @hop3 run-packages
# Numeric, so it needs no passwd entry in any base image. Before the COPY, which changes with every build, so the
# cache keeps it; COPY ignores USER: /app stays root-owned and read-only to the app.
USER 10001:10001
COPY --from=build /app /app
