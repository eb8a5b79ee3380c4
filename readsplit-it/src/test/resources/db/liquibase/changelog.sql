--liquibase formatted sql

--changeset readsplit:1
CREATE TABLE orders (id bigserial PRIMARY KEY, item text NOT NULL, created_on int NOT NULL DEFAULT inet_server_port());

--changeset readsplit:2
INSERT INTO orders(item) VALUES ('book'), ('pen');

--changeset readsplit:3 runInTransaction:false
CREATE INDEX CONCURRENTLY orders_item_idx ON orders (item);
