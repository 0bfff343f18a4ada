# syntax=docker/dockerfile:1
# The image of either service; the build argument SERVICE (tickets or orders) names which. Build
# context is the repository root:
#   docker build --build-arg SERVICE=tickets -t ticketing/tickets .                (production, last stage)
#   docker build --build-arg SERVICE=orders --target dev -t ticketing/orders .     (skaffold dev loop)
# The web app has its own (web/Dockerfile).

ARG SERVICE

FROM node:24.11.1-bookworm-slim AS base
WORKDIR /app
ENV NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false
# The server binds loopback unless HOST says otherwise; in a container it must be reachable.
ENV HOST=0.0.0.0

# npm workspaces: `npm ci` checks the lockfile against the root manifest and every workspace's
# package.json, so all of them come in, even those this image does not run.
FROM base AS manifests
ARG SERVICE
# A build that does not name one of the services stops here, before any work.
RUN case "$SERVICE" in tickets|orders) ;; *) echo "build with --build-arg SERVICE=tickets or SERVICE=orders" >&2; exit 1 ;; esac
COPY package.json package-lock.json ./
COPY common/package.json common/
COPY client/package.json client/
COPY tickets/package.json tickets/
COPY orders/package.json orders/
COPY web/package.json web/
COPY scripts/package.json scripts/

# Compile common and the service with the project references (tsc -b builds common first).
# --ignore-scripts: nothing we build or run needs an install script, so none gets to run.
FROM manifests AS build
ARG SERVICE
RUN npm ci --ignore-scripts
COPY tsconfig.base.json ./
COPY common/tsconfig.json common/
COPY common/src common/src
COPY ${SERVICE}/tsconfig.json ${SERVICE}/
COPY ${SERVICE}/src ${SERVICE}/src
RUN npx tsc -b ${SERVICE}

FROM manifests AS prod-deps
ARG SERVICE
RUN npm ci --omit=dev --ignore-scripts -w @ticketing/${SERVICE} -w @ticketing/common

# Dev loop: skaffold syncs the service's src and common/src into /app and tsx restarts on change.
# tsconfig.json maps @ticketing/common to common/src, so edits to common apply without a build.
# The files belong to the node user because skaffold's sync writes them as the container user.
FROM manifests AS dev
ARG SERVICE
ENV NODE_ENV=development
RUN npm install -g tsx@4.23.15 && chown -R node:node /app
USER node
RUN npm ci --ignore-scripts -w @ticketing/${SERVICE} -w @ticketing/common
COPY --chown=node:node tsconfig.base.json tsconfig.json ./
COPY --chown=node:node common/tsconfig.json common/
COPY --chown=node:node common/src common/src
COPY --chown=node:node ${SERVICE}/tsconfig.json ${SERVICE}/
COPY --chown=node:node ${SERVICE}/src ${SERVICE}/src
# The command cannot name the service (exec form expands no variables): it runs in its folder.
WORKDIR /app/${SERVICE}
EXPOSE 3000
CMD ["tsx", "watch", "--clear-screen=false", "--tsconfig", "../tsconfig.json", "src/main.ts"]

# Production (default target). Code and dependencies stay root-owned, so the non-root process
# cannot modify them. node is PID 1 and receives SIGTERM itself; main.ts handles it and drains.
FROM base AS runtime
ARG SERVICE
ENV NODE_ENV=production
COPY --from=prod-deps /app ./
COPY --from=build /app/common/dist common/dist
COPY --from=build /app/${SERVICE}/dist ${SERVICE}/dist
WORKDIR /app/${SERVICE}
USER node
EXPOSE 3000
CMD ["node", "dist/main.js"]
