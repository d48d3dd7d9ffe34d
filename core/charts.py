"""The site's chart theme (static/css/app.css), shared by every app's plotly figures."""
TEXT, MUTED, GRID = "#454d57", "#646d78", "#e2e5e9"
FONT = ('system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", "Noto Sans", "Liberation Sans", Arial, '
        'sans-serif')
