//! Tests for the SQL front end: each construct, streaming clauses, DDL type
//! mapping, and error messages with their locations.

use super::*;
use crate::data::DataType;
use crate::error::{Error, SqlLocation};
use sqlparser::ast::{Expr, GroupByExpr, SetExpr, Value};

fn at(line: u64, column: u64) -> SqlLocation {
    SqlLocation { line, column }
}

fn single(sql: &str) -> Statement {
    let mut statements = parse_sql(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    assert_eq!(statements.len(), 1, "{sql}");
    statements.remove(0)
}

fn query(sql: &str) -> StreamingQuery {
    match single(sql) {
        Statement::Query(q) => q,
        other => panic!("{sql}: not a query: {other:?}"),
    }
}

fn source(sql: &str) -> CreateSource {
    match single(sql) {
        Statement::CreateSource(s) => s,
        other => panic!("{sql}: not a source: {other:?}"),
    }
}

fn error(sql: &str) -> (String, SqlLocation) {
    match parse_sql(sql) {
        Err(Error::Sql { message, location }) => (message, location),
        Err(other) => panic!("{sql}: not an SQL error: {other}"),
        Ok(statements) => panic!("{sql}: parsed: {statements:?}"),
    }
}

fn texts(exprs: &[SqlExpr]) -> Vec<String> {
    exprs.iter().map(|e| e.to_string()).collect()
}

fn group_by(q: &StreamingQuery) -> Vec<String> {
    let SetExpr::Select(select) = q.query.body.as_ref() else {
        panic!("not a select");
    };
    match &select.group_by {
        GroupByExpr::Expressions(exprs, _) => texts(exprs),
        GroupByExpr::All(_) => panic!("GROUP BY ALL"),
    }
}

fn shorthand_value(expr: &SqlExpr) -> String {
    match expr {
        Expr::Interval(interval) => {
            assert_eq!(interval.leading_field, None);
            match interval.value.as_ref() {
                Expr::Value(v) => match &v.value {
                    Value::SingleQuotedString(s) => s.clone(),
                    other => panic!("interval value {other:?}"),
                },
                other => panic!("interval value {other:?}"),
            }
        }
        other => panic!("not an interval: {other:?}"),
    }
}

// ---- plain queries -------------------------------------------------------

#[test]
fn plain_query_has_no_streaming_parts() {
    let sql = "SELECT a, COUNT(*) FROM src WHERE a > 1 GROUP BY a HAVING COUNT(*) > 2 LIMIT 10";
    let q = query(sql);
    assert_eq!(q.query.to_string(), sql);
    assert!(q.window.is_none());
    assert!(q.emit.is_none());
    assert!(q.stream_name.is_none());
    assert!(q.properties.is_empty());
    assert_eq!(q.location, at(1, 1));
}

#[test]
fn cte_query_parses() {
    let q = query("WITH x AS (SELECT a FROM t) SELECT a FROM x EMIT CHANGES");
    assert_eq!(
        q.query.to_string(),
        "WITH x AS (SELECT a FROM t) SELECT a FROM x"
    );
    assert_eq!(q.emit, Some(EmitClause::Changes));
}

// ---- WINDOW and EMIT -----------------------------------------------------

#[test]
fn tumbling_window_and_emit_changes_are_cut_out() {
    let q = query(
        "SELECT k, COUNT(*) FROM t GROUP BY k WINDOW TUMBLING(ts, INTERVAL '1' MINUTE) \
         EMIT CHANGES LIMIT 5",
    );
    assert_eq!(
        q.query.to_string(),
        "SELECT k, COUNT(*) FROM t GROUP BY k LIMIT 5"
    );
    let window = q.window.expect("window");
    assert_eq!(window.function, WindowFunction::Tumbling);
    assert_eq!(texts(&window.args), ["ts", "INTERVAL '1' MINUTE"]);
    assert_eq!(window.location, at(1, 38));
    assert_eq!(q.emit, Some(EmitClause::Changes));
}

#[test]
fn sliding_window_with_shorthand_durations() {
    let q = query("SELECT COUNT(*) FROM t WINDOW SLIDING(ts, 10s, 500ms) EMIT FINAL");
    assert_eq!(q.query.to_string(), "SELECT COUNT(*) FROM t");
    let window = q.window.expect("window");
    assert_eq!(window.function, WindowFunction::Sliding);
    assert_eq!(window.args.len(), 3);
    assert_eq!(window.args[0].to_string(), "ts");
    assert_eq!(shorthand_value(&window.args[1]), "10s");
    assert_eq!(shorthand_value(&window.args[2]), "500ms");
    assert_eq!(q.emit, Some(EmitClause::Final));
}

#[test]
fn session_window_and_emit_after_limit() {
    let q = query("SELECT k FROM t GROUP BY k HAVING COUNT(*) > 1 WINDOW session (ts, 30S) LIMIT 3 emit final");
    assert_eq!(
        q.query.to_string(),
        "SELECT k FROM t GROUP BY k HAVING COUNT(*) > 1 LIMIT 3"
    );
    let window = q.window.expect("window");
    assert_eq!(window.function, WindowFunction::Session);
    assert_eq!(shorthand_value(&window.args[1]), "30S");
    assert_eq!(q.emit, Some(EmitClause::Final));
}

#[test]
fn window_args_may_nest_parentheses() {
    let q = query("SELECT 1 FROM t WINDOW TUMBLING((ts + 1), (2 * 3) * INTERVAL '1' SECOND)");
    let window = q.window.expect("window");
    assert_eq!(
        texts(&window.args),
        ["(ts + 1)", "(2 * 3) * INTERVAL '1' SECOND"]
    );
}

#[test]
fn emit_alone_is_recorded_and_removed() {
    let q = query("SELECT a FROM t EMIT CHANGES");
    assert_eq!(q.query.to_string(), "SELECT a FROM t");
    assert_eq!(q.emit, Some(EmitClause::Changes));
    assert!(q.window.is_none());
}

#[test]
fn named_window_is_left_to_sqlparser() {
    let q = query("SELECT SUM(x) OVER w FROM t WINDOW w AS (PARTITION BY k)");
    assert!(q.window.is_none());
    assert!(q.query.to_string().contains("WINDOW w AS (PARTITION BY k)"));
}

#[test]
fn string_literals_mentioning_window_or_emit_are_untouched() {
    let q = query("SELECT 'WINDOW TUMBLING(x, 10s) EMIT CHANGES' AS s FROM t");
    assert!(q.window.is_none());
    assert!(q.emit.is_none());
    assert_eq!(
        q.query.to_string(),
        "SELECT 'WINDOW TUMBLING(x, 10s) EMIT CHANGES' AS s FROM t"
    );
}

#[test]
fn a_column_named_emit_is_not_a_clause() {
    let q = query("SELECT emit FROM t WHERE emit > 1");
    assert!(q.emit.is_none());
    assert_eq!(q.query.to_string(), "SELECT emit FROM t WHERE emit > 1");
    let q = query("SELECT a AS emit FROM t");
    assert!(q.emit.is_none());
}

#[test]
fn clauses_inside_subqueries_are_not_ours() {
    let q = query("SELECT a FROM (SELECT a FROM t) AS s EMIT FINAL");
    assert_eq!(q.query.to_string(), "SELECT a FROM (SELECT a FROM t) AS s");
    assert_eq!(q.emit, Some(EmitClause::Final));
}

// ---- duration shorthand --------------------------------------------------

#[test]
fn duration_shorthand_becomes_an_interval_anywhere() {
    let q = query("SELECT ts - 5m AS x FROM t WHERE d > 1h");
    assert_eq!(
        q.query.to_string(),
        "SELECT ts - INTERVAL '5m' AS x FROM t WHERE d > INTERVAL '1h'"
    );
    let q = query("SELECT 2d, 1.5s FROM t");
    assert_eq!(
        q.query.to_string(),
        "SELECT INTERVAL '2d', INTERVAL '1.5s' FROM t"
    );
}

#[test]
fn number_then_space_then_word_is_an_alias() {
    let q = query("SELECT 10 s FROM t");
    assert_eq!(q.query.to_string(), "SELECT 10 AS s FROM t");
}

#[test]
fn standard_interval_stays_as_sqlparser_parses_it() {
    let q = query("SELECT COUNT(*) FROM t WINDOW TUMBLING(ts, INTERVAL '10' SECOND)");
    let window = q.window.expect("window");
    match &window.args[1] {
        Expr::Interval(interval) => {
            assert_eq!(
                interval.leading_field,
                Some(sqlparser::ast::DateTimeField::Second)
            );
            assert_eq!(interval.value.to_string(), "'10'");
        }
        other => panic!("{other:?}"),
    }
}

// ---- CREATE STREAM .. AS -------------------------------------------------

#[test]
fn create_stream_as_select_with_properties_after_emit() {
    let q = query(
        "CREATE STREAM out_stream AS SELECT k, COUNT(*) FROM t GROUP BY k \
         WINDOW TUMBLING(ts, 1m) EMIT FINAL \
         WITH ('Path' = 'out.csv', FORMAT = csv, 'Shards' = 4, \"x.y\" = 'z')",
    );
    assert_eq!(q.stream_name.as_deref(), Some("out_stream"));
    assert_eq!(q.query.to_string(), "SELECT k, COUNT(*) FROM t GROUP BY k");
    assert_eq!(q.emit, Some(EmitClause::Final));
    assert_eq!(q.window.map(|w| w.function), Some(WindowFunction::Tumbling));
    let expected = [
        ("path", "out.csv"),
        ("format", "csv"),
        ("shards", "4"),
        ("x.y", "z"),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    assert_eq!(q.properties, expected);
    assert_eq!(q.location, at(1, 1));
}

#[test]
fn create_stream_as_select_with_properties_before_emit() {
    let q = query("CREATE STREAM s AS SELECT a FROM t WITH ('k' = 'v') EMIT CHANGES");
    assert_eq!(q.properties, vec![("k".to_string(), "v".to_string())]);
    assert_eq!(q.emit, Some(EmitClause::Changes));
    assert_eq!(q.query.to_string(), "SELECT a FROM t");
}

#[test]
fn create_stream_as_select_without_properties() {
    let q = query("  CREATE STREAM s AS SELECT a FROM t");
    assert_eq!(q.stream_name.as_deref(), Some("s"));
    assert!(q.properties.is_empty());
    assert_eq!(q.location, at(1, 3));
}

#[test]
fn properties_on_a_plain_select_are_rejected() {
    let (message, location) = error("SELECT a FROM t WITH ('k' = 'v')");
    assert!(message.contains("CREATE STREAM"), "{message}");
    assert_eq!(location, at(1, 17));
}

// ---- source DDL ----------------------------------------------------------

#[test]
fn create_table_maps_every_type() {
    let s = source(
        "CREATE TABLE trades (\n\
         a BOOLEAN, b BOOL, c BIGINT, d INT, e INTEGER, f SMALLINT, g TINYINT,\n\
         h DOUBLE, i FLOAT, j REAL, k DOUBLE PRECISION,\n\
         l DECIMAL(10,2), m NUMERIC(5,1), n DECIMAL, o NUMERIC(7),\n\
         p VARCHAR, q VARCHAR(20), r STRING, s TEXT, t CHAR(3),\n\
         u TIMESTAMP, v TIMESTAMP(3), w TIMESTAMP_LTZ NOT NULL\n\
         ) WITH ('PATH' = 'trades.csv', 'format' = 'csv')",
    );
    assert_eq!(s.name, "trades");
    let types: Vec<(String, DataType)> = s
        .columns
        .iter()
        .map(|c| (c.name.clone(), c.data_type))
        .collect();
    use DataType::*;
    let dec = |precision, scale| Decimal { precision, scale };
    let expected = [
        ("a", Boolean),
        ("b", Boolean),
        ("c", BigInt),
        ("d", BigInt),
        ("e", BigInt),
        ("f", BigInt),
        ("g", BigInt),
        ("h", Double),
        ("i", Double),
        ("j", Double),
        ("k", Double),
        ("l", dec(10, 2)),
        ("m", dec(5, 1)),
        ("n", dec(18, 0)),
        ("o", dec(7, 0)),
        ("p", Varchar),
        ("q", Varchar),
        ("r", Varchar),
        ("s", Varchar),
        ("t", Varchar),
        ("u", Timestamp),
        ("v", Timestamp),
        ("w", Timestamp),
    ];
    let expected: Vec<(String, DataType)> =
        expected.iter().map(|(n, t)| (n.to_string(), *t)).collect();
    assert_eq!(types, expected);
    assert_eq!(s.columns[0].location, at(2, 1));
    assert_eq!(s.columns[7].location, at(3, 1));
    assert_eq!(s.columns[8].location, at(3, 11));
    assert_eq!(
        s.properties,
        vec![
            ("path".to_string(), "trades.csv".to_string()),
            ("format".to_string(), "csv".to_string())
        ]
    );
    assert_eq!(s.location, at(1, 1));
}

#[test]
fn create_stream_and_create_source_declare_sources() {
    let s = source("CREATE STREAM ticks (sym VARCHAR, px DOUBLE) WITH ('path' = 'p.csv')");
    assert_eq!(s.name, "ticks");
    assert_eq!(s.columns.len(), 2);
    assert_eq!(s.columns[1].data_type, DataType::Double);
    let s = source("CREATE SOURCE src (x BIGINT) WITH (path = 'a.csv', 'batch' = 100)");
    assert_eq!(s.name, "src");
    assert_eq!(
        s.properties,
        vec![
            ("path".to_string(), "a.csv".to_string()),
            ("batch".to_string(), "100".to_string())
        ]
    );
}

#[test]
fn create_table_without_properties() {
    let s = source("CREATE TABLE t (x BIGINT)");
    assert!(s.properties.is_empty());
    assert_eq!(s.columns.len(), 1);
}

#[test]
fn oversized_decimals_are_rejected_naming_the_column() {
    let (message, location) = error("CREATE TABLE t (a BIGINT,\n  price DECIMAL(19, 2))");
    assert!(message.contains("column price"), "{message}");
    assert!(message.contains("DECIMAL(19,2)"), "{message}");
    assert_eq!(location, at(2, 3));
    let (message, _) = error("CREATE TABLE t (price DECIMAL(10, 19))");
    assert!(message.contains("column price"), "{message}");
    let (message, _) = error("CREATE TABLE t (price DECIMAL(4, 5))");
    assert!(message.contains("column price"), "{message}");
}

#[test]
fn unknown_type_is_an_error_naming_column_and_type() {
    let (message, location) = error("CREATE TABLE t (a BIGINT,\n   blobby BLOB)");
    assert!(message.contains("column blobby"), "{message}");
    assert!(message.contains("BLOB"), "{message}");
    assert_eq!(location, at(2, 4));
}

#[test]
fn column_constraints_other_than_null_are_rejected() {
    let (message, _) = error("CREATE TABLE t (a BIGINT PRIMARY KEY)");
    assert!(message.contains("column a"), "{message}");
}

// ---- metadata columns (Flink's METADATA FROM) -----------------------------

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn metadata_clauses_become_the_metadata_with_keys() {
    let s = source(
        "CREATE TABLE k (\n  ts TIMESTAMP(3) METADATA FROM 'timestamp',\n  \
         part INT METADATA FROM 'partition' VIRTUAL,\n  sym VARCHAR NOT NULL,\n  \
         k VARCHAR METADATA FROM 'KEY',\n  h VARCHAR METADATA FROM 'headers',\n  \
         \"offset\" BIGINT METADATA VIRTUAL,\n  \
         WATERMARK FOR ts AS ts - INTERVAL '2' SECOND\n) WITH ('connector' = 'kafka')",
    );
    let columns: Vec<(&str, DataType)> = s
        .columns
        .iter()
        .map(|c| (c.name.as_str(), c.data_type))
        .collect();
    assert_eq!(
        columns,
        [
            ("ts", DataType::Timestamp),
            ("part", DataType::BigInt),
            ("sym", DataType::Varchar),
            ("k", DataType::Varchar),
            ("h", DataType::Varchar),
            ("offset", DataType::BigInt),
        ]
    );
    assert_eq!(s.columns[5].location, at(7, 3));
    assert_eq!(
        s.properties,
        pairs(&[
            ("connector", "kafka"),
            ("timestamp", "ts"),
            ("watermark.max_out_of_orderness", "2 SECOND"),
            ("metadata.timestamp", "ts"),
            ("metadata.partition", "part"),
            ("metadata.key", "k"),
            ("metadata.headers", "h"),
            ("metadata.offset", "offset"),
        ])
    );
}

#[test]
fn a_column_named_metadata_is_still_a_column() {
    let s = source("CREATE TABLE t (metadata VARCHAR, virtual BIGINT) WITH ('path' = 'x.csv')");
    assert_eq!(s.columns.len(), 2);
    assert_eq!(s.properties, pairs(&[("path", "x.csv")]));
}

#[test]
fn an_unknown_metadata_key_names_the_column_and_the_known_keys() {
    let (message, location) =
        error("CREATE TABLE t (a BIGINT,\n  h VARCHAR METADATA FROM 'header')");
    assert!(
        message.contains("column h: unknown metadata key 'header'"),
        "{message}"
    );
    assert!(
        message.contains("known: timestamp, partition, offset, key, headers"),
        "{message}"
    );
    assert_eq!(location, at(2, 27));
    // Without FROM, the column's name is the key.
    let (message, location) = error("CREATE TABLE t (off BIGINT METADATA)");
    assert!(
        message.contains("column off: unknown metadata key 'off'"),
        "{message}"
    );
    assert_eq!(location, at(1, 17));
}

#[test]
fn metadata_from_needs_a_quoted_key() {
    let (message, location) = error("CREATE TABLE t (o BIGINT METADATA FROM offset)");
    assert!(
        message.contains("column o: expected a quoted metadata key after METADATA FROM"),
        "{message}"
    );
    assert_eq!(location, at(1, 40));
}

#[test]
fn metadata_declared_twice_is_an_error() {
    let (message, location) = error(
        "CREATE TABLE t (o BIGINT METADATA FROM 'offset', p BIGINT)\n\
         WITH ('metadata.offset' = 'p')",
    );
    assert!(
        message.contains(
            "column o: metadata 'offset' is declared twice (METADATA FROM 'offset' here, \
             and WITH 'metadata.offset' = 'p')"
        ),
        "{message}"
    );
    assert_eq!(location, at(1, 26));
    let (message, location) = error(
        "CREATE TABLE t (o BIGINT METADATA FROM 'offset',\n  p BIGINT METADATA FROM 'offset')",
    );
    assert!(
        message.contains("column p: metadata 'offset' is declared twice")
            && message.contains("column o)"),
        "{message}"
    );
    assert_eq!(location, at(2, 12));
}

#[test]
fn garbage_after_ddl_is_an_error() {
    let (message, location) = error("CREATE TABLE t (a BIGINT) WITH ('a' = 'b') extra");
    assert!(message.contains("extra"), "{message}");
    assert_eq!(location, at(1, 44));
}

// ---- Flink-style windows and expressions ---------------------------------

#[test]
fn flink_window_functions_stay_in_group_by() {
    let q = query("SELECT k, COUNT(*) FROM t GROUP BY k, TUMBLE(ts, INTERVAL '10' SECOND)");
    assert_eq!(group_by(&q), ["k", "TUMBLE(ts, INTERVAL '10' SECOND)"]);
    assert!(q.window.is_none());
    let q = query("SELECT k FROM t GROUP BY k, HOP(ts, 5s, INTERVAL '1' MINUTE)");
    assert_eq!(
        group_by(&q),
        ["k", "HOP(ts, INTERVAL '5s', INTERVAL '1' MINUTE)"]
    );
}

#[test]
fn session_function_parses_in_group_by_and_select() {
    let q = query(
        "SELECT SESSION_START(ts, INTERVAL '10' SECOND), SESSION(ts, INTERVAL '10' SECOND) \
         FROM t GROUP BY k, SESSION(ts, INTERVAL '10' SECOND)",
    );
    assert_eq!(group_by(&q), ["k", "SESSION(ts, INTERVAL '10' SECOND)"]);
    let SetExpr::Select(select) = q.query.body.as_ref() else {
        panic!("not a select");
    };
    assert_eq!(
        select.projection[1].to_string(),
        "SESSION(ts, INTERVAL '10' SECOND)"
    );
    match &select.projection[1] {
        sqlparser::ast::SelectItem::UnnamedExpr(Expr::Function(f)) => {
            assert_eq!(f.name.to_string(), "SESSION")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn common_expressions_parse() {
    let exprs = [
        "COUNT(*) FILTER (WHERE price < 10000)",
        "COUNT(DISTINCT x)",
        "CAST(x AS DOUBLE)",
        "x || y",
        "TRIM(BOTH 'x' FROM s)",
        "SUBSTRING(s FROM 1 FOR 2)",
        "SUBSTRING(s, 1, 2)",
        "CASE WHEN a > 1 THEN 'big' ELSE 'small' END",
        "CASE a WHEN 1 THEN 'one' END",
        "EXTRACT(HOUR FROM ts)",
        "x BETWEEN a AND b",
        "s LIKE 'a%'",
        "x IN (1, 2, 3)",
        "x NOT IN ('a', 'b')",
        "x IS NOT NULL",
        "-x % 3",
    ];
    for expr in exprs {
        let q = query(&format!("SELECT {expr} FROM t"));
        assert_eq!(q.query.to_string(), format!("SELECT {expr} FROM t"));
    }
}

// ---- scripts -------------------------------------------------------------

#[test]
fn scripts_hold_several_statements() {
    let statements = parse_sql(
        "CREATE TABLE t (a BIGINT) WITH ('path' = 'x.csv');\n\
         SELECT a FROM t;\n\
         -- the last one\n\
         SELECT a FROM t EMIT CHANGES;",
    )
    .expect("parses");
    assert_eq!(statements.len(), 3);
    assert!(matches!(statements[0], Statement::CreateSource(_)));
    match &statements[2] {
        Statement::Query(q) => {
            assert_eq!(q.location, at(4, 1));
            assert_eq!(q.emit, Some(EmitClause::Changes));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn empty_scripts_have_no_statement() {
    for sql in ["", "  ;  ; -- just a comment\n"] {
        let (message, _) = error(sql);
        assert!(message.contains("no statement"), "{message}");
    }
}

// ---- errors --------------------------------------------------------------

#[test]
fn parse_error_reports_line_and_column() {
    let (message, location) = error("SELECT a,\n  b\nFROM t WHERE a > > 1");
    assert_eq!(location, at(3, 18));
    assert!(message.contains("Expected: an expression"), "{message}");
    assert!(message.contains("found: >"), "{message}");
    assert!(!message.contains("Line"), "{message}");
}

#[test]
fn unknown_window_kind_reports_line_3_column_8() {
    let (message, location) =
        error("SELECT k, COUNT(*) FROM t\nGROUP BY k\nWINDOW HOPPING(ts, 1s, 2s)");
    assert_eq!(
        message,
        "expected TUMBLING, SLIDING or SESSION after WINDOW, found HOPPING"
    );
    assert_eq!(location, at(3, 8));
}

#[test]
fn window_without_parentheses_is_an_error() {
    let (message, location) = error("SELECT 1 FROM t WINDOW TUMBLING ts");
    assert_eq!(message, "expected ( after WINDOW TUMBLING, found ts");
    assert_eq!(location, at(1, 33));
}

#[test]
fn unclosed_window_is_an_error() {
    let (message, location) = error("SELECT 1 FROM t WINDOW TUMBLING(ts, 1s");
    assert!(message.contains("never closed"), "{message}");
    assert_eq!(location, at(1, 32));
}

#[test]
fn bad_window_argument_reports_its_location() {
    let (message, location) = error("SELECT 1 FROM t\n WINDOW TUMBLING(ts,, 1s)");
    assert!(message.contains("found: ,"), "{message}");
    assert_eq!(location, at(2, 21));
}

#[test]
fn unknown_emit_kind_is_an_error() {
    let (message, location) = error("SELECT a FROM t\nEMIT SOMETIMES");
    assert_eq!(
        message,
        "expected CHANGES or FINAL after EMIT, found SOMETIMES"
    );
    assert_eq!(location, at(2, 6));
    let (message, location) = error("SELECT a FROM t EMIT");
    assert_eq!(message, "expected CHANGES or FINAL after EMIT, found EOF");
    assert_eq!(location, at(1, 21));
}

#[test]
fn duplicate_clauses_are_errors() {
    let (message, location) = error("SELECT a FROM t EMIT FINAL EMIT CHANGES");
    assert!(message.contains("EMIT clause written twice"), "{message}");
    assert_eq!(location, at(1, 28));
}

#[test]
fn tokenizer_errors_report_location() {
    let (message, location) = error("SELECT a\nFROM t WHERE s = 'open");
    assert!(message.contains("Unterminated string literal"), "{message}");
    assert_eq!(location, at(2, 18));
}

#[test]
fn trailing_tokens_are_an_error() {
    let (message, location) = error("SELECT a FROM t x y");
    assert_eq!(message, "Expected: end of statement, found: y");
    assert_eq!(location, at(1, 19));
}

#[test]
fn unsupported_statements_are_named() {
    let cases = [
        ("INSERT INTO t VALUES (1)", "INSERT statements"),
        ("UPDATE t SET a = 1", "UPDATE statements"),
        ("DROP TABLE t", "DROP TABLE statements"),
        ("CREATE INDEX i ON t (a)", "CREATE INDEX statements"),
    ];
    for (sql, expected) in cases {
        let (message, location) = error(sql);
        assert!(message.starts_with(expected), "{sql}: {message}");
        assert_eq!(location, at(1, 1));
    }
}

#[test]
fn misspelled_statement_is_a_parse_error() {
    let (message, location) = error("SELEC a FROM t");
    assert!(message.contains("found: SELEC"), "{message}");
    assert_eq!(location, at(1, 1));
}

#[test]
fn error_in_second_statement_has_its_own_location() {
    let (_, location) = error("SELECT a FROM t;\nSELECT FROM WHERE");
    assert_eq!(location.line, 2);
}

#[test]
fn unexpected_end_reports_where_the_statement_ends() {
    let (message, location) = error("SELECT a\n  FROM");
    assert!(message.contains("found: EOF"), "{message}");
    assert_eq!(location, at(2, 7));
}

#[test]
fn window_location_on_a_later_line() {
    let q =
        query("CREATE STREAM s AS\nSELECT COUNT(*) FROM t\n  WINDOW SESSION(ts, 5m)\nEMIT CHANGES");
    assert_eq!(q.window.map(|w| w.location), Some(at(3, 3)));
    assert_eq!(q.location, at(1, 1));
}

#[test]
fn flink_temporary_tables_and_views_are_declared_like_plain_ones() {
    let table = source("CREATE TEMPORARY TABLE t (a BIGINT) WITH ('path' = 'x.csv')");
    assert_eq!(table.name, "t");
    assert_eq!(table.columns.len(), 1);
    for sql in [
        "CREATE VIEW v AS SELECT a FROM t WHERE a > 1",
        "CREATE OR REPLACE TEMPORARY VIEW v AS SELECT a FROM t WHERE a > 1",
        "CREATE TEMP VIEW v AS SELECT a FROM t WHERE a > 1",
    ] {
        match single(sql) {
            Statement::CreateView(view) => {
                assert_eq!(view.name.value, "v", "{sql}");
                assert_eq!(view.query.to_string(), "SELECT a FROM t WHERE a > 1");
                assert_eq!(view.location, at(1, 1));
            }
            other => panic!("{sql}: not a view: {other:?}"),
        }
    }
}

#[test]
fn a_velostream_window_without_a_time_column_reads_rowtime() {
    let q = query("SELECT COUNT(*) FROM t GROUP BY k WINDOW SLIDING(5m, 1m)");
    let window = q.window.expect("a window clause");
    let args: Vec<String> = window.args.iter().map(|a| a.to_string()).collect();
    assert_eq!(args[0], "ROWTIME");
    assert_eq!(args.len(), 3, "{args:?}");
}
