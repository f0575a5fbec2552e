# CrisisDesk image: web (gunicorn), Celery workers, beat and the Jetstream consumer all run from it.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=crisisdesk.settings \
    CRISISDESK_VAR_DIR=/app/var \
    STATIC_ROOT=/app/staticfiles \
    STATICFILES_BACKEND=whitenoise.storage.CompressedManifestStaticFilesStorage

WORKDIR /app

# Dependencies first, so a code change doesn't reinstall them.
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .

# Hashed, compressed static files baked into the image (whitenoise serves them from gunicorn).
# collectstatic only reads settings: the laptop defaults are enough here and never reach runtime.
RUN CRISISDESK_VAR_DIR=/tmp/build-var python manage.py collectstatic --noinput \
    && rm -rf /tmp/build-var \
    && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin crisisdesk \
    && mkdir -p /app/var/media \
    && chown -R crisisdesk:crisisdesk /app/var

USER crisisdesk

EXPOSE 8000
CMD ["gunicorn", "crisisdesk.wsgi", "--bind=0.0.0.0:8000", "--workers=3", "--threads=4", "--access-logfile=-", "--no-control-socket"]
