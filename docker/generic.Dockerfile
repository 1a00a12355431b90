# hop3's generated Dockerfile for Procfile-only apps: the source in /app on BASE_IMAGE, which must
# provide whatever the Procfile commands run. Nothing is built, so one stage (where [build]/[run] packages go).
ARG BASE_IMAGE=debian:bookworm-slim

FROM ${BASE_IMAGE}
WORKDIR /app
# @hop3 packages
# Numeric, so it needs no passwd entry in any base image. Before the COPY, which changes with every build, so the
# cache keeps it; COPY ignores USER: /app stays root-owned and read-only to the app.
USER 10001:10001
COPY . /app
