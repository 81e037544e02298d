# Rotor's API and worker image, used by docker-compose.yml. Runs TypeScript through tsx.
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY . .
# The workflow bundle is built here, once, so the worker never runs webpack (README "Performance").
RUN node --import tsx workers/build-workflow-bundle.ts
USER node
# Two glibc malloc arenas: the Temporal SDK's native threads fragment less (README "Performance").
ENV MALLOC_ARENA_MAX=2
CMD ["node", "--import", "tsx", "workers/main.ts"]
