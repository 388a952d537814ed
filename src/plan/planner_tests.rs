//! Tests of `plan_query` and `explain`, over hand-built `StreamingQuery`s.

use super::*;
use crate::data::{DataType, Decimal, Value};
use crate::error::SqlLocation;
use crate::plan::{
    AggregateCall, AggregateFunction, BinaryOp, ExprKind, ScalarFunction, Settling, SortKey,
    TopNPlan, TrimSide, WindowKind, WindowSpec,
};
use crate::sql::{WindowClause, WindowFunction};
use sqlparser::dialect::GenericDialect;
use sqlparser::parser::Parser;

fn dec(precision: u8, scale: u8) -> DataType {
    DataType::Decimal { precision, scale }
}

fn trades() -> TableDef {
    let fields = [
        ("symbol", DataType::Varchar),
        ("price", DataType::Double),
        ("qty", DataType::BigInt),
        ("ts", DataType::Timestamp),
        ("amount", dec(10, 2)),
        ("seq", DataType::BigInt),
    ];
    TableDef {
        name: "trades".into(),
        schema: Schema::new(fields.iter().map(|(n, t)| Field::new(*n, *t)).collect()),
        properties: vec![("path".into(), "trades.csv".into())],
    }
}

fn catalog() -> Catalog {
    let mut c = Catalog::default();
    c.add(trades());
    c
}

fn query(sql: &str) -> StreamingQuery {
    let mut statements = Parser::parse_sql(&GenericDialect {}, sql).expect("test SQL parses");
    let query = match statements.remove(0) {
        sqlparser::ast::Statement::Query(q) => q,
        other => panic!("not a query: {other}"),
    };
    StreamingQuery {
        query,
        window: None,
        emit: None,
        stream_name: None,
        properties: Vec::new(),
        system_time: Vec::new(),
        within: None,
        insert_into: false,
        location: SqlLocation { line: 1, column: 1 },
    }
}

fn expr(sql: &str) -> SqlExpr {
    Parser::new(&GenericDialect {})
        .try_with_sql(sql)
        .and_then(|mut p| p.parse_expr())
        .expect("test expression parses")
}

fn window(function: WindowFunction, args: &[&str]) -> WindowClause {
    WindowClause {
        function,
        args: args.iter().map(|a| expr(a)).collect(),
        location: SqlLocation {
            line: 1,
            column: 40,
        },
    }
}

fn plan_of(q: &StreamingQuery) -> QueryPlan {
    match plan_query(q, &catalog(), &PlanSettings::default()) {
        Ok(p) => p,
        Err(e) => panic!("planning failed: {e}"),
    }
}

fn plan(sql: &str) -> QueryPlan {
    plan_of(&query(sql))
}

fn error_of(q: &StreamingQuery) -> String {
    match plan_query(q, &catalog(), &PlanSettings::default()) {
        Ok(p) => panic!("expected an error, got a plan:\n{}", p.explain()),
        Err(e) => e.to_string(),
    }
}

fn error(sql: &str) -> String {
    error_of(&query(sql))
}

fn assert_contains(text: &str, fragment: &str) {
    assert!(text.contains(fragment), "expected {fragment:?} in {text:?}");
}

fn projections(p: &QueryPlan) -> &[ScalarExpr] {
    match &p.kind {
        QueryKind::Stateless { projections } => projections,
        QueryKind::Aggregate(a) => &a.projections,
        QueryKind::Over(o) => &o.projections,
        QueryKind::TopN(t) => &t.projections,
    }
}

fn aggregate(p: &QueryPlan) -> &AggregatePlan {
    match &p.kind {
        QueryKind::Aggregate(a) => a,
        _ => panic!("expected a grouped plan"),
    }
}

fn col(i: usize, t: DataType) -> ScalarExpr {
    ScalarExpr::column(i, t)
}

fn lit(v: Value) -> ScalarExpr {
    ScalarExpr::literal(v)
}

fn binary(op: BinaryOp, l: ScalarExpr, r: ScalarExpr, t: DataType) -> ScalarExpr {
    ScalarExpr::new(
        ExprKind::Binary {
            op,
            left: Box::new(l),
            right: Box::new(r),
        },
        t,
    )
}

fn output_names(p: &QueryPlan) -> Vec<&str> {
    p.output.names().collect()
}

fn first_type(sql_expr: &str) -> DataType {
    let p = plan(&format!("SELECT {sql_expr} FROM trades"));
    projections(&p)[0].data_type
}

// ---- sources and shape ----

#[test]
fn resolves_columns_case_insensitively_and_qualified() {
    let p = plan("SELECT Price, t.symbol, trades.qty FROM trades AS t");
    assert_eq!(
        projections(&p),
        &[
            col(1, DataType::Double),
            col(0, DataType::Varchar),
            col(2, DataType::BigInt)
        ]
    );
    assert_eq!(output_names(&p), ["price", "symbol", "qty"]);
    assert!(p.is_stateless());
    assert_eq!(p.source.name, "trades");
    assert_eq!(p.emit, EmitMode::Changes);
    assert_eq!(p.limit, None);
}

#[test]
fn table_lookup_is_case_insensitive() {
    let p = plan("SELECT qty FROM TRADES");
    assert_eq!(p.source.name, "trades");
}

#[test]
fn unknown_column_names_the_columns_and_the_place() {
    assert_eq!(
        error("SELECT symbol,\n  nope FROM trades"),
        "SQL error at line 2, column 3: unknown column 'nope' \
         (columns of trades: symbol, price, qty, ts, amount, seq)"
    );
}

#[test]
fn unknown_qualifier_is_an_error() {
    assert_contains(
        &error("SELECT x.price FROM trades"),
        "unknown table 'x' in `x.price` (the query reads trades)",
    );
}

#[test]
fn unknown_table_lists_known_tables() {
    assert_eq!(
        error("SELECT * FROM bids"),
        "SQL error at line 1, column 15: unknown table 'bids' (known tables: trades)"
    );
}

#[test]
fn unsupported_shapes_are_named() {
    let cases = [
        (
            "SELECT a.symbol FROM trades a RIGHT JOIN trades b ON a.symbol = b.symbol",
            "RIGHT and FULL joins are not supported",
        ),
        (
            "SELECT COUNT(*) FROM (SELECT symbol, COUNT(*) AS n FROM trades GROUP BY symbol)",
            "a grouping over a grouping groups again the grouping's final rows",
        ),
        (
            "SELECT * FROM trades, trades",
            "FROM a, b joins two streams on the equalities WHERE puts between their columns",
        ),
        (
            "SELECT DISTINCT ON (symbol) symbol FROM trades",
            "SELECT DISTINCT ON (..) is not supported",
        ),
        (
            "SELECT DISTINCT symbol, COUNT(*) FROM trades",
            "SELECT DISTINCT with aggregate functions is not supported",
        ),
        (
            "SELECT DISTINCT symbol FROM trades GROUP BY symbol",
            "SELECT DISTINCT with GROUP BY is not supported",
        ),
        (
            "SELECT symbol FROM trades UNION SELECT symbol FROM trades",
            "UNION without ALL is not supported",
        ),
        (
            "SELECT qty FROM trades LIMIT 5 OFFSET 2",
            "only LIMIT n is supported",
        ),
        (
            "SELECT qty FROM trades WHERE qty IN (SELECT qty FROM trades)",
            "only IN (value, ..) lists",
        ),
        (
            "SELECT (SELECT 1) FROM trades",
            "subqueries are not supported",
        ),
        (
            "SELECT ROW_NUMBER() OVER (PARTITION BY symbol) FROM trades",
            "OVER needs ORDER BY the event-time column",
        ),
        (
            "SELECT SUM(qty) OVER (PARTITION BY symbol ORDER BY price) FROM trades",
            "OVER's ORDER BY column `price` is DOUBLE",
        ),
    ];
    for (sql, fragment) in cases {
        assert_contains(&error(sql), fragment);
    }
}

#[test]
fn join_error_points_at_the_condition() {
    assert_contains(
        &error("SELECT qty FROM trades JOIN trades b ON true"),
        "SQL error at line 1, column 41: ON may only hold equalities",
    );
    // A range comparison makes it a join of two streams, which needs an
    // equality on a key.
    assert_contains(
        &error("SELECT qty FROM trades JOIN trades b ON trades.price < b.price"),
        "SQL error at line 1, column 29: a join of two streams needs an equality on a key",
    );
}

#[test]
fn a_join_copies_only_the_table_columns_some_clause_reads() {
    // Read: symbol (the inner join's match test) and qty (an aggregate's
    // argument); no other column of the joined table.
    let p = plan(
        "SELECT t.symbol, SUM(d.qty) AS q FROM trades t JOIN trades d ON t.symbol = d.symbol \
         GROUP BY t.symbol",
    );
    let names = p.source.schema.names();
    let read: Vec<&str> = names
        .zip(&p.lookups[0].read)
        .filter(|(_, &read)| read)
        .map(|(name, _)| name)
        .collect();
    assert_eq!(read, ["symbol", "qty"]);
    let left = plan("SELECT t.price FROM trades t LEFT JOIN trades d ON t.symbol = d.symbol");
    assert!(
        left.lookups[0].read.iter().all(|read| !read),
        "a LEFT join whose columns are not used reads none"
    );
}

#[test]
fn a_joined_tables_columns_follow_the_stream_and_an_inner_join_filters() {
    let p = plan(
        "SELECT t.symbol, d.qty FROM trades t JOIN trades d ON t.symbol = d.symbol \
         WHERE t.qty > 1",
    );
    let width = p.source.schema.len();
    assert_eq!(p.row_width(), 2 * width);
    assert_eq!(p.lookups.len(), 1);
    assert_eq!(p.lookups[0].offset, width);
    let QueryKind::Stateless { projections } = &p.kind else {
        panic!("stateless");
    };
    assert_eq!(projections[1].kind, ExprKind::Column(width + 2));
    let filter = p.filter.as_ref().expect("matched AND where");
    let ExprKind::Binary { op, left, .. } = &filter.kind else {
        panic!("an AND: {filter:?}");
    };
    assert_eq!(*op, BinaryOp::And);
    assert_eq!(**left, p.lookups[0].matched());
}

#[test]
fn order_by_names_output_columns_by_name_position_or_select_expression() {
    let p = plan(
        "SELECT symbol, qty * 2 AS q, price + 1 FROM trades \
         ORDER BY q DESC, 1 NULLS FIRST, price + 1 LIMIT 5",
    );
    let key = |column, descending, nulls_first| SortKey {
        column,
        descending,
        nulls_first,
    };
    assert_eq!(
        p.order_by,
        [
            key(1, true, false),
            key(0, false, true),
            key(2, false, false)
        ]
    );
    assert_eq!(p.limit, Some(5));
    // Nothing is out before the input ends: a Kafka source commits nothing earlier.
    assert_eq!(p.settling(), Settling::AtEnd);
    assert!(plan("SELECT * FROM trades ORDER BY ts").order_by == [key(3, false, false)]);
    // A source expression that is no output column is a hidden column.
    let hidden = plan("SELECT qty FROM trades ORDER BY price * 2 DESC");
    assert_eq!(hidden.order_by, [key(1, true, false)]);
    assert_eq!((hidden.output.len(), projections(&hidden).len()), (1, 2));
    assert_contains(
        &hidden.explain(),
        "Sort: (#1 price * 2) (not written) DESC (the whole result",
    );
    assert_contains(
        &error(
            "SELECT symbol, COUNT(*) FROM trades \
             GROUP BY symbol, TUMBLE(ts, INTERVAL '10' SECOND) ORDER BY qty",
        ),
        "ORDER BY `qty` is not an output column of this grouping, nor an expression of its keys",
    );
    let mut q = query("SELECT symbol FROM trades GROUP BY symbol ORDER BY SUM(qty) DESC, symbol");
    q.emit = Some(EmitClause::Final);
    let grouped = plan_of(&q);
    assert_eq!(grouped.output.len(), 1);
    assert_eq!(projections(&grouped).len(), 2, "the sum is a hidden column");
    assert_contains(
        &grouped.explain(),
        "Sort: #1 agg0 (not written) DESC, symbol (the whole result",
    );
    assert_contains(
        &error("SELECT qty FROM trades ORDER BY 0"),
        "the SELECT list has 1 columns (1 to 1)",
    );
    assert_contains(
        &error("SELECT symbol, COUNT(*) FROM trades GROUP BY symbol ORDER BY 2"),
        "ORDER BY sorts a final result, and this query writes a stream of changes",
    );
}

#[test]
fn star_expands_to_all_columns() {
    let p = plan("SELECT *, qty * 2 AS double_qty FROM trades");
    assert_eq!(
        output_names(&p),
        [
            "symbol",
            "price",
            "qty",
            "ts",
            "amount",
            "seq",
            "double_qty"
        ]
    );
    assert_eq!(projections(&p)[4], col(4, dec(10, 2)));
    assert_eq!(p.output.fields[6].data_type, DataType::BigInt);
    let q = plan("SELECT t.* FROM trades t");
    assert_eq!(projections(&q).len(), 6);
}

#[test]
fn star_with_group_by_is_an_error() {
    assert_contains(
        &error("SELECT * FROM trades GROUP BY symbol"),
        "SELECT * cannot be used with GROUP BY",
    );
}

// ---- types ----

#[test]
fn literal_types() {
    assert_eq!(first_type("42"), DataType::BigInt);
    assert_eq!(first_type("0.908"), dec(18, 3));
    assert_eq!(first_type("1.5e3"), DataType::Double);
    assert_eq!(first_type("'abc'"), DataType::Varchar);
    assert_eq!(first_type("TRUE"), DataType::Boolean);
    assert_eq!(first_type("NULL"), DataType::Null);
    let p = plan("SELECT 0.908, -7, -0.5 FROM trades");
    assert_eq!(
        projections(&p),
        &[
            lit(Value::Decimal(Decimal::new(908, 3))),
            lit(Value::Int(-7)),
            lit(Value::Decimal(Decimal::new(-5, 1)))
        ]
    );
}

#[test]
fn arithmetic_types() {
    assert_eq!(first_type("qty + seq"), DataType::BigInt);
    assert_eq!(first_type("qty / 2"), DataType::BigInt);
    assert_eq!(first_type("price * qty"), DataType::Double);
    assert_eq!(first_type("amount + qty"), dec(18, 2));
    assert_eq!(first_type("amount - 0.001"), dec(18, 3));
    assert_eq!(first_type("amount * amount"), dec(18, 4));
    assert_eq!(first_type("amount / qty"), dec(18, 8));
    assert_eq!(first_type("amount % 3"), dec(18, 2));
    assert_eq!(first_type("amount * price"), DataType::Double);
    assert_eq!(first_type("-amount"), dec(10, 2));
    assert_eq!(first_type("ts - ts"), DataType::BigInt);
    assert_eq!(first_type("symbol || qty"), DataType::Varchar);
}

#[test]
fn nexmark_q1_currency_is_exact_decimal() {
    let p = plan("SELECT 0.908 * qty AS price FROM trades");
    assert_eq!(
        projections(&p)[0],
        binary(
            BinaryOp::Multiply,
            lit(Value::Decimal(Decimal::new(908, 3))),
            col(2, DataType::BigInt),
            dec(18, 3)
        )
    );
    assert_eq!(output_names(&p), ["price"]);
}

#[test]
fn timestamp_plus_interval_uses_millis() {
    let p = plan("SELECT ts + INTERVAL '1' SECOND, ts - INTERVAL '2s' FROM trades");
    assert_eq!(
        projections(&p)[0],
        binary(
            BinaryOp::Add,
            col(3, DataType::Timestamp),
            lit(Value::Int(1000)),
            DataType::Timestamp
        )
    );
    assert_eq!(projections(&p)[1].data_type, DataType::Timestamp);
}

#[test]
fn type_errors_name_expression_types_and_place() {
    assert_eq!(
        error("SELECT qty,\n   symbol + 1 FROM trades"),
        "SQL error at line 2, column 4: cannot apply '+' to VARCHAR and BIGINT in `symbol + 1`"
    );
    assert_contains(
        &error("SELECT qty FROM trades WHERE symbol = 1"),
        "cannot compare VARCHAR with BIGINT in `symbol = 1`",
    );
    assert_contains(
        &error("SELECT qty FROM trades WHERE qty"),
        "WHERE condition must be BOOLEAN, got BIGINT in `qty`",
    );
    assert_contains(
        &error("SELECT qty FROM trades WHERE qty > 1 AND price"),
        "AND operand must be BOOLEAN, got DOUBLE",
    );
    assert_contains(
        &error("SELECT ts + ts FROM trades"),
        "cannot apply '+' to TIMESTAMP and TIMESTAMP",
    );
}

#[test]
fn filter_is_planned_over_the_source_row() {
    let p = plan("SELECT symbol FROM trades WHERE price > 100 AND symbol <> 'X'");
    let expected = binary(
        BinaryOp::And,
        binary(
            BinaryOp::Gt,
            col(1, DataType::Double),
            lit(Value::Int(100)),
            DataType::Boolean,
        ),
        binary(
            BinaryOp::NotEq,
            col(0, DataType::Varchar),
            lit(Value::str("X")),
            DataType::Boolean,
        ),
        DataType::Boolean,
    );
    assert_eq!(p.filter, Some(expected));
}

#[test]
fn timestamp_compared_with_text_literal_converts_the_literal() {
    let p = plan("SELECT qty FROM trades WHERE ts >= '1970-01-01T00:00:10Z'");
    assert_eq!(
        p.filter,
        Some(binary(
            BinaryOp::GtEq,
            col(3, DataType::Timestamp),
            lit(Value::Timestamp(10_000)),
            DataType::Boolean
        ))
    );
    assert_contains(
        &error("SELECT qty FROM trades WHERE ts > 'soon'"),
        "'soon' is not a timestamp",
    );
}

#[test]
fn predicates_plan() {
    let p = plan(
        "SELECT qty FROM trades WHERE symbol LIKE 'A%' AND qty BETWEEN 1 AND 10 \
         AND qty IN (1, 2) AND price IS NOT NULL AND NOT (qty = 3)",
    );
    assert_eq!(p.filter.map(|f| f.data_type), Some(DataType::Boolean));
    assert_contains(
        &error("SELECT qty FROM trades WHERE qty LIKE 'a'"),
        "LIKE needs VARCHAR operands, got BIGINT",
    );
}

// ---- functions ----

#[test]
fn scalar_function_types() {
    assert_eq!(first_type("ROUND(amount, 1)"), dec(18, 1));
    assert_eq!(first_type("ROUND(amount)"), dec(18, 0));
    assert_eq!(first_type("round(price, 2)"), DataType::Double);
    assert_eq!(first_type("ABS(amount)"), dec(10, 2));
    assert_eq!(first_type("FLOOR(amount)"), dec(18, 0));
    assert_eq!(first_type("CEILING(price)"), DataType::Double);
    assert_eq!(first_type("CEIL(qty)"), DataType::BigInt);
    assert_eq!(first_type("UPPER(symbol)"), DataType::Varchar);
    assert_eq!(first_type("CHAR_LENGTH(symbol)"), DataType::BigInt);
    assert_eq!(first_type("CONCAT(symbol, qty, price)"), DataType::Varchar);
    assert_eq!(first_type("MOD(qty, 123)"), DataType::BigInt);
    assert_eq!(first_type("HOUR(ts)"), DataType::BigInt);
    assert_eq!(
        first_type("DATE_FORMAT(ts, 'yyyy-MM-dd')"),
        DataType::Varchar
    );
    assert_eq!(first_type("NULLIF(qty, 0)"), DataType::BigInt);
    assert_eq!(first_type("CAST(price AS DECIMAL(10, 2))"), dec(10, 2));
    assert_eq!(first_type("CAST(qty AS VARCHAR)"), DataType::Varchar);
    assert_eq!(
        first_type("CAST('2026-01-01' AS TIMESTAMP)"),
        DataType::Timestamp
    );
    assert_eq!(first_type("CAST(price AS INT)"), DataType::BigInt);
}

#[test]
fn coalesce_converts_its_arguments_to_the_common_type() {
    let p = plan("SELECT COALESCE(qty, 0.5) FROM trades");
    let cast_qty = ScalarExpr::new(
        ExprKind::Cast {
            expr: Box::new(col(2, DataType::BigInt)),
        },
        dec(18, 1),
    );
    assert_eq!(
        projections(&p)[0],
        ScalarExpr::new(
            ExprKind::Function {
                func: ScalarFunction::Coalesce,
                args: vec![cast_qty, lit(Value::Decimal(Decimal::new(5, 1)))],
            },
            dec(18, 1)
        )
    );
    assert_eq!(output_names(&p), ["coalesce"]);
}

#[test]
fn special_syntax_functions() {
    let p = plan(
        "SELECT SUBSTRING(symbol FROM 2 FOR 3), SUBSTRING(symbol, 2), \
         TRIM(LEADING 'x' FROM symbol), TRIM(symbol), EXTRACT(HOUR FROM ts) FROM trades",
    );
    let ps = projections(&p);
    let func_of = |e: &ScalarExpr| match &e.kind {
        ExprKind::Function { func, args } => (*func, args.len()),
        other => panic!("not a function: {other:?}"),
    };
    assert_eq!(func_of(&ps[0]), (ScalarFunction::Substring, 3));
    assert_eq!(func_of(&ps[1]), (ScalarFunction::Substring, 2));
    assert_eq!(
        func_of(&ps[2]),
        (ScalarFunction::Trim(TrimSide::Leading), 2)
    );
    assert_eq!(func_of(&ps[3]), (ScalarFunction::Trim(TrimSide::Both), 1));
    assert_eq!(
        func_of(&ps[4]),
        (ScalarFunction::DatePart(crate::plan::DatePart::Hour), 1)
    );
    assert_eq!(
        output_names(&p),
        ["substring", "substring_2", "trim", "trim_2", "extract"]
    );
}

#[test]
fn extract_knows_every_field_of_duckdb_and_flink() {
    use crate::plan::DatePart;
    let fields = [
        ("YEAR", DatePart::Year),
        ("QUARTER", DatePart::Quarter),
        ("MONTH", DatePart::Month),
        ("WEEK", DatePart::Week),
        ("DAY", DatePart::Day),
        ("DOW", DatePart::DayOfWeek),
        ("DAYOFWEEK", DatePart::DayOfWeek),
        ("ISODOW", DatePart::IsoDayOfWeek),
        ("DOY", DatePart::DayOfYear),
        ("DAYOFYEAR", DatePart::DayOfYear),
        ("ISOYEAR", DatePart::IsoYear),
        ("HOUR", DatePart::Hour),
        ("MINUTE", DatePart::Minute),
        ("SECOND", DatePart::Second),
        ("MILLISECOND", DatePart::Millisecond),
        ("MICROSECOND", DatePart::Microsecond),
        ("EPOCH", DatePart::Epoch),
    ];
    let functions = [
        ("YEAR", DatePart::Year),
        ("QUARTER", DatePart::Quarter),
        ("MONTH", DatePart::Month),
        ("WEEK", DatePart::Week),
        ("DAYOFMONTH", DatePart::Day),
        ("DAYOFYEAR", DatePart::DayOfYear),
        ("HOUR", DatePart::Hour),
        ("MINUTE", DatePart::Minute),
        ("SECOND", DatePart::Second),
    ];
    for (name, part) in functions {
        let p = plan(&format!("SELECT {name}(ts) FROM trades"));
        assert!(
            matches!(&projections(&p)[0].kind, ExprKind::Function { func: ScalarFunction::DatePart(p), .. } if *p == part),
            "{name}"
        );
    }
    assert_contains(
        &error("SELECT DAYOFWEEK(ts) FROM trades"),
        "unknown function 'dayofweek'",
    );
    for (name, part) in fields {
        for sql in [
            format!("SELECT EXTRACT({name} FROM ts) FROM trades"),
            format!("SELECT DATE_PART('{name}', ts) FROM trades"),
        ] {
            let p = plan(&sql);
            let e = &projections(&p)[0];
            let wanted = match part {
                DatePart::Epoch => DataType::Double,
                _ => DataType::BigInt,
            };
            assert_eq!(e.data_type, wanted, "{sql}");
            assert!(
                matches!(&e.kind, ExprKind::Function { func: ScalarFunction::DatePart(p), .. } if *p == part),
                "{sql}: {e:?}"
            );
        }
    }
}

#[test]
fn time_functions_take_a_unit_word_or_literal() {
    use crate::plan::TimeUnit;
    let p = plan(
        "SELECT TIMESTAMPDIFF(SECOND, ts, ts), TIMESTAMPADD('week', qty, ts), TO_TIMESTAMP(symbol), \
         TO_TIMESTAMP(symbol, 'yyyy'), TO_TIMESTAMP(price), CURRENT_TIMESTAMP, NOW() FROM trades",
    );
    let shapes: Vec<(ScalarFunction, usize, DataType)> = projections(&p)
        .iter()
        .map(|e| match &e.kind {
            ExprKind::Function { func, args } => (*func, args.len(), e.data_type),
            other => panic!("not a function: {other:?}"),
        })
        .collect();
    let ts = DataType::Timestamp;
    assert_eq!(
        shapes,
        [
            (
                ScalarFunction::TimestampDiff(TimeUnit::Second),
                2,
                DataType::BigInt
            ),
            (ScalarFunction::TimestampAdd(TimeUnit::Week), 2, ts),
            (ScalarFunction::ToTimestamp, 1, ts),
            (ScalarFunction::ToTimestamp, 2, ts),
            (ScalarFunction::ToTimestamp, 1, ts),
            (ScalarFunction::Now, 0, ts),
            (ScalarFunction::Now, 0, ts),
        ]
    );
    assert_contains(
        &error("SELECT TIMESTAMPADD(DAY, price, ts) FROM trades"),
        "TIMESTAMPADD expects BIGINT as argument 1, got DOUBLE",
    );
    assert_contains(
        &error("SELECT TIMESTAMPDIFF(DAY, qty, ts) FROM trades"),
        "TIMESTAMPDIFF expects TIMESTAMP as argument 1, got BIGINT",
    );
    assert_contains(
        &error("SELECT NOW(1) FROM trades"),
        "NOW takes 0 arguments, got 1",
    );
}

#[test]
fn case_takes_the_common_branch_type() {
    let p = plan(
        "SELECT CASE WHEN HOUR(ts) >= 8 AND HOUR(ts) <= 18 THEN 'dayTime' \
         ELSE 'otherTime' END AS kind, CASE qty WHEN 1 THEN 1 ELSE 2.5 END FROM trades",
    );
    assert_eq!(p.output.fields[0].data_type, DataType::Varchar);
    assert_eq!(p.output.fields[1].data_type, dec(18, 1));
    match &projections(&p)[1].kind {
        ExprKind::Case { branches, .. } => {
            // The integer literal branch was converted at plan time.
            assert_eq!(branches[0].1, lit(Value::Decimal(Decimal::new(10, 1))));
        }
        other => panic!("not a CASE: {other:?}"),
    }
    assert_contains(
        &error("SELECT CASE WHEN qty > 1 THEN 'a' ELSE 1 END FROM trades"),
        "CASE branches have incompatible types VARCHAR and BIGINT",
    );
}

#[test]
fn function_errors() {
    assert_eq!(
        error("SELECT frobnicate(qty) FROM trades"),
        "SQL error at line 1, column 8: unknown function 'frobnicate' in `frobnicate(qty)`"
    );
    assert_contains(
        &error("SELECT ROUND(price, 1, 2) FROM trades"),
        "ROUND takes 1 to 2 arguments, got 3 in `ROUND(price, 1, 2)`",
    );
    assert_contains(
        &error("SELECT UPPER(qty) FROM trades"),
        "UPPER expects VARCHAR as argument 1, got BIGINT",
    );
    assert_contains(
        &error("SELECT HOUR(symbol) FROM trades"),
        "HOUR expects TIMESTAMP as argument 1, got VARCHAR",
    );
    assert_contains(
        &error("SELECT CAST(ts AS BOOLEAN) FROM trades"),
        "cannot cast TIMESTAMP to BOOLEAN",
    );
    assert_contains(
        &error("SELECT EXTRACT(JULIAN FROM ts) FROM trades"),
        "SQL error at line 1, column 28: EXTRACT(JULIAN FROM ..) is not supported (fields: YEAR,",
    );
    assert_contains(
        &error("SELECT DATE_PART('fortnight', ts) FROM trades"),
        "EXTRACT(fortnight FROM ..) is not supported",
    );
    assert_contains(
        &error("SELECT EXTRACT(YEAR FROM symbol) FROM trades"),
        "EXTRACT expects TIMESTAMP as argument 1, got VARCHAR",
    );
}

// ---- aggregates ----

#[test]
fn aggregate_rewrite_over_the_group_row() {
    let p = plan("SELECT symbol, COUNT(*) + 1 AS c FROM trades GROUP BY symbol");
    let a = aggregate(&p);
    assert_eq!(a.group_keys, vec![col(0, DataType::Varchar)]);
    assert_eq!(a.window, None);
    assert_eq!(
        a.aggregates,
        vec![AggregateCall {
            func: AggregateFunction::Count,
            arg: None,
            distinct: false,
            filter: None,
            by: None,
            respect_nulls: false,
            fraction: None,
            data_type: DataType::BigInt,
        }]
    );
    assert_eq!(
        a.projections,
        vec![
            col(0, DataType::Varchar),
            binary(
                BinaryOp::Add,
                col(1, DataType::BigInt),
                lit(Value::Int(1)),
                DataType::BigInt
            )
        ]
    );
    assert_eq!(output_names(&p), ["symbol", "c"]);
    assert_eq!(p.emit, EmitMode::Changes);
    assert_eq!(a.group_row_width(), 2);
}

#[test]
fn identical_aggregates_are_computed_once_and_names_deduplicated() {
    let p = plan("SELECT COUNT(*), count(*), SUM(price), SUM(price) * 2 FROM trades");
    let a = aggregate(&p);
    assert!(a.group_keys.is_empty());
    assert_eq!(a.aggregates.len(), 2);
    assert_eq!(a.projections[0], a.projections[1]);
    assert_eq!(a.projections[2], col(1, DataType::Double));
    assert_eq!(
        output_names(&p),
        ["count", "count_2", "sum", "SUM(price) * 2"]
    );
}

#[test]
fn aggregate_result_types() {
    let p = plan(
        "SELECT SUM(qty), SUM(amount), AVG(qty), MIN(symbol), MAX(ts), \
         STDDEV(price), VAR_POP(amount), COUNT(price) FROM trades GROUP BY seq",
    );
    let types: Vec<DataType> = p.output.fields.iter().map(|f| f.data_type).collect();
    assert_eq!(
        types,
        [
            DataType::BigInt,
            dec(18, 2),
            DataType::Double,
            DataType::Varchar,
            DataType::Timestamp,
            DataType::Double,
            DataType::Double,
            DataType::BigInt
        ]
    );
    let funcs: Vec<AggregateFunction> = aggregate(&p).aggregates.iter().map(|a| a.func).collect();
    assert_eq!(funcs[5], AggregateFunction::StddevSamp);
    assert_contains(
        &error("SELECT SUM(symbol) FROM trades"),
        "SUM needs a numeric argument, got VARCHAR in `SUM(symbol)`",
    );
}

#[test]
fn filter_and_distinct_on_aggregates() {
    let p = plan(
        "SELECT COUNT(*) FILTER (WHERE price < 10000) AS cheap, COUNT(DISTINCT qty) \
         FROM trades GROUP BY symbol",
    );
    let a = aggregate(&p);
    assert_eq!(
        a.aggregates[0].filter,
        Some(binary(
            BinaryOp::Lt,
            col(1, DataType::Double),
            lit(Value::Int(10000)),
            DataType::Boolean
        ))
    );
    assert!(!a.aggregates[0].distinct);
    assert!(a.aggregates[1].distinct);
    assert_eq!(a.aggregates[1].arg, Some(col(2, DataType::BigInt)));
    assert_contains(
        &error("SELECT COUNT(*) FILTER (WHERE qty) FROM trades"),
        "FILTER condition must be BOOLEAN, got BIGINT",
    );
}

#[test]
fn group_by_expression_matches_select_expression() {
    let p = plan(
        "SELECT DATE_FORMAT(ts, 'yyyy-MM-dd') AS day, COUNT(*) FROM trades \
         GROUP BY date_format(trades.ts, 'yyyy-MM-dd')",
    );
    let a = aggregate(&p);
    assert_eq!(a.group_keys.len(), 1);
    assert_eq!(a.projections[0], col(0, DataType::Varchar));
    assert_eq!(a.projections[1], col(1, DataType::BigInt));
}

#[test]
fn expressions_over_keys_are_rewritten_inside() {
    let p = plan("SELECT qty * 2, UPPER(symbol) FROM trades GROUP BY qty, symbol");
    let a = aggregate(&p);
    assert_eq!(
        a.projections[0],
        binary(
            BinaryOp::Multiply,
            col(0, DataType::BigInt),
            lit(Value::Int(2)),
            DataType::BigInt
        )
    );
    assert_eq!(
        a.projections[1],
        ScalarExpr::new(
            ExprKind::Function {
                func: ScalarFunction::Upper,
                args: vec![col(1, DataType::Varchar)]
            },
            DataType::Varchar
        )
    );
}

#[test]
fn non_grouped_column_is_an_error() {
    assert_eq!(
        error("SELECT symbol, price FROM trades GROUP BY symbol"),
        "SQL error at line 1, column 16: column 'price' must appear in GROUP BY \
         or be used in an aggregate function"
    );
    assert_contains(
        &error("SELECT price + 1, COUNT(*) FROM trades"),
        "column 'price' must appear in GROUP BY",
    );
    assert_contains(
        &error("SELECT COUNT(*) FROM trades GROUP BY symbol HAVING price > 1"),
        "column 'price' must appear in GROUP BY",
    );
}

#[test]
fn misplaced_aggregates_are_errors() {
    assert_contains(
        &error("SELECT qty FROM trades WHERE COUNT(*) > 1"),
        "aggregate function COUNT is not allowed in WHERE",
    );
    assert_contains(
        &error("SELECT MAX(SUM(qty)) FROM trades GROUP BY symbol"),
        "aggregate function SUM is not allowed inside another aggregate function",
    );
    assert_contains(
        &error("SELECT symbol FROM trades GROUP BY COUNT(*)"),
        "aggregate function COUNT is not allowed in GROUP BY",
    );
}

#[test]
fn having_is_planned_over_the_group_row() {
    let p = plan("SELECT symbol FROM trades GROUP BY symbol HAVING COUNT(*) > 5");
    let a = aggregate(&p);
    assert_eq!(a.aggregates.len(), 1);
    assert_eq!(
        a.having,
        Some(binary(
            BinaryOp::Gt,
            col(1, DataType::BigInt),
            lit(Value::Int(5)),
            DataType::Boolean
        ))
    );
    assert_eq!(p.output.len(), 1);
    assert_contains(
        &error("SELECT qty FROM trades HAVING qty > 1"),
        "HAVING needs GROUP BY or an aggregate function",
    );
}

// ---- windows ----

#[test]
fn flink_tumble_with_window_bounds() {
    let p = plan(
        "SELECT symbol, window_start, COUNT(*) AS n, MAX(price), window_end \
         FROM trades GROUP BY symbol, TUMBLE(ts, INTERVAL '1' MINUTE)",
    );
    let a = aggregate(&p);
    assert_eq!(
        a.window,
        Some(WindowSpec {
            kind: WindowKind::Tumbling { size_ms: 60_000 },
            time_column: 3
        })
    );
    assert_eq!(a.group_keys, vec![col(0, DataType::Varchar)]);
    // Group row: [symbol, count, max, window_start, window_end].
    assert_eq!(a.window_start_index(), 3);
    assert_eq!(a.projections[1], col(3, DataType::Timestamp));
    assert_eq!(a.projections[4], col(4, DataType::Timestamp));
    assert_eq!(
        output_names(&p),
        ["symbol", "window_start", "n", "max", "window_end"]
    );
    assert_eq!(p.emit, EmitMode::Final);
    assert_eq!(p.event_time_column(), Some(3));
}

#[test]
fn flink_hop_takes_slide_then_size() {
    let p = plan(
        "SELECT qty, COUNT(*) FROM trades \
         GROUP BY qty, HOP(ts, INTERVAL '2' SECOND, INTERVAL '10' SECOND)",
    );
    assert_eq!(
        aggregate(&p).window.map(|w| w.kind),
        Some(WindowKind::Sliding {
            size_ms: 10_000,
            advance_ms: 2_000
        })
    );
    assert_contains(
        &error(
            "SELECT COUNT(*) FROM trades \
             GROUP BY HOP(ts, INTERVAL '10' SECOND, INTERVAL '2' SECOND)",
        ),
        "a sliding window's advance (10s) must not exceed its size (2s)",
    );
}

#[test]
fn flink_session_and_window_start_functions() {
    let p = plan(
        "SELECT symbol, COUNT(*) AS bid_count, SESSION_START(ts, INTERVAL '10' SECOND), \
         _window_end FROM trades GROUP BY symbol, SESSION(ts, INTERVAL '10' SECOND)",
    );
    let a = aggregate(&p);
    assert_eq!(
        a.window.map(|w| w.kind),
        Some(WindowKind::Session { gap_ms: 10_000 })
    );
    assert_eq!(a.projections[2], col(2, DataType::Timestamp));
    assert_eq!(a.projections[3], col(3, DataType::Timestamp));
}

#[test]
fn velostream_window_clauses() {
    let mut q = query("SELECT symbol, AVG(price) FROM trades GROUP BY symbol");
    q.window = Some(window(WindowFunction::Tumbling, &["ts", "INTERVAL '10s'"]));
    let p = plan_of(&q);
    assert_eq!(
        p.event_time_column()
            .zip(aggregate(&p).window.map(|w| w.kind)),
        Some((3, WindowKind::Tumbling { size_ms: 10_000 }))
    );
    assert_eq!(p.emit, EmitMode::Final);

    q.window = Some(window(
        WindowFunction::Sliding,
        &["ts", "INTERVAL '1m'", "INTERVAL '10' SECOND"],
    ));
    assert_eq!(
        aggregate(&plan_of(&q)).window.map(|w| w.kind),
        Some(WindowKind::Sliding {
            size_ms: 60_000,
            advance_ms: 10_000
        })
    );

    q.window = Some(window(WindowFunction::Session, &["seq", "'30s'"]));
    assert_eq!(
        aggregate(&plan_of(&q)).window,
        Some(WindowSpec {
            kind: WindowKind::Session { gap_ms: 30_000 },
            time_column: 5
        })
    );
}

#[test]
fn velostream_window_errors() {
    let mut q = query("SELECT COUNT(*) FROM trades");
    q.window = Some(window(
        WindowFunction::Sliding,
        &["ts", "INTERVAL '10s'", "INTERVAL '1m'"],
    ));
    assert_eq!(
        error_of(&q),
        "SQL error at line 1, column 40: a sliding window's advance (1m) must not exceed its size (10s)"
    );
    q.window = Some(window(WindowFunction::Tumbling, &["ts", "INTERVAL '0s'"]));
    assert_contains(&error_of(&q), "window size must be positive");
    q.window = Some(window(WindowFunction::Tumbling, &["ts", "INTERVAL 'soon'"]));
    assert_contains(&error_of(&q), "is not a duration");
    q.window = Some(window(
        WindowFunction::Tumbling,
        &["symbol", "INTERVAL '1s'"],
    ));
    assert_contains(
        &error_of(&q),
        "the window's time column must be TIMESTAMP or BIGINT, but `symbol` is VARCHAR",
    );
    q.window = Some(window(WindowFunction::Tumbling, &["INTERVAL '1s'"]));
    assert_contains(
        &error_of(&q),
        "the window must be written WINDOW TUMBLING(time_column, size)",
    );
}

#[test]
fn two_windows_are_an_error() {
    let mut q = query("SELECT COUNT(*) FROM trades GROUP BY TUMBLE(ts, INTERVAL '1' SECOND)");
    q.window = Some(window(WindowFunction::Tumbling, &["ts", "INTERVAL '1s'"]));
    assert_contains(&error_of(&q), "a query may have only one window");
    assert_contains(
        &error(
            "SELECT COUNT(*) FROM trades GROUP BY TUMBLE(ts, INTERVAL '1' SECOND), \
             TUMBLE(ts, INTERVAL '2' SECOND)",
        ),
        "a query may have only one window",
    );
}

#[test]
fn window_bounds_need_a_window() {
    assert_contains(
        &error("SELECT window_start, COUNT(*) FROM trades GROUP BY symbol"),
        "window_start is only available in a windowed aggregate",
    );
    assert_contains(
        &error("SELECT window_end FROM trades"),
        "window_end is only available in a windowed aggregate",
    );
    assert_contains(
        &error("SELECT TUMBLE(ts, INTERVAL '1' SECOND) FROM trades"),
        "TUMBLE(..) is a window; it is only allowed in GROUP BY",
    );
}

// ---- emit, limit, time ----

#[test]
fn emit_modes() {
    let mut q = query("SELECT qty FROM trades");
    q.emit = Some(EmitClause::Final);
    assert_eq!(
        error_of(&q),
        "SQL error at line 1, column 1: EMIT FINAL needs GROUP BY, an aggregate, a window or a Top-N; \
         a query without them emits each row as it arrives"
    );
    let mut q = query("SELECT symbol, COUNT(*) FROM trades GROUP BY symbol");
    q.emit = Some(EmitClause::Final);
    assert_eq!(plan_of(&q).emit, EmitMode::Final);
    let mut q = query("SELECT COUNT(*) FROM trades GROUP BY TUMBLE(ts, INTERVAL '1' SECOND)");
    q.emit = Some(EmitClause::Changes);
    assert_eq!(plan_of(&q).emit, EmitMode::Changes);
}

#[test]
fn limit() {
    assert_eq!(plan("SELECT qty FROM trades LIMIT 10").limit, Some(10));
    assert_eq!(plan("SELECT qty FROM trades LIMIT 0").limit, Some(0));
    assert_contains(
        &error("SELECT qty FROM trades LIMIT -1"),
        "LIMIT must be a non-negative integer, got `-1`",
    );
}

#[test]
fn time_settings_come_from_cli_then_properties() {
    let mut q = query("SELECT qty FROM trades");
    q.properties = vec![
        ("watermark.max_out_of_orderness".into(), "4s".into()),
        ("allowed_lateness".into(), "1m".into()),
    ];
    q.stream_name = Some("out".into());
    let p = plan_of(&q);
    assert_eq!(
        p.time,
        TimeSettings {
            max_out_of_orderness_ms: 4_000,
            allowed_lateness_ms: 60_000,
            aligned_only: false,
        }
    );
    assert_eq!(p.stream_name.as_deref(), Some("out"));
    let settings = PlanSettings {
        max_out_of_orderness_ms: Some(250),
        allowed_lateness_ms: None,
        changelog: false,
    };
    let p = plan_query(&q, &catalog(), &settings).expect("plans");
    assert_eq!(p.time.max_out_of_orderness_ms, 250);
    assert_eq!(p.time.allowed_lateness_ms, 60_000);
    assert_eq!(plan("SELECT qty FROM trades").time, TimeSettings::default());

    q.properties = vec![("allowed_lateness".into(), "later".into())];
    match plan_query(&q, &catalog(), &PlanSettings::default()) {
        Err(Error::Usage(m)) => assert_contains(&m, "WITH property 'allowed_lateness'"),
        other => panic!("expected a usage error, got {other:?}"),
    }
}

// ---- explain ----

#[test]
fn explain_snapshot() {
    let mut q = query(
        "SELECT symbol, COUNT(*) AS trades, SUM(price) * 2 AS double_volume, window_end \
         FROM trades WHERE price > 100 GROUP BY symbol, TUMBLE(ts, INTERVAL '1' MINUTE) \
         HAVING COUNT(*) > 1 LIMIT 10",
    );
    q.properties = vec![("max_out_of_orderness".into(), "4s".into())];
    let expected = "\
Query (EMIT FINAL, LIMIT 10)
  Stream: (unnamed) max_out_of_orderness=4s
  Output: symbol VARCHAR, trades BIGINT, double_volume DOUBLE, window_end TIMESTAMP
  Project: #0 symbol, #1 agg0, (#2 agg1 * 2), #4 window_end
  Aggregate: keys [#0 symbol], window TUMBLING(size 1m) on ts (#3)
    aggregates: #1 agg0 = COUNT(*), #2 agg1 = SUM(#1 price)
    having: (#1 agg0 > 1)
    pre-aggregated: at 2 shards and more, each shard folds the rows it reads per key (and window) and sends each input chunk's states to the key's shard
  Filter: (#1 price > 100)
  Source: trades (symbol VARCHAR, price DOUBLE, qty BIGINT, ts TIMESTAMP, amount DECIMAL(10,2), seq BIGINT) path=trades.csv
  Watermark: max out-of-orderness 4s, allowed lateness 0ms
";
    assert_eq!(plan_of(&q).explain(), expected);
}

#[test]
fn explain_says_which_groupings_are_pre_aggregated() {
    let said = |sql: &str, emit: Option<EmitClause>| {
        let mut q = query(sql);
        q.emit = emit;
        plan_of(&q).explain().contains("pre-aggregated")
    };
    let final_ = || Some(EmitClause::Final);
    let grouping = "SELECT symbol, COUNT(*) AS n, SUM(price) AS s, AVG(qty) AS a, MIN(ts) AS t, \
                    MAX(symbol) AS m FROM trades WHERE qty > 1 GROUP BY symbol";
    assert!(said(grouping, final_()));
    assert!(said("SELECT COUNT(*) AS n FROM trades", final_()));
    let windowed = "SELECT symbol, COUNT(*) AS n FROM trades \
                    GROUP BY symbol, TUMBLE(ts, INTERVAL '1' MINUTE)";
    assert!(said(windowed, final_()));
    let hopping = "SELECT COUNT(*) AS n FROM trades \
                   GROUP BY HOP(ts, INTERVAL '1' MINUTE, INTERVAL '5' MINUTE)";
    assert!(said(hopping, final_()));
    // Not: EMIT CHANGES, a session window, DISTINCT, a variance.
    assert!(!said(grouping, None));
    assert!(!said(windowed, Some(EmitClause::Changes)));
    let sessions = "SELECT symbol, COUNT(*) AS n FROM trades \
                    GROUP BY symbol, SESSION(ts, INTERVAL '1' MINUTE)";
    assert!(!said(sessions, final_()));
    assert!(!said(
        "SELECT COUNT(DISTINCT symbol) AS n FROM trades",
        final_()
    ));
    let variance = "SELECT symbol, STDDEV(price) AS sd FROM trades GROUP BY symbol";
    assert!(!said(variance, final_()));
}

#[test]
fn explain_stateless_and_expression_display() {
    let p = plan(
        "SELECT UPPER(symbol), CASE WHEN qty IS NULL THEN 'n/a' ELSE 'it''s' END, \
         CAST(qty AS DOUBLE) FROM trades WHERE ts > TIMESTAMP '1970-01-01 00:00:01' \
         AND symbol NOT IN ('A', 'B')",
    );
    let text = p.explain();
    assert_contains(&text, "Query (EMIT CHANGES)\n");
    assert_contains(
        &text,
        "  Project: UPPER(#0 symbol), CASE WHEN (#2 qty IS NULL) THEN 'n/a' ELSE 'it''s' END, \
         CAST(#2 qty AS DOUBLE)\n",
    );
    assert_contains(
        &text,
        "  Filter: ((#3 ts > TIMESTAMP '1970-01-01T00:00:01.000Z') AND (#0 symbol NOT IN ('A', 'B')))\n",
    );
    assert_eq!(projections(&p)[2].to_string(), "CAST(#2 AS DOUBLE)");
}

#[test]
fn unary_operator_errors() {
    assert_contains(
        &error("SELECT qty FROM trades WHERE NOT qty"),
        "NOT operand must be BOOLEAN, got BIGINT in `NOT qty`",
    );
    assert_contains(
        &error("SELECT -symbol FROM trades"),
        "cannot apply '-' to VARCHAR in `-symbol`",
    );
}

#[test]
fn aggregates_nested_in_expressions_and_window_bounds_in_having() {
    let p = plan(
        "SELECT CASE WHEN SUM(qty) > 10 THEN 'big' ELSE 'small' END AS size \
         FROM trades GROUP BY TUMBLE(ts, INTERVAL '5' SECOND) \
         HAVING window_end > TIMESTAMP '1970-01-01 00:00:00' AND MIN(price) > 1",
    );
    let a = aggregate(&p);
    // Group row: [sum, min, window_start, window_end].
    assert_eq!(a.aggregates.len(), 2);
    assert_eq!(a.group_row_width(), 4);
    let having = a.having.as_ref().map(|h| h.to_string());
    assert_eq!(
        having.as_deref(),
        Some("((#3 > TIMESTAMP '1970-01-01T00:00:00.000Z') AND (#1 > 1))")
    );
    assert_eq!(
        a.projections[0].to_string(),
        "CASE WHEN (#0 > 10) THEN 'big' ELSE 'small' END"
    );
}

#[test]
fn qualified_star_must_name_the_source() {
    assert_contains(
        &error("SELECT x.* FROM trades"),
        "SELECT item `x.*` is not supported",
    );
}

#[test]
fn sliding_windows_may_put_a_record_in_at_most_ten_thousand_windows() {
    let mut q = query("SELECT COUNT(*) FROM trades");
    q.window = Some(window(WindowFunction::Sliding, &["ts", "'1d'", "'1ms'"]));
    let message = error_of(&q);
    assert_contains(&message, "puts every record into 86400000 windows");
    assert_contains(&message, "limit 10000 windows per record");
    assert_contains(&message, "advance by at least 8640ms");
    assert_contains(
        &error("SELECT COUNT(*) FROM trades GROUP BY HOP(ts, '1ms', '100d')"),
        "limit 10000 windows per record",
    );
    q.window = Some(window(WindowFunction::Sliding, &["ts", "'10s'", "'1ms'"]));
    assert_eq!(
        aggregate(&plan_of(&q)).window.map(|w| w.kind),
        Some(WindowKind::Sliding {
            size_ms: 10_000,
            advance_ms: 1
        })
    );
}

#[test]
fn thousands_of_equal_output_names_are_made_unique_in_linear_time() {
    const COPIES: usize = 20_000;
    let sql = format!(
        "SELECT qty AS symbol_3, {} FROM trades",
        vec!["symbol"; COPIES].join(", ")
    );
    let started = std::time::Instant::now();
    let p = plan(&sql);
    // Quadratic renaming took minutes for 4,000 names; linear takes milliseconds.
    assert!(started.elapsed() < std::time::Duration::from_secs(60));
    let names = output_names(&p);
    assert_eq!(
        names[..5],
        ["symbol_3", "symbol", "symbol_2", "symbol_4", "symbol_5"]
    );
    assert_eq!(names[COPIES], format!("symbol_{}", COPIES + 1));
    let distinct: std::collections::HashSet<String> =
        names.iter().map(|n| n.to_ascii_lowercase()).collect();
    assert_eq!(distinct.len(), COPIES + 1);
}

#[test]
fn compiled_functions_keep_their_constant_and_explain_it() {
    let p = plan(
        "SELECT REGEXP_LIKE(symbol, 'it''s', 'i'), REGEXP_EXTRACT(symbol, '(a)', 1), \
         REGEXP_REPLACE(symbol, 'a', 'b', 'g'), JSON_VALUE(symbol, '$.a[0]'), symbol ->> 'k', \
         EXTRACT(DOY FROM ts), TIMESTAMPADD(DAY, 1, ts) FROM trades",
    );
    assert_contains(
        &p.explain(),
        "  Project: REGEXP_LIKE(#0 symbol, '(?i)it''s'), REGEXP_EXTRACT(#0 symbol, '(a)', 1), \
         REGEXP_REPLACE(#0 symbol, 'a', 'b', 'g'), JSON_VALUE(#0 symbol, '$.a[0]'), \
         #0 symbol ->> 'k', EXTRACT(DOY FROM #3 ts), TIMESTAMPADD(DAY, 1, #3 ts)\n",
    );
    let types: Vec<DataType> = projections(&p).iter().map(|e| e.data_type).collect();
    assert_eq!(
        types[..5],
        [
            DataType::Boolean,
            DataType::Varchar,
            DataType::Varchar,
            DataType::Varchar,
            DataType::Varchar
        ]
    );
    let ExprKind::Compiled {
        func: crate::plan::CompiledFunction::RegexpExtract(pattern),
        args,
    } = &projections(&p)[1].kind
    else {
        panic!("not compiled: {:?}", projections(&p)[1]);
    };
    assert_eq!(pattern.groups(), 1);
    assert_eq!(args.len(), 2);
}

#[test]
fn multi_argument_aggregates_keep_their_second_argument() {
    let p = plan(
        "SELECT symbol, ARG_MAX(price, qty), MIN_BY(ts, price), \
         PERCENTILE_CONT(0.25) WITHIN GROUP (ORDER BY price DESC), APPROX_PERCENTILE(qty, 0.5), \
         COLLECT_LIST(symbol), APPROX_COUNT_DISTINCT(qty), BOOL_OR(qty > 1) \
         FROM trades GROUP BY symbol",
    );
    let a = aggregate(&p);
    let shapes: Vec<(AggregateFunction, Option<ScalarExpr>, Option<f64>, DataType)> = a
        .aggregates
        .iter()
        .map(|c| (c.func, c.by.clone(), c.fraction, c.data_type))
        .collect();
    use AggregateFunction::*;
    assert_eq!(
        shapes,
        [
            (
                ArgMax,
                Some(col(2, DataType::BigInt)),
                None,
                DataType::Double
            ),
            (
                ArgMin,
                Some(col(1, DataType::Double)),
                None,
                DataType::Timestamp
            ),
            (PercentileCont, None, Some(0.75), DataType::Double),
            (PercentileCont, None, Some(0.5), DataType::Double),
            (CollectList, None, None, DataType::Varchar),
            (ApproxCountDistinct, None, None, DataType::BigInt),
            (BoolOr, None, None, DataType::Boolean),
        ]
    );
    assert_eq!(a.aggregates[2].arg, Some(col(1, DataType::Double)));
    assert_contains(
        &p.explain(),
        "#1 agg0 = ARG_MAX(#1 price, #2 qty), #2 agg1 = ARG_MIN(#3 ts, #1 price), \
         #3 agg2 = PERCENTILE_CONT(#1 price, 0.75)",
    );
    assert_contains(
        &error("SELECT ARG_MAX(DISTINCT price, qty) FROM trades"),
        "ARG_MAX(DISTINCT ..) is not supported",
    );
    assert_contains(
        &error("SELECT FIRST_VALUE(price) WITHIN GROUP (ORDER BY qty) FROM trades"),
        "ORDER BY and similar clauses inside FIRST_VALUE are not supported",
    );
    assert_contains(
        &error("SELECT PERCENTILE_CONT(price) WITHIN GROUP (ORDER BY qty) FROM trades"),
        "PERCENTILE_CONT takes a fraction from 0 to 1 as a number literal, got `price`",
    );
}

#[test]
fn select_distinct_is_a_group_by_over_the_selected_items() {
    let p = plan("SELECT DISTINCT symbol, qty > 10 AS big FROM trades");
    let grouped = plan("SELECT symbol, qty > 10 AS big FROM trades GROUP BY symbol, big");
    let without_emit = |text: String| text.lines().skip(1).collect::<Vec<_>>().join("\n");
    assert_eq!(without_emit(p.explain()), without_emit(grouped.explain()));
    assert_eq!(p.emit, crate::plan::EmitMode::Changes);
    assert_eq!(output_names(&p), ["symbol", "big"]);
    let star = plan("SELECT DISTINCT * FROM trades");
    assert_eq!(
        aggregate(&star).group_keys.len(),
        trades().schema.fields.len()
    );
    assert!(aggregate(&star).aggregates.is_empty());
}

fn top_n(sql: &str) -> TopNPlan {
    match plan(sql).kind {
        QueryKind::TopN(top) => top,
        other => panic!("{sql}: not a Top-N: {other:?}"),
    }
}

#[test]
fn a_top_n_takes_its_bound_from_any_condition_on_the_row_number() {
    let numbered = "SELECT symbol, price, ROW_NUMBER() OVER (PARTITION BY symbol \
                    ORDER BY price DESC, qty NULLS FIRST) AS rn FROM trades QUALIFY";
    for (condition, limit, kept) in [
        ("rn <= 3", 3, None),
        ("rn < 4", 3, None),
        ("3 >= rn", 3, None),
        ("4 > rn", 3, None),
        ("rn = 1", 1, None),
        ("rn = 2", 2, Some("(#6 rn = 2)")),
        ("rn BETWEEN 1 AND 5", 5, None),
        ("rn BETWEEN 2 AND 5", 5, Some("(#6 rn BETWEEN 2 AND 5)")),
        (
            "rn <= 9 AND price > 1 AND rn <= 2",
            2,
            Some("(#1 price > 1)"),
        ),
        ("rn <= 0", 0, None),
    ] {
        let top = top_n(&format!("{numbered} {condition}"));
        assert_eq!(top.limit, limit, "{condition}");
        let row = plan(&format!("{numbered} {condition}")).row_schema();
        let names: Vec<String> = row.names().map(String::from).chain(["rn".into()]).collect();
        let kept_text = top
            .qualify
            .as_ref()
            .map(|q| q.display_with(&names).to_string());
        assert_eq!(kept_text.as_deref(), kept, "{condition}");
        assert_eq!(top.order.len(), 2);
        assert!(top.order[0].descending && !top.order[0].nulls_first);
        assert!(!top.order[1].descending && top.order[1].nulls_first);
    }
}

#[test]
fn a_top_n_knows_whether_its_output_reads_the_row_number() {
    let over = "ROW_NUMBER() OVER (PARTITION BY symbol ORDER BY price DESC)";
    let with_rank = top_n(&format!(
        "SELECT symbol, {over} AS rn FROM trades QUALIFY rn <= 2"
    ));
    assert!(with_rank.reads_rank());
    let without = top_n(&format!(
        "SELECT symbol, price, {over} AS rn FROM trades QUALIFY rn <= 2"
    ));
    // `rn` is an output column here, so the row number is read.
    assert!(without.reads_rank());
    let hidden = top_n(&format!(
        "SELECT symbol, price FROM (SELECT *, {over} AS rn FROM trades) WHERE rn <= 2 AND qty > 1"
    ));
    assert!(!hidden.reads_rank());
    assert!(hidden.qualify.is_some());
}

#[test]
fn what_a_top_n_cannot_be_is_refused() {
    let over = "ROW_NUMBER() OVER (PARTITION BY symbol ORDER BY price DESC)";
    assert_contains(
        &error(&format!(
            "SELECT symbol, {over} AS rn FROM trades QUALIFY rn > 2"
        )),
        "a Top-N, which needs a bound on the row number",
    );
    assert_contains(
        &error(&format!(
            "SELECT symbol, {over} AS rn FROM trades QUALIFY rn <= 2 OR qty > 1"
        )),
        "a Top-N, which needs a bound on the row number",
    );
    assert_contains(
        &error(&format!(
            "SELECT symbol, {over} AS rn FROM trades QUALIFY rn <= 100001"
        )),
        "a Top-N keeps at most 100000 rows per partition, not 100001",
    );
    assert_contains(
        &error(&format!(
            "SELECT symbol, {over} AS rn FROM trades QUALIFY rn <= 2 ORDER BY symbol"
        )),
        "ORDER BY sorts a final result",
    );
    let mut q = query(&format!(
        "SELECT symbol, {over} AS rn FROM trades QUALIFY rn <= 2 ORDER BY symbol"
    ));
    q.emit = Some(EmitClause::Final);
    assert_eq!(plan_of(&q).emit, EmitMode::Final);
}

#[test]
fn a_union_takes_the_first_branchs_names_and_a_null_takes_the_others_type() {
    let p = plan(
        "SELECT s, q FROM (SELECT symbol AS s, NULL AS q FROM trades \
         UNION ALL SELECT symbol, qty * 2 FROM trades WHERE qty > 1) u WHERE q IS NOT NULL",
    );
    assert_eq!(p.source.name, "u");
    let fields: Vec<(String, DataType)> = p
        .source
        .schema
        .fields
        .iter()
        .map(|f| (f.name.clone(), f.data_type))
        .collect();
    assert_eq!(
        fields,
        [
            ("s".to_string(), DataType::Varchar),
            ("q".to_string(), DataType::BigInt)
        ]
    );
    let union = p.union.as_ref().expect("a union");
    assert_eq!(union.branches.len(), 2);
    assert!(union.branches[0].filter.is_none());
    assert!(union.branches[1].filter.is_some());
    assert_eq!(p.sources().len(), 2);
    assert!(
        p.filter.is_some(),
        "the outer WHERE is over the union's row"
    );
}
