# syntax=docker/dockerfile:1
# Multi-stage: dependencies are installed in a build stage; the runtime image holds only the
# production dependencies and the sources (Node 24 runs the TypeScript sources directly).
FROM node:24-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:24-slim AS runtime
ENV NODE_ENV=production \
    SLUICE_RULES=/etc/sluice/ \
    SLUICE_LISTEN=0.0.0.0:9080 \
    SLUICE_ADMIN=127.0.0.1:9901
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY bin ./bin
COPY proxy/src ./proxy/src
COPY rules /etc/sluice/
USER node
EXPOSE 9080 9901
HEALTHCHECK --interval=10s --timeout=2s --start-period=5s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9901/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "--max-semi-space-size=4", "bin/sluice.js"]
CMD ["start"]
