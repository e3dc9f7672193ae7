# syntax=docker/dockerfile:1
# Build: the server and the admin console compiled in a throwaway stage.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
COPY admin-ui/package.json ./admin-ui/
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY scripts ./scripts
COPY src ./src
COPY migrations ./migrations
COPY admin-ui ./admin-ui
# The console's packages are all build-time ones: pruning leaves only the server's.
RUN npm run build && npm prune --omit=dev

# Run: production dependencies and compiled code only, as an unprivileged user.
FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    PORT=8000 \
    DATA_DIR=/data
WORKDIR /app
# jemalloc hands the memory of libvips' decode threads back; glibc's per-thread arenas keep it
# (docs/performance.md). `npm start` preloads it the same way when it is installed.
RUN apt-get update && apt-get install -y --no-install-recommends libjemalloc2 \
    && ln -s "/usr/lib/$(uname -m)-linux-gnu/libjemalloc.so.2" /usr/local/lib/libjemalloc.so.2 \
    && rm -rf /var/lib/apt/lists/*
ENV LD_PRELOAD=/usr/local/lib/libjemalloc.so.2
RUN groupadd --system photochanger && useradd --system --gid photochanger --home /app photochanger \
    && mkdir -p /data && chown photochanger:photochanger /data
COPY --from=build --chown=photochanger:photochanger /app/node_modules ./node_modules
COPY --from=build --chown=photochanger:photochanger /app/dist ./dist
COPY --from=build --chown=photochanger:photochanger /app/admin-ui/dist/admin-ui/browser ./admin-ui/dist/admin-ui/browser
COPY --chown=photochanger:photochanger package.json ./
USER photochanger
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
  CMD node -e "fetch('http://127.0.0.1:'+process.env.PORT+'/healthz/live').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# SIGTERM drains in-flight ingests (up to the 60 s deadline) before exiting.
STOPSIGNAL SIGTERM
CMD ["node", "dist/src/main.js"]
