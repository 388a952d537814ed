//! UNION ALL branches: the step that turns a batch of one branch's source
//! rows into rows of the union (its WHERE, then its projection) before the
//! rows are routed, so every later operator sees one kind of row.

use super::eval::{eval, is_true};
use crate::data::{Batch, Value};
use crate::plan::{ExprKind, ScalarExpr, UnionBranch};

/// One branch's filter and projection, ready to run on batches.
#[derive(Debug, Clone)]
pub struct BranchStep {
    filter: Option<ScalarExpr>,
    columns: Vec<BranchColumn>,
    /// `SELECT * FROM s`: rows are moved as they are.
    passes_rows_through: bool,
}

/// How one of the union's columns is made from a source row.
#[derive(Debug, Clone)]
enum BranchColumn {
    /// A source column no other column reads: moved out of the row.
    Moved(usize),
    /// A source column read more than once, or next to computed columns.
    Cloned(usize),
    Constant(Value),
    Computed(ScalarExpr),
}

impl BranchStep {
    pub fn new(branch: &UnionBranch) -> BranchStep {
        let computed = branch
            .columns
            .iter()
            .any(|c| !matches!(c.kind, ExprKind::Column(_) | ExprKind::Literal(_)));
        let reads = |i: usize| {
            let column = |c: &&ScalarExpr| matches!(c.kind, ExprKind::Column(j) if j == i);
            branch.columns.iter().filter(column).count()
        };
        let columns = branch
            .columns
            .iter()
            .map(|c| match &c.kind {
                ExprKind::Column(i) if !computed && reads(*i) == 1 => BranchColumn::Moved(*i),
                ExprKind::Column(i) => BranchColumn::Cloned(*i),
                ExprKind::Literal(value) => BranchColumn::Constant(value.clone()),
                _ => BranchColumn::Computed(c.clone()),
            })
            .collect();
        BranchStep {
            filter: branch.filter.clone(),
            columns,
            passes_rows_through: branch.passes_rows_through(),
        }
    }

    /// Moves the rows of `read` that pass the branch's WHERE into `union`,
    /// projected to the union's columns (positions kept), leaving `read`
    /// empty; returns how many rows the WHERE dropped.
    pub fn convert(&self, read: &mut Batch, union: &mut Batch) -> u64 {
        if self.passes_rows_through {
            union.append(read);
            return 0;
        }
        let mut dropped = 0;
        for index in 0..read.len() {
            let position = read.position(index);
            let row = read.row_mut(index);
            if self.filter.as_ref().is_some_and(|f| !is_true(f, row)) {
                dropped += 1;
                continue;
            }
            union.push_row_with(position, |values| {
                values.extend(self.columns.iter().map(|column| match column {
                    BranchColumn::Moved(i) => std::mem::take(&mut row[*i]),
                    BranchColumn::Cloned(i) => row[*i].clone(),
                    BranchColumn::Constant(value) => value.clone(),
                    BranchColumn::Computed(expr) => eval(expr, row),
                }));
            });
        }
        read.clear();
        dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{DataType, Field, Schema};
    use crate::plan::{BinaryOp, TableDef};

    fn branch(filter: Option<ScalarExpr>, columns: Vec<ScalarExpr>) -> UnionBranch {
        let schema = Schema::new(vec![
            Field::new("a", DataType::BigInt),
            Field::new("b", DataType::BigInt),
        ]);
        UnionBranch {
            source: TableDef {
                name: "s".into(),
                schema,
                properties: Vec::new(),
            },
            filter,
            columns,
        }
    }

    fn rows(values: &[[i64; 2]]) -> Batch {
        let mut batch = Batch::new(2);
        for (i, [a, b]) in values.iter().enumerate() {
            batch.push_row(&[Value::Int(*a), Value::Int(*b)], 10 * i as u64);
        }
        batch
    }

    #[test]
    fn a_branch_filters_projects_and_keeps_positions() {
        let a = ScalarExpr::column(0, DataType::BigInt);
        let b = ScalarExpr::column(1, DataType::BigInt);
        let a_above_1 = ScalarExpr::new(
            ExprKind::Binary {
                op: BinaryOp::Gt,
                left: Box::new(a.clone()),
                right: Box::new(ScalarExpr::new(
                    ExprKind::Literal(Value::Int(1)),
                    DataType::BigInt,
                )),
            },
            DataType::Boolean,
        );
        let step = BranchStep::new(&branch(Some(a_above_1), vec![b, a]));
        let mut read = rows(&[[1, 2], [3, 4], [5, 6]]);
        let mut union = Batch::new(2);
        assert_eq!(step.convert(&mut read, &mut union), 1);
        assert!(read.is_empty());
        let got: Vec<(Vec<Value>, u64)> = union.rows().map(|(r, p)| (r.to_vec(), p)).collect();
        assert_eq!(
            got,
            vec![
                (vec![Value::Int(4), Value::Int(3)], 10),
                (vec![Value::Int(6), Value::Int(5)], 20),
            ]
        );
    }

    #[test]
    fn select_star_moves_rows_as_they_are() {
        let columns = (0..2)
            .map(|i| ScalarExpr::column(i, DataType::BigInt))
            .collect();
        let step = BranchStep::new(&branch(None, columns));
        assert!(step.passes_rows_through);
        let mut read = rows(&[[1, 2]]);
        let mut union = Batch::new(2);
        assert_eq!(step.convert(&mut read, &mut union), 0);
        assert_eq!(union.row(0), &[Value::Int(1), Value::Int(2)]);
    }
}
