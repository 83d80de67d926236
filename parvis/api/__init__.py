"""The JSON API: Mastodon's client API paths and shapes, plus Parvis's own under /api/parvis."""
