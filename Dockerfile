# syntax=docker/dockerfile:1
# linkerd2-proxy-ts as a container image: the sidecar next to (or instead of) the Rust proxy's.
#
#   docker build --build-arg GIT_SHA="$(git rev-parse HEAD)" -t linkerd2-proxy-ts .
#
# Three stages on the same slim Node 20 base: `build` compiles TypeScript with every dependency,
# `deps` installs only the production ones, `runtime` takes the compiled code and those.
# RUN steps use paths relative to WORKDIR only, so CI can replay them outside Docker
# (test/integration/binary-dockerfile.test.ts). npm's --ignore-scripts: koffi's native addon comes
# prebuilt in its platform package, and nothing else needs an install script.

FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY scripts ./scripts
# The commit for --version and proxy_build_info (the build context carries no .git).
ARG GIT_SHA=""
RUN npx tsc -p tsconfig.build.json && node scripts/build-info.mjs --out dist/src/build-info.json

FROM node:20-bookworm-slim AS deps
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /usr/lib/linkerd2-proxy-ts
COPY package.json ./
COPY --from=deps /src/node_modules ./node_modules
COPY --from=build /src/dist/src ./dist/src
COPY src/proto ./src/proto
RUN chmod 0755 dist/src/main.js && mkdir -p bin && ln -s ../dist/src/main.js bin/linkerd2-proxy-ts
ENV PATH=/usr/lib/linkerd2-proxy-ts/bin:$PATH
# The Rust proxy's uid: the capture rules (and the chart's proxyUID) exempt it from redirection.
USER 2102:2102
# inbound, outbound, admin, tap/control
EXPOSE 4143 4140 4191 4190
ENTRYPOINT ["linkerd2-proxy-ts"]
