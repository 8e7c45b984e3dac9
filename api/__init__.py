"""The HTTP app (FastAPI): REST API, console and public pages.

It reads, and records people's decisions through the owning packages (alerts, registry,
...); it never decides anything itself. Authentication is a bearer token with one role
(admin, supervisor, firm bound to a firm_id, operator bound to a site_id); firm and
operator tokens see only their own objects, anything else is 404 to them.

May import: every domain package's read models and stores, fastapi, psycopg.
"""
