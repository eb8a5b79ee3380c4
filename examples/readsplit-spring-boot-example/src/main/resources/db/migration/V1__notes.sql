CREATE TABLE note (id bigserial PRIMARY KEY, body text NOT NULL, created timestamptz NOT NULL);
