# The aggregator service in a container: `docker compose up -d` (see docker-compose.yml and
# the README's "Running in a container"). The configuration comes from /config/feeds.yaml,
# mounted read-only; the store, the feeds and the posts live in volumes.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    AGGREGATOR_CONFIG=/config/feeds.yaml

WORKDIR /app
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install ".[postgresql]" \
    && rm -rf /app/src \
    && useradd --system --uid 10001 --user-group --no-create-home --home-dir /nonexistent aggregator \
    && mkdir -p /config /data /srv/public /srv/posts \
    && chown aggregator:aggregator /data /srv/public /srv/posts

# Fresh named volumes take these directories' owner, so the service can write to them.
VOLUME ["/data", "/srv/public", "/srv/posts"]
USER aggregator
EXPOSE 8080
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request as r; r.urlopen('http://127.0.0.1:8080/healthz', timeout=4)"]
CMD ["aggregator", "-c", "/config/feeds.yaml", "run"]
