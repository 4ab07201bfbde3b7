# aircop application image: the ASGI server (uvicorn) and the Celery worker/beat share it.
FROM python:3.13-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DJANGO_STATIC_ROOT=/app/staticfiles
WORKDIR /app
RUN useradd --system --uid 10001 --home /app aircop

COPY pyproject.toml README.md ./
RUN pip install --no-cache-dir --upgrade pip && pip install --no-cache-dir .
COPY . .
# Hashed, compressed static files for whitenoise (build-time placeholders, not secrets).
RUN BUILD_KEY=$(python -c "import base64, os; print(base64.b64encode(os.urandom(32)).decode())") \
 && AIRCOP_PRODUCTION=1 DJANGO_SECRET_KEY=build DJANGO_ALLOWED_HOSTS=build \
    DATABASE_URL=sqlite:////tmp/build.sqlite3 REDIS_URL=redis://build:6379/0 \
    AIRCOP_MASTER_KEYS="build:$BUILD_KEY" AIRCOP_INDEX_KEY="$BUILD_KEY" \
    python manage.py collectstatic --noinput \
 && chown -R aircop /app \
 && mkdir -p /var/lib/aircop/attachments && chown -R aircop /var/lib/aircop

USER aircop
EXPOSE 8000
# uvicorn (uvloop, httptools, websockets) pushes a broadcast to its sockets several times faster
# than daphne here (docs/performance.md). Behind the proxy: trust its X-Forwarded-* headers; the
# app writes its own JSON access lines (aircop.request). No per-message deflate on the websockets:
# compressing officers' messages together with what a sender controls in one stream is the
# side channel of CRIME/BREACH, and it cost a tenth of the server's CPU under load.
CMD ["uvicorn", "aircop.asgi:application", "--host", "0.0.0.0", "--port", "8000", "--lifespan", "off", "--proxy-headers", "--forwarded-allow-ips", "*", "--no-access-log", "--timeout-graceful-shutdown", "15", "--ws-per-message-deflate", "false"]
