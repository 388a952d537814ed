//! Tests of merging nested queries: each nested query must plan exactly as
//! the flat query a person would write for it, and every shape that needs a
//! second stage must be refused with its reason.

use crate::data::{DataType, Field, Schema};
use crate::plan::{plan_query, Catalog, PlanSettings, QueryPlan, TableDef};
use crate::sql::{parse_sql, Statement, StreamingQuery};

fn catalog() -> Catalog {
    let fields = [
        ("symbol", DataType::Varchar),
        ("price", DataType::Double),
        ("qty", DataType::BigInt),
        ("ts", DataType::Timestamp),
    ];
    let mut catalog = Catalog::default();
    catalog.add(TableDef {
        name: "trades".into(),
        schema: Schema::new(fields.iter().map(|(n, t)| Field::new(*n, *t)).collect()),
        properties: vec![("path".into(), "trades.csv".into())],
    });
    catalog
}

/// The script's query, with its views readable (as the CLI does).
fn script_query(sql: &str) -> crate::Result<StreamingQuery> {
    let mut views = Vec::new();
    let mut query = None;
    for statement in parse_sql(sql)? {
        match statement {
            Statement::CreateView(view) => views.push(view),
            Statement::Query(q) => query = Some(q),
            Statement::CreateSource(_) => panic!("no sources in these tests: {sql}"),
        }
    }
    let mut query = query.expect("the script has a query");
    query.read_views(views);
    Ok(query)
}

fn plan(sql: &str) -> crate::Result<QueryPlan> {
    plan_query(&script_query(sql)?, &catalog(), &PlanSettings::default())
}

fn planned(sql: &str) -> QueryPlan {
    plan(sql).unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// `nested` plans exactly as `flat`.
fn assert_same_plan(nested: &str, flat: &str) {
    let (nested_plan, flat_plan) = (planned(nested), planned(flat));
    assert_eq!(
        format!("{nested_plan:?}"),
        format!("{flat_plan:?}"),
        "{nested}\nis not planned as\n{flat}"
    );
}

fn error(sql: &str) -> String {
    match plan(sql) {
        Ok(p) => panic!("{sql}: expected an error, got\n{}", p.explain()),
        Err(e) => e.to_string(),
    }
}

fn assert_error(sql: &str, fragment: &str) {
    let message = error(sql);
    assert!(message.contains(fragment), "{sql}: {message}");
}

#[test]
fn a_filtering_subquery_merges_into_the_outer_where_and_select() {
    assert_same_plan(
        "SELECT s, p * 2 AS p2, p + qty FROM \
           (SELECT symbol AS s, price AS p, qty FROM trades WHERE qty > 1) t \
         WHERE t.p > 10",
        "SELECT symbol AS s, price * 2 AS p2, price + qty AS \"p + qty\" FROM trades \
         WHERE (qty > 1) AND (price > 10)",
    );
}

#[test]
fn select_all_is_not_a_grouping() {
    assert_same_plan(
        "SELECT ALL s, COUNT(*) AS n FROM (SELECT ALL symbol AS s FROM trades) GROUP BY s",
        "SELECT symbol AS s, COUNT(*) AS n FROM trades GROUP BY symbol",
    );
}

#[test]
fn an_expression_column_keeps_its_precedence() {
    assert_same_plan(
        "SELECT d * 2 AS x FROM (SELECT price - qty AS d FROM trades)",
        "SELECT (price - qty) * 2 AS x FROM trades",
    );
}

#[test]
fn time_units_and_window_bounds_are_not_taken_for_columns() {
    assert_same_plan(
        "SELECT TIMESTAMPDIFF(SECOND, t, t) AS d, TIMESTAMPADD(MINUTE, q, t) AS later \
         FROM (SELECT ts AS t, qty AS q FROM trades)",
        "SELECT TIMESTAMPDIFF(SECOND, ts, ts) AS d, TIMESTAMPADD(MINUTE, qty, ts) AS later \
         FROM trades",
    );
}

#[test]
fn star_over_a_subquery_is_its_select_list() {
    assert_same_plan(
        "SELECT * FROM (SELECT symbol, qty * 2 AS q2 FROM trades) s",
        "SELECT symbol, qty * 2 AS q2 FROM trades",
    );
    assert_same_plan(
        "SELECT s.*, price FROM (SELECT * FROM trades WHERE qty > 1) s",
        "SELECT *, price FROM trades WHERE qty > 1",
    );
}

#[test]
fn grouping_over_a_filtering_subquery_groups_the_source() {
    assert_same_plan(
        "SELECT s, COUNT(*) AS n, SUM(v) AS total FROM \
           (SELECT symbol AS s, price * qty AS v FROM trades WHERE price > 0) \
         GROUP BY s",
        "SELECT symbol AS s, COUNT(*) AS n, SUM(price * qty) AS total FROM trades \
         WHERE price > 0 GROUP BY symbol",
    );
}

#[test]
fn a_filter_over_a_grouping_subquery_becomes_having() {
    assert_same_plan(
        "SELECT symbol, v FROM \
           (SELECT symbol, SUM(qty) AS v, COUNT(*) AS n FROM trades GROUP BY symbol) \
         WHERE v > 10 AND symbol <> 'X'",
        "SELECT symbol, SUM(qty) AS v FROM trades GROUP BY symbol \
         HAVING SUM(qty) > 10 AND symbol <> 'X'",
    );
}

#[test]
fn a_filter_over_a_window_table_function_aggregate_becomes_having() {
    assert_same_plan(
        "SELECT * FROM (SELECT window_start, window_end, symbol, COUNT(*) AS n \
           FROM TABLE(TUMBLE(TABLE trades, DESCRIPTOR(ts), INTERVAL '1' MINUTE)) \
           GROUP BY window_start, window_end, symbol) WHERE n > 1",
        "SELECT window_start, window_end, symbol, COUNT(*) AS n \
         FROM TABLE(TUMBLE(TABLE trades, DESCRIPTOR(ts), INTERVAL '1' MINUTE)) \
         GROUP BY window_start, window_end, symbol HAVING COUNT(*) > 1",
    );
}

#[test]
fn the_window_of_a_grouping_over_a_subquery_reads_through_it() {
    assert_same_plan(
        "SELECT symbol, TUMBLE_START(t, INTERVAL '1' MINUTE) AS w, COUNT(*) AS n FROM \
           (SELECT symbol, ts AS t FROM trades WHERE qty > 1) \
         GROUP BY symbol, TUMBLE(t, INTERVAL '1' MINUTE)",
        "SELECT symbol, TUMBLE_START(ts, INTERVAL '1' MINUTE) AS w, COUNT(*) AS n FROM trades \
         WHERE qty > 1 GROUP BY symbol, TUMBLE(ts, INTERVAL '1' MINUTE)",
    );
    assert_same_plan(
        "SELECT symbol, window_start, COUNT(*) AS n FROM (SELECT symbol, ts AS t FROM trades) \
         GROUP BY symbol WINDOW TUMBLING(t, INTERVAL '1' MINUTE)",
        "SELECT symbol, window_start, COUNT(*) AS n FROM trades \
         GROUP BY symbol WINDOW TUMBLING(ts, INTERVAL '1' MINUTE)",
    );
}

#[test]
fn with_queries_read_earlier_ones_and_nest() {
    assert_same_plan(
        "WITH big AS (SELECT * FROM trades WHERE qty > 5), \
              dear AS (SELECT symbol, price FROM big WHERE price > 100) \
         SELECT symbol, COUNT(*) AS n FROM (SELECT * FROM dear) GROUP BY symbol",
        "SELECT symbol, COUNT(*) AS n FROM trades WHERE (qty > 5) AND (price > 100) \
         GROUP BY symbol",
    );
}

#[test]
fn a_with_query_hides_a_source_of_the_same_name() {
    assert_same_plan(
        "WITH trades AS (SELECT * FROM trades WHERE qty > 5) SELECT symbol FROM trades",
        "SELECT symbol FROM trades WHERE qty > 5",
    );
}

#[test]
fn a_view_is_read_like_a_with_query() {
    assert_same_plan(
        "CREATE TEMPORARY VIEW big AS SELECT symbol, qty FROM trades WHERE qty > 5; \
         CREATE OR REPLACE VIEW totals AS SELECT symbol, SUM(qty) AS v FROM big GROUP BY symbol; \
         SELECT * FROM totals WHERE v > 100",
        "SELECT symbol, SUM(qty) AS v FROM trades WHERE qty > 5 GROUP BY symbol \
         HAVING SUM(qty) > 100",
    );
}

#[test]
fn a_window_table_function_over_a_view_windows_the_view_source() {
    assert_same_plan(
        "CREATE VIEW big AS SELECT symbol, qty AS q, ts AS t FROM trades WHERE qty > 5; \
         SELECT window_start, window_end, symbol, SUM(q) AS v \
         FROM TABLE(TUMBLE(TABLE big, DESCRIPTOR(t), INTERVAL '1' MINUTE)) \
         GROUP BY window_start, window_end, symbol",
        "SELECT window_start, window_end, symbol, SUM(qty) AS v \
         FROM TABLE(TUMBLE(TABLE trades, DESCRIPTOR(ts), INTERVAL '1' MINUTE)) \
         WHERE qty > 5 GROUP BY window_start, window_end, symbol",
    );
    assert_same_plan(
        "WITH dear AS (SELECT * FROM trades x WHERE x.price > 10) \
         SELECT window_end, COUNT(*) AS n \
         FROM TABLE(HOP(TABLE dear, DESCRIPTOR(ts), INTERVAL '10' SECOND, INTERVAL '1' MINUTE)) \
         GROUP BY window_start, window_end",
        "SELECT window_end, COUNT(*) AS n \
         FROM TABLE(HOP(TABLE trades, DESCRIPTOR(ts), INTERVAL '10' SECOND, INTERVAL '1' MINUTE)) \
         WHERE trades.price > 10 GROUP BY window_start, window_end",
    );
    assert_same_plan(
        "CREATE VIEW v AS SELECT symbol, ts FROM trades WHERE qty > 1; \
         SELECT symbol, window_start, COUNT(*) AS n FROM TUMBLE(v, ts, INTERVAL '1' MINUTE) \
         GROUP BY symbol, window_start, window_end",
        "SELECT symbol, window_start, COUNT(*) AS n FROM TUMBLE(trades, ts, INTERVAL '1' MINUTE) \
         WHERE qty > 1 GROUP BY symbol, window_start, window_end",
    );
}

#[test]
fn a_session_over_a_view_partitions_by_the_view_columns() {
    assert_same_plan(
        "CREATE VIEW v AS SELECT symbol AS s, qty, ts AS t FROM trades WHERE qty > 1; \
         SELECT s, window_start, COUNT(*) AS n \
         FROM TABLE(SESSION(TABLE v PARTITION BY s, DESCRIPTOR(t), INTERVAL '1' MINUTE)) \
         GROUP BY window_start, window_end, s",
        "SELECT symbol AS s, window_start, COUNT(*) AS n FROM trades WHERE qty > 1 \
         GROUP BY symbol, SESSION(ts, INTERVAL '1' MINUTE)",
    );
}

#[test]
fn limits_merge_when_the_outer_query_only_projects() {
    assert_same_plan(
        "SELECT symbol FROM (SELECT * FROM trades LIMIT 5) LIMIT 3",
        "SELECT symbol FROM trades LIMIT 3",
    );
    assert_same_plan(
        "SELECT symbol FROM (SELECT * FROM trades LIMIT 2) LIMIT 3",
        "SELECT symbol FROM trades LIMIT 2",
    );
    assert_error(
        "SELECT symbol FROM (SELECT * FROM trades LIMIT 5) WHERE qty > 1",
        "a filter or grouping over a subquery with LIMIT is not supported",
    );
}

#[test]
fn shapes_that_need_a_second_stage_are_refused_with_the_reason() {
    let cases = [
        (
            "SELECT COUNT(*) FROM (SELECT n, COUNT(*) AS c FROM (SELECT symbol, COUNT(*) AS n \
             FROM trades GROUP BY symbol) GROUP BY n) EMIT FINAL",
            "line 1, column 1: this query groups or aggregates over a subquery that groups",
        ),
        (
            "SELECT symbol FROM (SELECT DISTINCT symbol, qty FROM trades)",
            "a subquery with SELECT DISTINCT can only be read whole",
        ),
        (
            "SELECT * FROM (SELECT * FROM trades) s JOIN trades t ON s.symbol = t.symbol",
            "column 45: a JOIN after a subquery in FROM is not supported",
        ),
        (
            "SELECT * FROM (SELECT * FROM trades ORDER BY ts)",
            "ORDER BY inside a subquery is not supported",
        ),
        (
            "SELECT * FROM (SELECT symbol FROM trades INTERSECT SELECT symbol FROM trades)",
            "INTERSECT is not supported; UNION ALL is",
        ),
        (
            "WITH RECURSIVE r AS (SELECT * FROM trades) SELECT * FROM r",
            "WITH RECURSIVE is not supported",
        ),
        (
            "WITH r (a, b) AS (SELECT symbol, qty FROM trades) SELECT * FROM r",
            "line 1, column 9: column names after WITH r are not supported",
        ),
        (
            "SELECT * FROM (SELECT symbol, qty FROM trades) AS s (a, b)",
            "column names after a subquery's alias are not supported",
        ),
        (
            "CREATE VIEW v AS SELECT symbol, COUNT(*) AS n FROM trades GROUP BY symbol; \
             SELECT * FROM TABLE(TUMBLE(TABLE v, DESCRIPTOR(ts), INTERVAL '1' MINUTE))",
            "a window table function over v is not supported: it groups or has a LIMIT",
        ),
        (
            "CREATE VIEW v AS SELECT symbol, ts + INTERVAL '1' SECOND AS t FROM trades; \
             SELECT * FROM TABLE(TUMBLE(TABLE v, DESCRIPTOR(t), INTERVAL '1' MINUTE))",
            "the time column of a window over v must be a column of its source",
        ),
    ];
    for (sql, fragment) in cases {
        assert_error(sql, fragment);
    }
}

#[test]
fn a_column_the_subquery_does_not_have_is_named_with_the_ones_it_has() {
    assert_error(
        "SELECT price FROM (SELECT symbol, qty AS q FROM trades)",
        "line 1, column 8: column price is not a column of the subquery (its columns: symbol, q)",
    );
    assert_error(
        "SELECT t.qty FROM (SELECT symbol, qty FROM trades t) s",
        "`t.qty` is not a column here: the subquery's columns are s.<column> or <column>",
    );
    assert_error(
        "SELECT q FROM (SELECT qty AS q, price AS q FROM trades)",
        "`q` is ambiguous: the subquery has two columns called q",
    );
}

#[test]
fn a_view_cannot_window_or_emit_and_needs_a_name_of_its_own() {
    let windowed = "CREATE VIEW v AS SELECT symbol, COUNT(*) AS n FROM trades GROUP BY symbol \
                    EMIT FINAL; SELECT * FROM v";
    let message = match script_query(windowed) {
        Ok(_) => panic!("a view with EMIT parsed"),
        Err(e) => e.to_string(),
    };
    assert!(
        message.contains("a view cannot have WINDOW or EMIT clauses"),
        "{message}"
    );
}

#[test]
fn row_number_equal_to_one_keeps_the_first_row_per_key() {
    let plan = planned(
        "SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY symbol ORDER BY ts) AS rn \
         FROM trades WHERE qty > 0) WHERE rn = 1",
    );
    let explained = plan.explain();
    let expected = [
        "Output: symbol VARCHAR, price DOUBLE, qty BIGINT, ts TIMESTAMP, rn BIGINT",
        "keys [#0 symbol]",
        "ARG_MIN(#1 price, #3 ts) RESPECT NULLS",
        "ARG_MIN(#2 qty, #3 ts) RESPECT NULLS",
        "Filter: (#2 qty > 0)",
    ];
    for fragment in expected {
        assert!(explained.contains(fragment), "{fragment} in\n{explained}");
    }
    let last = planned(
        "SELECT symbol, price FROM (SELECT symbol, price, ROW_NUMBER() OVER \
         (PARTITION BY symbol ORDER BY ts DESC) AS rn FROM trades) WHERE 1 >= rn AND price > 1",
    );
    let explained = last.explain();
    assert!(
        explained.contains("ARG_MAX(#1 price, #3 ts) RESPECT NULLS"),
        "{explained}"
    );
    let kept = explained.contains("having: (#1 agg0 > 1)");
    assert!(kept, "the other condition is kept: {explained}");
}

#[test]
fn row_number_in_a_window_keeps_the_first_row_per_key_and_window() {
    let explained = planned(
        "SELECT window_start, symbol, price FROM (SELECT *, ROW_NUMBER() OVER \
           (PARTITION BY window_start, window_end, symbol ORDER BY ts) AS rn \
         FROM TABLE(TUMBLE(TABLE trades, DESCRIPTOR(ts), INTERVAL '1' MINUTE))) WHERE rn <= 1",
    )
    .explain();
    assert!(explained.contains("TUMBLING(size 1m)"), "{explained}");
    assert!(
        explained.contains("ARG_MIN(#1 price, #3 ts) RESPECT NULLS"),
        "{explained}"
    );
}

#[test]
fn other_uses_of_row_number_and_over_are_over_queries() {
    let numbered = "SELECT * FROM (SELECT symbol, ROW_NUMBER() OVER \
                    (PARTITION BY symbol ORDER BY price DESC) AS rn FROM trades)";
    let top = planned(&format!("{numbered} WHERE rn <= 3")).explain();
    assert!(
        top.contains("TopN: the first 3 rows of each PARTITION BY [#0 symbol]"),
        "{top}"
    );
    assert_error(numbered, "a Top-N, which needs a bound on the row number");
    // A WHERE around a subquery with OVER filters the rows the windows made.
    assert_same_plan(
        "SELECT * FROM (SELECT symbol, LAG(price) OVER (PARTITION BY symbol ORDER BY ts) AS p \
         FROM trades) WHERE p > 1",
        "SELECT symbol, LAG(price) OVER (PARTITION BY symbol ORDER BY ts) AS p \
         FROM trades QUALIFY p > 1",
    );
    assert_error(
        "SELECT * FROM (SELECT symbol, ROW_NUMBER() OVER (PARTITION BY symbol) AS rn \
         FROM trades) WHERE rn = 1",
        "OVER needs ORDER BY the event-time column",
    );
    assert_error(
        "SELECT symbol, COUNT(*) FROM (SELECT symbol, LAG(price) OVER \
         (PARTITION BY symbol ORDER BY ts) AS p FROM trades) GROUP BY symbol",
        "needs a second stage",
    );
}
