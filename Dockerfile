# syntax=docker/dockerfile:1
# optflow as a container: the same `optflow` entry point as on a workstation, e.g.
#   docker run --rm optflow process greeks
# Build stage: dev dependencies and the TypeScript compiler; runtime stage: production dependencies,
# the compiled code, schemas and default config, run as the unprivileged `node` user.
# Node 24 is the LTS line CI tests (.ci/run); move both together.
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Scripts off: `prepare` would compile before the sources are copied; the build runs below. The Kafka
# client's native binding is then fetched prebuilt (node-pre-gyp, from GitHub); without internet, add
# the -dev packages of bin/env.sh and CKJS_LINKING=dynamic to build it from source.
RUN npm ci --no-audit --no-fund --ignore-scripts && npm rebuild @confluentinc/kafka-javascript
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY topology ./topology
COPY bench ./bench
COPY schemas ./schemas
RUN npx tsc -p tsconfig.build.json && npm prune --omit=dev --ignore-scripts

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY schemas ./schemas
COPY config/default.toml ./config/default.toml
# The Parquet lake of the compose profile (a named volume takes this ownership).
RUN mkdir -p /data && chown node:node /data
USER node
ENTRYPOINT ["node", "bin/optflow.js"]
CMD ["help"]
