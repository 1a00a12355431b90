# hop3's generated Dockerfile for Procfile-only apps: the source in /app on BASE_IMAGE, which must
# provide whatever the Procfile commands run. Nothing is installed, so one stage.
ARG BASE_IMAGE=debian:bookworm-slim

FROM ${BASE_IMAGE}
WORKDIR /app
COPY . /app
# Numeric, so it needs no passwd entry in any base image; /app stays root-owned and read-only to the app.
USER 10001:10001
