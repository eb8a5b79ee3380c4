--liquibase formatted sql

--changeset readsplit:1
CREATE TABLE jpa_note (id bigserial PRIMARY KEY, body text NOT NULL);
