CREATE TABLE notes (id bigserial PRIMARY KEY, body text NOT NULL, origin_port int, origin_recovery boolean);
