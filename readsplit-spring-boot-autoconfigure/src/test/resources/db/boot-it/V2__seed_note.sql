-- records which server ran the migration, asked of the server itself
INSERT INTO notes (body, origin_port, origin_recovery) SELECT 'seed', inet_server_port(), pg_is_in_recovery();
