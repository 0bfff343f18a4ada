# syntax=docker/dockerfile:1
# tickets service image. Build context is the repository root:
#   docker build -f tickets/Dockerfile -t ticketing/tickets .          (production, last stage)
#   docker build -f tickets/Dockerfile --target dev -t ticketing/tickets .   (skaffold dev loop)

FROM node:24.11.1-bookworm-slim AS base
WORKDIR /app
ENV NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false

# npm workspaces: `npm ci` checks the lockfile against the root manifest and every workspace's
# package.json, so all of them come in, even those this image does not run.
FROM base AS manifests
COPY package.json package-lock.json ./
COPY common/package.json common/
COPY client/package.json client/
COPY tickets/package.json tickets/
COPY orders/package.json orders/
COPY web/package.json web/
COPY scripts/package.json scripts/

# Compile common and tickets with the project references (tsc -b builds common first).
# --ignore-scripts: nothing we build or run needs an install script, so none gets to run.
FROM manifests AS build
RUN npm ci --ignore-scripts
COPY tsconfig.base.json ./
COPY common/tsconfig.json common/
COPY common/src common/src
COPY tickets/tsconfig.json tickets/
COPY tickets/src tickets/src
RUN npx tsc -b tickets

FROM manifests AS prod-deps
RUN npm ci --omit=dev --ignore-scripts -w @ticketing/tickets -w @ticketing/common

# Dev loop: skaffold syncs tickets/src and common/src into /app and tsx restarts on change.
# tsconfig.json maps @ticketing/common to common/src, so edits to common apply without a build.
# The files belong to the node user because skaffold's sync writes them as the container user.
FROM manifests AS dev
ENV NODE_ENV=development
RUN npm install -g tsx@4.23.15 && chown -R node:node /app
USER node
RUN npm ci --ignore-scripts -w @ticketing/tickets -w @ticketing/common
COPY --chown=node:node tsconfig.base.json tsconfig.json ./
COPY --chown=node:node common/tsconfig.json common/
COPY --chown=node:node common/src common/src
COPY --chown=node:node tickets/tsconfig.json tickets/
COPY --chown=node:node tickets/src tickets/src
EXPOSE 3000
CMD ["tsx", "watch", "--clear-screen=false", "--tsconfig", "tsconfig.json", "tickets/src/main.ts"]

# Production (default target). Code and dependencies stay root-owned, so the non-root process
# cannot modify them. node is PID 1 and receives SIGTERM itself; main.ts handles it and drains.
FROM base AS runtime
ENV NODE_ENV=production
COPY --from=prod-deps /app ./
COPY --from=build /app/common/dist common/dist
COPY --from=build /app/tickets/dist tickets/dist
USER node
EXPOSE 3000
CMD ["node", "tickets/dist/main.js"]
