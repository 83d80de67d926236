"""Server-rendered HTML pages (Jinja2 templates, htmx), forms and static files."""
