import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")
application = get_wsgi_application()

# Import every view (and what they import, plotly among them) now rather than on each worker's first
# request, which otherwise takes over half a second; with gunicorn --preload this happens once.
get_resolver().url_patterns
