-- API tokens (stored as SHA-256 of a 256-bit random secret) and the audit log of actions.

CREATE TABLE api_token (
    id          bigserial PRIMARY KEY,
    token_hash  bytea NOT NULL UNIQUE,
    role        text NOT NULL CHECK (role IN ('admin', 'supervisor', 'firm', 'operator')),
    firm_id     text CHECK (firm_id ~ '^[A-Za-z0-9_.-]{1,64}$'),
    site_id     text CHECK (site_id ~ '^[A-Za-z0-9_.-]{1,64}$'),
    name        text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz,
    CHECK ((role = 'firm') = (firm_id IS NOT NULL)),
    CHECK ((role = 'operator') = (site_id IS NOT NULL))
);

CREATE TABLE audit_log (
    id           bigserial PRIMARY KEY,
    at           timestamptz NOT NULL DEFAULT now(),
    actor        text NOT NULL,
    action       text NOT NULL,
    object_type  text NOT NULL,
    object_id    text NOT NULL,
    details      jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_object ON audit_log (object_type, object_id, at);
