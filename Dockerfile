# syntax=docker/dockerfile:1
# ferry: one image for every role (`ferry webhook|worker|dashboard|watch|import|all|copy`).
#
# Runtime base: gcr.io/distroless/nodejs20-debian12:nonroot rather than node:20-slim, because
#   - no shell, no package manager, no npm/corepack: far less to patch and to exploit;
#   - CA certificates are there (/etc/ssl/certs/ca-certificates.crt); node:20-slim purges
#     the ca-certificates package after installing node;
#   - its user is nonroot, uid/gid 65532, and nothing in it needs to write, so it runs with
#     readOnlyRootFilesystem and only /tmp (or a mounted volume) writable.
# The price: no shell to `kubectl exec` into (use `kubectl debug -it POD --image=busybox
# --target=CONTAINER`), and no /usr/bin/env, so an npm-style symlink to main.js (whose
# shebang is `#!/usr/bin/env node`) could not start. /usr/local/bin/ferry is therefore a
# three-line launcher whose shebang names distroless's node by its absolute path
# (/nodejs/bin/node); see deploy/docker/ferry.
# Build and runtime are both Debian 12 (bookworm), so the prebuilt native addons in
# node_modules (msgpackr-extract, used by BullMQ) match the runtime's glibc.

ARG BUILD_IMAGE=node:20-bookworm
ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs20-debian12:nonroot

FROM ${BUILD_IMAGE} AS build
WORKDIR /app
ENV npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false
COPY package.json package-lock.json ./
# --ignore-scripts: the root package's `prepare` script runs tsc, which cannot work before the
# sources are copied (they come later, to keep this layer cached). No dependency needs its
# install script: msgpackr-extract's only checks for the prebuilt binary it ships anyway.
# npm ci, or npm install with the same locked versions where an npm 11 lockfile lacks other platforms' optional packages.
RUN --mount=type=cache,target=/root/.npm npm ci --ignore-scripts || npm install --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY proto ./proto
RUN npm run build \
 && test -f dist/cli/main.js \
 && npm prune --omit=dev --ignore-scripts \
 && mkdir -p /state/var/lib/ferry/import

FROM ${RUNTIME_IMAGE}
WORKDIR /app
# PATH: the launcher lives in /usr/local/bin; /nodejs/bin lets `node` resolve for healthchecks.
# HOME and TMPDIR point at /tmp, the one writable place under a read-only root filesystem.
ENV NODE_ENV=production \
    NODE_OPTIONS=--enable-source-maps \
    PATH=/usr/local/bin:/nodejs/bin:/usr/bin:/bin \
    HOME=/tmp \
    TMPDIR=/tmp
# Owned by root and not writable by the process (uid 65532).
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/src/dashboard/static ./src/dashboard/static
COPY --from=build /app/proto ./proto
COPY --chmod=0755 deploy/docker/ferry /usr/local/bin/ferry
COPY --chmod=0644 deploy/docker/healthcheck.mjs /usr/local/lib/ferry/healthcheck.mjs
# The one directory ferry owns: default mount point for the import folder
# (FERRY_IMPORT_DIR=/var/lib/ferry/import). A fresh Docker named volume mounted here
# inherits this ownership, so uid 65532 can write to it without a chown step.
COPY --from=build --chown=65532:65532 /state/var/lib/ferry /var/lib/ferry
USER 65532:65532
# 8443: webhook (HTTPS). 8080: dashboard/API, and /healthz /readyz /metrics of every other role.
EXPOSE 8443 8080
ENTRYPOINT ["ferry"]
# Kubernetes and compose pass the role (`webhook --config /etc/ferry/config.yaml`, ...).
# No default role: `all` would try to start redis-server and docker-registry, which the
# image does not ship, so a bare `docker run IMAGE` prints the usage instead.
CMD ["help"]
