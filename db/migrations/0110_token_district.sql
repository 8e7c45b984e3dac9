-- Administration (issue 15): a supervisor token may be bound to one district (it then sees
-- only that district, api/scope.py); when a token was last used, for `token list`; the
-- audit trail read by time (`brightwatch audit export --since --until`).

ALTER TABLE api_token
    ADD COLUMN district text CHECK (district IS NULL OR length(district) BETWEEN 1 AND 100),
    ADD COLUMN last_used_at timestamptz,
    ADD CONSTRAINT api_token_district_supervisor CHECK (district IS NULL OR role = 'supervisor');

CREATE INDEX audit_log_at ON audit_log (at);
