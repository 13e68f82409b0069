"""The search page: `photo-ai serve`, a small web app over photo_ai's search functions.

Server-rendered pages (Jinja2) with a little JavaScript: search (`/?q=`), one photo
(`/asset/<id>`), the work in progress (`/status`), search by image (drop, paste or pick).
It searches as photo_ai_reader and runs admin actions as photo_ai_admin; it reads photos
only by asset id, only under the library roots, and keeps their thumbnails on disk.
"""
