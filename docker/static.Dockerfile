# hop3's generated Dockerfile for static sites, served by hop3's static server (.hop3/static-server.mjs and
# .hop3/bcrypt.mjs, added to the build context by hop3). BASE_IMAGE needs node; nothing is built, so one stage.
ARG BASE_IMAGE=node:20-slim

FROM ${BASE_IMAGE}
WORKDIR /app
# @hop3 packages
# Numeric, so it needs no passwd entry in any base image. Before the COPY, which changes with every build, so the
# cache keeps it; COPY ignores USER: /app stays root-owned and read-only to the app.
USER 10001:10001
COPY . /app
