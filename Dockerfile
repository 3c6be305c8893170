# syntax=docker/dockerfile:1
# Vortex: one image for every node. Two stages: node/npm exist only in the build stage, to install
# SES and build the web APIs bundle (the JavaScript every host loads); the runtime stage has Python,
# the venv, and esbuild's native binary for module functions.
#
# Debian (glibc), never Alpine: the original's V8 crashed on musl, and pythonmonkey (SpiderMonkey)
# ships glibc wheels only. Not built in the development environment (no Docker engine there):
# keep it in step with script/bootstrap and vortex/isolates/pool.py by reading.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nodejs npm \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src

# The JavaScript dependencies first: this layer is reused until the lock file changes.
COPY vortex/isolates/js/package.json vortex/isolates/js/package-lock.json vortex/isolates/js/
RUN npm ci --prefix vortex/isolates/js --omit=dev --no-audit --no-fund --loglevel=error
# The web APIs every run gets and the harness are bundled from vortex/isolates/js/src by esbuild
# (as script/bootstrap does, with build.mjs); hosts refuse to start without the bundles.
COPY vortex/isolates/js/build.mjs vortex/isolates/js/
COPY vortex/isolates/js/src/ vortex/isolates/js/src/
RUN npm run --prefix vortex/isolates/js --silent build

# .gitignore comes along because hatchling honours it: the wheel is the same as a local build.
# The wheel carries neither node_modules nor dist (ignored by git, so by hatchling): SES, the web
# APIs and harness bundles and lol-html's WebAssembly (side by side: hosts find the harness and
# lol_html.wasm beside VORTEX_WEBAPI_PATH, deploys the Node.js built-ins in node/ there) and
# esbuild's native binary (which builds module functions at deploy) go beside the venv, and the
# VORTEX_*_PATH variables below point at them.
# The last line fails the build if pythonmonkey or a backend cannot be imported.
COPY .gitignore pyproject.toml README.md ./
COPY static/ static/
COPY vortex/ vortex/
RUN python -m venv /opt/vortex \
 && /opt/vortex/bin/pip install --no-cache-dir --disable-pip-version-check ".[s3,redis]" \
 && install -D -m 0644 vortex/isolates/js/dist/ses.js /opt/vortex/share/vortex/ses.js \
 && install -D -m 0644 vortex/isolates/js/dist/webapi.js /opt/vortex/share/vortex/webapi.js \
 && install -D -m 0644 vortex/isolates/js/dist/harness.js /opt/vortex/share/vortex/harness.js \
 && install -D -m 0644 vortex/isolates/js/dist/lol_html.wasm /opt/vortex/share/vortex/lol_html.wasm \
 && install -D -m 0644 -t /opt/vortex/share/vortex/node vortex/isolates/js/dist/node/* \
 && install -D -m 0755 vortex/isolates/js/node_modules/@esbuild/linux-*/bin/esbuild \
      /opt/vortex/share/vortex/esbuild \
 && /opt/vortex/bin/python -c "import pythonmonkey, vortex.http.app, vortex.storage.s3, vortex.logbus.redis"

FROM ${PYTHON_IMAGE}
# pythonmonkey's SpiderMonkey is C++: libstdc++ must be there (it is in the base image today,
# because apt needs it; named here so that a slimmer base cannot drop it silently).
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libstdc++6 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 vortex \
 && useradd --system --uid 10001 --gid vortex --home-dir /var/lib/vortex --create-home \
      --shell /usr/sbin/nologin vortex
COPY --from=build /opt/vortex /opt/vortex
ENV PATH=/opt/vortex/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    VORTEX_SES_PATH=/opt/vortex/share/vortex/ses.js \
    VORTEX_WEBAPI_PATH=/opt/vortex/share/vortex/webapi.js \
    VORTEX_ESBUILD_PATH=/opt/vortex/share/vortex/esbuild \
    VORTEX_DATA_DIR=/var/lib/vortex/data \
    VORTEX_PORT=8080
USER vortex
WORKDIR /var/lib/vortex
# The local store (when no S3 is configured) keeps functions here: mount a volume to keep them.
VOLUME ["/var/lib/vortex/data"]
# 8080: the API and dashboard; 8787: the functions listener (http://{name}.DOMAIN:8787), served by
# the host processes themselves. Behind a proxy, VORTEX_FUNCTIONS_DOMAIN and
# VORTEX_FUNCTIONS_PUBLIC_URL say where clients reach it (docs/http-functions.md).
EXPOSE 8080 8787
# /health answers 503 only when no host process can run anything; "degraded" (S3 or Redis down)
# is still 200, because the node keeps serving the code it has cached.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request as u; u.urlopen('http://127.0.0.1:%s/health' % os.environ.get('VORTEX_PORT', '8080'), timeout=2)"]
CMD ["vortex", "serve", "--host", "0.0.0.0"]
