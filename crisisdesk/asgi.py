"""The ASGI application: what gunicorn's uvicorn workers serve (pages, the API and live streams)."""

import os
import warnings

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crisisdesk.settings")

# WhiteNoise answers static files with a file iterator, which Django reads into memory before
# sending under ASGI and warns about on every file. Static files are small, hashed and cached for a
# year by browsers and any CDN, so that read is cheap; the live stream, which must not be buffered,
# is an async iterator (crisisdesk/live/stream.py).
warnings.filterwarnings(
    "ignore", message="StreamingHttpResponse must consume synchronous iterators", category=Warning
)

application = get_asgi_application()
