# syntax=docker/dockerfile:1
# The tracker: daemon (`tracker run`), worker (`tracker worker`) or web UI (`tracker serve`).
# Slim, non-root, health-checked on /healthz. Build: docker build -t tracker .

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
# The locked, hash-checked dependency set first (its own layer: it changes rarely).
COPY requirements/runtime.txt ./requirements/runtime.txt
RUN pip install --require-hashes -r requirements/runtime.txt
COPY pyproject.toml README.md alembic.ini ./
COPY tracker ./tracker
COPY migrations ./migrations
# The wheel carries the Alembic scripts as tracker/_migrations (see pyproject.toml);
# --no-deps: every dependency came from the lock above.
RUN pip install --no-deps . \
 && find /opt/venv -name '__pycache__' -prune -exec rm -rf {} +

FROM python:3.11-slim
# Debian's Chromium for pages whose article a script builds (render = auto | browser);
# Playwright drives it (no downloaded browser build). Build with --build-arg BROWSER=0 to
# leave it out (about 300 MB): such stories then get a clear error, never a crash.
ARG BROWSER=1
RUN if [ "$BROWSER" = "1" ]; then \
      apt-get update \
      && apt-get install -y --no-install-recommends chromium fonts-liberation \
      && rm -rf /var/lib/apt/lists/*; \
    fi
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    TRACKER_HOME=/data \
    TRACKER_WEB_HOST=0.0.0.0 \
    TRACKER_WEB_PORT=8765 \
    TRACKER_LOG_FORMAT=json \
    TRACKER_BROWSER_EXECUTABLE=/usr/bin/chromium
RUN groupadd --system --gid 10001 tracker \
 && useradd --system --uid 10001 --gid tracker --home-dir /data --shell /usr/sbin/nologin tracker \
 && mkdir /data && chown tracker:tracker /data
COPY --from=build /opt/venv /opt/venv
USER tracker
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8765
# /healthz answers 503 when the database is down or due stories wait too long; urlopen
# raises on any non-2xx, so the exit status says healthy or not. (No curl in the slim image.)
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('TRACKER_WEB_PORT', '8765'), timeout=4)"]
ENTRYPOINT ["tracker"]
CMD ["run"]
