"""Routers of the HTTP app, one module per area; `api.app` includes them."""
