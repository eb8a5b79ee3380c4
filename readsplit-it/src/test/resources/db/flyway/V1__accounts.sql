CREATE TABLE accounts (id bigserial PRIMARY KEY, name text NOT NULL, created_on int NOT NULL DEFAULT inet_server_port());
INSERT INTO accounts(name) VALUES ('alice'), ('bob');
