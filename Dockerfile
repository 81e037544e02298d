# Rotor's API and worker image, used by docker-compose.yml. Runs TypeScript through tsx.
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY . .
USER node
CMD ["node", "--import", "tsx", "workers/main.ts"]
