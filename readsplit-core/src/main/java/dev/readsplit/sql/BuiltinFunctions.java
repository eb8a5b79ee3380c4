package dev.readsplit.sql;

import java.util.List;

/**
 * The curated lists of built-in ({@code pg_catalog}, plus a few ubiquitous extension) functions.
 *
 * <p>Anything in neither list is reported in {@link Classification#userFunctions()} so that the router can
 * check its volatility in {@code pg_proc}; the lists therefore only have to be right, not complete.
 */
final class BuiltinFunctions {

    private BuiltinFunctions() {
    }

    /**
     * Functions whose call creates session state that cannot follow the session: session-level advisory
     * locks, and {@code set_config} (which cannot be replayed as a {@code SET}; with {@code is_local = true}
     * it only lasts for the transaction, but the classifier does not evaluate arguments).
     */
    static final NameSet PIN = new NameSet(List.of(
            "pg_advisory_lock", "pg_advisory_lock_shared", "pg_try_advisory_lock", "pg_try_advisory_lock_shared",
            "set_config"));

    /**
     * Functions that write, or only work on (or only make sense on) the primary. Matched in any schema
     * (fail closed). {@code currval}/{@code lastval} read session state created by {@code nextval} on the
     * primary; {@code pg_current_wal_*lsn} fail during recovery.
     */
    static final NameSet WRITE = new NameSet(List.of(
            "nextval", "setval", "currval", "lastval",
            "pg_notify", "set_config",
            "txid_current", "txid_current_if_assigned", "pg_current_xact_id", "pg_current_xact_id_if_assigned",
            "pg_terminate_backend", "pg_cancel_backend", "pg_reload_conf", "pg_rotate_logfile",
            "pg_switch_wal", "pg_promote", "pg_drop_replication_slot", "pg_copy_physical_replication_slot",
            "pg_copy_logical_replication_slot", "pg_replication_slot_advance",
            "pg_current_wal_lsn", "pg_current_wal_insert_lsn", "pg_current_wal_flush_lsn",
            "pg_start_backup", "pg_stop_backup", "pg_backup_start", "pg_backup_stop",
            "pg_import_system_collations", "pg_truncate_visibility_map", "pg_log_backend_memory_contexts",
            "dblink_exec", "loread", "lowrite",
            "gin_clean_pending_list", "brin_summarize_new_values", "brin_summarize_range",
            "brin_desummarize_range",
            "pg_set_relation_stats", "pg_clear_relation_stats", "pg_restore_relation_stats",
            "pg_set_attribute_stats", "pg_clear_attribute_stats", "pg_restore_attribute_stats"),
            "pg_advisory_", "pg_try_advisory_", "lo_", "pg_stat_reset", "pg_create_", "pg_replication_origin_",
            "pg_logical_slot_", "pg_logical_emit_message", "pg_file_");

    /** Read-only built-ins: matched only unqualified or qualified with {@code pg_catalog}. */
    static final NameSet READ = new NameSet(List.of(
            // aggregates and window functions
            "count", "sum", "avg", "min", "max", "array_agg", "string_agg", "json_agg", "jsonb_agg",
            "json_object_agg", "jsonb_object_agg", "bool_and", "bool_or", "every", "bit_and", "bit_or", "bit_xor",
            "stddev", "stddev_pop", "stddev_samp", "variance", "var_pop", "var_samp", "percentile_cont",
            "percentile_disc", "mode", "rank", "dense_rank", "row_number", "ntile", "lag", "lead", "first_value",
            "last_value", "nth_value", "percent_rank", "cume_dist", "corr", "covar_pop", "covar_samp",
            "regr_slope", "regr_intercept", "regr_count", "regr_r2", "range_agg", "xmlagg", "any_value",
            "grouping",
            // conditionals and SQL-syntax functions
            "coalesce", "nullif", "greatest", "least", "extract", "substring", "position", "overlay", "trim",
            "normalize", "xmlelement", "xmlforest", "xmlparse", "xmlserialize", "xmlexists", "json_object",
            "json_array", "json_scalar", "json_serialize", "json_exists", "json_query", "json_value",
            "json_table", "json_objectagg", "json_arrayagg",
            // time
            "now", "current_timestamp", "current_time", "localtimestamp", "localtime", "clock_timestamp",
            "statement_timestamp", "transaction_timestamp", "timeofday", "date_trunc", "date_part", "date_bin",
            "age", "make_date", "make_time", "make_timestamp", "make_timestamptz", "make_interval", "justify_days",
            "justify_hours", "justify_interval", "isfinite", "to_char", "to_date", "to_number", "to_timestamp",
            // random and uuid
            "random", "random_normal", "gen_random_uuid", "uuid_generate_v4", "uuid_generate_v1",
            // strings
            "lower", "upper", "length", "char_length", "character_length", "octet_length", "bit_length", "substr",
            "strpos", "btrim", "ltrim", "rtrim", "lpad", "rpad", "replace", "concat", "concat_ws", "format",
            "left", "right", "repeat", "reverse", "split_part", "string_to_array", "array_to_string",
            "regexp_replace", "regexp_matches", "regexp_match", "regexp_split_to_array", "regexp_split_to_table",
            "regexp_like", "regexp_count", "regexp_substr", "regexp_instr", "initcap", "md5", "sha224", "sha256",
            "sha384", "sha512", "encode", "decode", "quote_ident", "quote_literal", "quote_nullable", "chr",
            "ascii", "translate", "starts_with", "convert", "convert_from", "convert_to", "to_hex", "unistr",
            // numbers
            "abs", "ceil", "ceiling", "floor", "round", "trunc", "mod", "power", "sqrt", "cbrt", "exp", "ln",
            "log", "log10", "sign", "pi", "div", "degrees", "radians", "sin", "cos", "tan", "asin", "acos", "atan",
            "atan2", "width_bucket", "gcd", "lcm", "scale",
            // arrays, sets, ranges
            "generate_series", "generate_subscripts", "unnest", "array_length", "array_lower", "array_upper",
            "array_dims", "array_ndims", "cardinality", "array_append", "array_prepend", "array_cat",
            "array_remove", "array_replace", "array_position", "array_positions", "array_fill", "isempty",
            "lower_inc", "upper_inc", "int4range", "int8range", "numrange", "tsrange", "tstzrange", "daterange",
            // json
            "to_json", "to_jsonb", "row_to_json", "array_to_json", "json_build_object", "jsonb_build_object",
            "json_build_array", "jsonb_build_array", "jsonb_object", "json_array_elements",
            "jsonb_array_elements", "json_array_elements_text", "jsonb_array_elements_text", "json_each",
            "jsonb_each", "json_each_text", "jsonb_each_text", "json_extract_path", "jsonb_extract_path",
            "json_extract_path_text", "jsonb_extract_path_text", "json_object_keys", "jsonb_object_keys",
            "json_typeof", "jsonb_typeof", "jsonb_set", "jsonb_insert", "jsonb_pretty", "jsonb_strip_nulls",
            "json_strip_nulls", "jsonb_path_query", "jsonb_path_exists", "jsonb_path_match",
            "jsonb_path_query_array", "jsonb_path_query_first", "json_populate_record", "jsonb_populate_record",
            "json_to_record", "jsonb_to_record", "json_to_recordset", "jsonb_to_recordset", "json_array_length",
            "jsonb_array_length",
            // text search
            "to_tsvector", "to_tsquery", "plainto_tsquery", "phraseto_tsquery", "websearch_to_tsquery", "ts_rank",
            "ts_rank_cd", "ts_headline", "setweight",
            // system information (all work on a hot standby)
            "pg_sleep", "pg_sleep_for", "pg_sleep_until", "current_setting", "pg_is_in_recovery",
            "pg_last_wal_replay_lsn", "pg_last_wal_receive_lsn", "pg_last_xact_replay_timestamp",
            "pg_is_wal_replay_paused", "pg_get_wal_replay_pause_state", "pg_wal_lsn_diff", "pg_current_snapshot",
            "txid_current_snapshot", "pg_backend_pid", "pg_postmaster_start_time", "pg_conf_load_time", "version",
            "current_database", "current_schema", "current_schemas", "current_user", "session_user",
            "has_table_privilege", "has_schema_privilege", "has_database_privilege", "has_column_privilege",
            "has_function_privilege", "has_sequence_privilege", "pg_has_role", "pg_table_size",
            "pg_relation_size", "pg_total_relation_size", "pg_indexes_size", "pg_database_size", "pg_size_pretty",
            "pg_size_bytes", "pg_column_size", "pg_typeof", "format_type", "pg_get_viewdef", "pg_get_indexdef",
            "pg_get_constraintdef", "pg_get_functiondef", "pg_get_function_arguments", "pg_get_expr",
            "pg_get_userbyid", "pg_get_serial_sequence", "pg_get_triggerdef", "pg_get_keywords",
            "obj_description", "col_description", "shobj_description", "pg_table_is_visible",
            "pg_type_is_visible", "pg_function_is_visible", "to_regclass", "to_regtype", "to_regproc",
            "to_regnamespace", "to_regrole", "pg_encoding_to_char", "pg_xact_commit_timestamp",
            "pg_visible_in_snapshot", "inet_client_addr", "inet_server_addr", "inet_client_port",
            "inet_server_port", "pg_jit_available", "pg_blocking_pids", "pg_sequence_last_value",
            // tablesample methods: TABLESAMPLE bernoulli(10)
            "bernoulli", "system"));

    /**
     * Keywords that can be followed by {@code (} without being a function call, and type names with a
     * modifier ({@code varchar(10)}).
     */
    static final NameSet NOT_FUNCTION = new NameSet(List.of(
            "all", "and", "any", "array", "as", "asc", "between", "by", "case", "cast", "check", "collate",
            "conflict", "cross", "cube", "cycle", "default", "desc", "distinct", "do", "else", "end", "escape",
            "except", "exists", "fetch", "filter", "for", "from", "full", "group", "groups", "having", "ilike",
            "in", "inner", "intersect", "into", "is", "join", "key", "lateral", "left", "like", "limit",
            "materialized", "natural", "not", "of", "offset", "on", "only", "or", "order", "outer", "over",
            "partition", "range", "recursive", "references", "repeatable", "return", "returning", "returns",
            "right", "rollup", "row", "rows", "search", "select", "set", "sets", "similar", "some", "table",
            "tablesample", "then", "to", "union", "unique", "using", "values", "when", "where", "window", "with",
            "within", "without", "zone", "at", "overlaps", "operator", "nulls", "first", "last", "ordinality",
            "symmetric", "asymmetric", "leading", "trailing", "both", "local", "if", "variadic", "columns", "passing", "path", "nested", "ties",
            "bit", "char", "character", "decimal", "float", "interval", "numeric", "time", "timestamp",
            "timestamptz", "timetz", "varbit", "varchar", "varying", "precision"));
}
