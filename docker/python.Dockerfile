# hop3's generated Dockerfile for Python apps (requirements.txt or pyproject.toml).
# hop3 passes BASE_IMAGE (final stage) and BUILD_IMAGE (dependency install) as build args;
# both must have the same Python at the same path, since the virtualenv links to it.
ARG BASE_IMAGE=python:3.12-slim
ARG BUILD_IMAGE=python:3.12-slim

FROM ${BUILD_IMAGE} AS build
WORKDIR /app
# @hop3 build-packages
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
# With SOURCE_DATE_EPOCH set, pip compiles hash-based .pyc files (no compile time in them) and builds wheels with fixed
# zip times; a fixed value (1980, the first time zip can store) keeps the install's layer cached across commits.
ENV SOURCE_DATE_EPOCH=315532800 PYTHONHASHSEED=0
# Dependencies before the code, so a code-only change reuses the install from the engine's cache. hop3 replaces the
# next line with COPYs of what the install reads (requirements files, local wheels), or of everything (pyproject.toml).
# hop3:copy-dependency-files
# With a CA bundle or index settings (issue #14), hop3 replaces the next line with a COPY of them into
# /tmp/hop3-network, which the install sources; the final stage copies /app only, so they stay here.
# hop3:network
# The venv lives where it runs (/app/.venv): its scripts hard-code their interpreter path.
RUN if [ -f /tmp/hop3-network/env.sh ]; then . /tmp/hop3-network/env.sh; fi; \
    python3 -m venv /app/.venv \
 && if [ -f requirements.txt ]; then /app/.venv/bin/pip install -r requirements.txt; else /app/.venv/bin/pip install .; fi
COPY . /app
# hop3:network-cleanup

# Final stage: the base image plus /app; no build tools, no pip cache.
FROM ${BASE_IMAGE}
WORKDIR /app
# @hop3 run-packages
# Numeric, so it needs no passwd entry in any base image. Before the COPY, which changes with every build, so the
# cache keeps it; COPY ignores USER: /app stays root-owned and read-only to the app.
USER 10001:10001
COPY --from=build /app /app
