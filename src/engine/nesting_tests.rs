//! Expressions as deep as the SQL front end accepts must parse, plan,
//! explain, evaluate and be dropped on a shard's 2 MiB thread stack.

use super::{Output, PartitionEngine};
use crate::data::{Batch, DataType, Field, Schema, Value};
use crate::plan::{plan_query, Catalog, PlanSettings, QueryPlan, TableDef};
use crate::sql::{parse_sql, Statement, MAX_EXPRESSION_DEPTH};

/// Shards run their engines on threads with stacks this large.
const SHARD_STACK_BYTES: usize = 2 << 20;

fn catalog() -> Catalog {
    let fields = vec![
        Field::new("a", DataType::BigInt),
        Field::new("b", DataType::Boolean),
        Field::new("s", DataType::Varchar),
    ];
    let mut catalog = Catalog::default();
    catalog.add(TableDef {
        name: "t".into(),
        schema: Schema::new(fields),
        properties: Vec::new(),
    });
    catalog
}

fn plan(sql: &str) -> crate::Result<QueryPlan> {
    let query = match parse_sql(sql)?.remove(0) {
        Statement::Query(q) => q,
        other => panic!("not a query: {sql}: {other:?}"),
    };
    plan_query(&query, &catalog(), &PlanSettings::default())
}

/// The one output value of `sql` over the row `(1, TRUE, 'x')`, after
/// checking that its plan explains.
fn evaluate(sql: &str) -> Value {
    let plan = plan(sql).unwrap_or_else(|e| panic!("{e}"));
    assert!(!plan.explain().is_empty());
    let mut engine = PartitionEngine::new(&plan);
    let mut batch = Batch::new(3);
    batch.push_row(&[Value::Int(1), Value::Bool(true), Value::str("x")], 0);
    let mut out = Output::default();
    engine.push(&batch, &mut out);
    out.rows.remove(0).values.remove(0)
}

fn on_shard_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(SHARD_STACK_BYTES)
        .spawn(f)
        .expect("spawn")
        .join()
        .expect("no stack overflow")
}

/// `SELECT <terms joined by op> AS x FROM t`, as deep as the limit allows
/// (SELECT, AS and FROM count as three levels of the statement).
fn deepest(op: &str, term: &str) -> String {
    let terms = MAX_EXPRESSION_DEPTH - 3;
    format!("SELECT {} AS x FROM t", vec![term; terms].join(op))
}

#[test]
fn the_deepest_accepted_chains_evaluate_on_a_shard_stack() {
    let results = on_shard_stack(|| {
        [
            evaluate(&deepest(" + ", "a")),
            evaluate(&deepest(" AND ", "b")),
            evaluate(&deepest(" OR ", "b")),
            evaluate(&deepest(" || ", "s")),
            evaluate(&format!(
                "SELECT {}b AS x FROM t",
                "NOT ".repeat(MAX_EXPRESSION_DEPTH - 4)
            )),
        ]
    });
    let terms = (MAX_EXPRESSION_DEPTH - 3) as i64;
    assert_eq!(results[0], Value::Int(terms));
    assert_eq!(results[1], Value::Bool(true));
    assert_eq!(results[2], Value::Bool(true));
    assert_eq!(results[3], Value::str(&"x".repeat(terms as usize)));
    // An even number of NOTs.
    assert_eq!(results[4], Value::Bool(true));
}

#[test]
fn errors_about_the_deepest_chains_are_reported_on_a_shard_stack() {
    let message = on_shard_stack(|| {
        let sql = deepest(" + ", "a").replace("a AS x", "b AS x");
        plan(&sql).map(|_| ()).unwrap_err().to_string()
    });
    assert!(
        message.contains("cannot apply '+' to BIGINT and BOOLEAN"),
        "{message}"
    );
}

#[test]
fn deeper_chains_are_refused_not_overflowed() {
    let message = on_shard_stack(|| {
        let sql = format!("SELECT {} FROM t", vec!["a"; 100_000].join("+"));
        plan(&sql).map(|_| ()).unwrap_err().to_string()
    });
    let limit = format!("expression nests too deeply (limit {MAX_EXPRESSION_DEPTH}");
    assert!(message.contains(&limit), "{message}");
}
