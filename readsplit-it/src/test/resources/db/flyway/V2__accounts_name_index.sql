-- cannot run inside a transaction: Flyway runs this migration on its own, outside one
CREATE INDEX CONCURRENTLY accounts_name_idx ON accounts (name);
