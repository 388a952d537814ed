//! `corestream explain`: the plan as stable, indented text, and the SQL-like
//! rendering of typed expressions (`#1 price` is column 1, called price).

use super::{
    AggregateCall, AggregateFunction, AggregatePlan, BinaryOp, CompiledFunction, EmitMode,
    ExprKind, Frame, OverCall, OverFunction, OverPlan, QueryKind, QueryPlan, Ranking, ScalarExpr,
    ScalarFunction, Shift, TopNPlan, TrimSide, UnaryOp, WindowKind, WindowSpec,
};
use super::{JoinInterval, StreamJoin, StreamJoinKind, TableDef, UnionPlan};
use crate::data::{format_duration, format_timestamp, Value};
use std::fmt::{self, Write};

impl QueryPlan {
    /// A human-readable, stable description of the plan.
    pub fn explain(&self) -> String {
        let mut out = String::new();
        let row = self.row_schema();
        let source_names: Vec<String> = row.names().map(String::from).collect();
        let _ = writeln!(out, "Query ({})", self.header());
        if self.stream_name.is_some() || !self.properties.is_empty() {
            let name = self.stream_name.as_deref().unwrap_or("(unnamed)");
            let _ = writeln!(out, "  Stream: {name}{}", properties_text(&self.properties));
        }
        let _ = writeln!(out, "  Output: {}", self.output);
        if !self.order_by.is_empty() {
            let _ = writeln!(
                out,
                "  Sort: {} (the whole result, written when the input ends)",
                self.sort_text()
            );
        }
        if let Some(stage) = &self.stage {
            explain_stage(&mut out, stage);
        }
        match &self.kind {
            QueryKind::Stateless { projections } => {
                let _ = writeln!(out, "  Project: {}", list(projections, &source_names));
            }
            QueryKind::Aggregate(agg) => {
                explain_aggregate(&mut out, agg, &source_names, self.pre_aggregates())
            }
            QueryKind::Over(over) => explain_over(&mut out, over, &source_names),
            QueryKind::TopN(top) => explain_top_n(&mut out, top, &source_names, false),
        }
        if let Some(filter) = &self.filter {
            let _ = writeln!(out, "  Filter: {}", filter.display_with(&source_names));
        }
        match (&self.union, &self.join) {
            (Some(union), Some(join)) => {
                explain_stream_join(&mut out, union, join, &source_names);
                match &self.kind {
                    QueryKind::Aggregate(grouping) => {
                        explain_grouping_after_join(&mut out, grouping, (union, join))
                    }
                    QueryKind::TopN(_) => {
                        let _ = writeln!(
                            out,
                            "    its rows are ranked on the join key's shard, after the join \
                             (PARTITION BY holds the join key)"
                        );
                    }
                    QueryKind::Over(over) => {
                        let side = usize::from(over.time_column >= join.left_width);
                        let _ = writeln!(
                            out,
                            "    its rows are windowed (OVER) on the join key's shard, after the \
                             join (PARTITION BY holds the join key), in event time as the \
                             watermark, less the allowed lateness and the join's interval on \
                             the {} side, passes them",
                            union.branches[side].source.name
                        );
                    }
                    QueryKind::Stateless { .. } => {}
                }
            }
            (Some(union), None) => explain_union(&mut out, &self.source, union),
            (None, _) => {
                let _ = writeln!(out, "  Source: {}", table_text(&self.source));
            }
        }
        for join in &self.lookups {
            explain_lookup(&mut out, join, &source_names);
        }
        let _ = writeln!(
            out,
            "  Watermark: max out-of-orderness {}, allowed lateness {}",
            format_duration(self.time.max_out_of_orderness_ms),
            format_duration(self.time.allowed_lateness_ms)
        );
        out
    }

    /// What the query keeps as state, for messages: its GROUP BY keys and
    /// window (`None` for a stateless query).
    pub fn state_description(&self) -> Option<String> {
        let Some(join) = &self.join else {
            return self.operator_state();
        };
        let kept = match join.interval {
            Some(_) => INTERVAL_JOIN_STATE,
            None => JOIN_STATE,
        };
        Some(match self.operator_state() {
            Some(grouping) => format!("{kept}; and after the join, {grouping}"),
            None => kept.to_string(),
        })
    }

    /// What the operator after WHERE keeps (see [`Self::state_description`]).
    fn operator_state(&self) -> Option<String> {
        let names: Vec<String> = self.row_schema().names().map(str::to_string).collect();
        let agg = match &self.kind {
            QueryKind::Aggregate(agg) => agg,
            QueryKind::Over(over) => {
                let keys = list(&over.partition_keys, &names);
                return Some(format!("OVER windows partitioned by [{keys}]"));
            }
            QueryKind::TopN(top) => {
                let keys = list(&top.partition_keys, &names);
                return Some(format!("a Top-{} partitioned by [{keys}]", top.limit));
            }
            QueryKind::Stateless { .. } => return None,
        };
        let keys: Vec<String> = agg
            .group_keys
            .iter()
            .map(|k| expr_text(k, &names))
            .collect();
        let mut text = format!("GROUP BY {}", keys.join(", "));
        if let Some(window) = &agg.window {
            let _ = write!(text, " with windows {}", window_text(window, &names));
        }
        Some(text)
    }

    /// ORDER BY as output column names with their directions.
    fn sort_text(&self) -> String {
        let source: Vec<String> = self.row_schema().names().map(String::from).collect();
        // A hidden key (past the output's columns) is over the projections' row.
        let (projections, row) = match &self.kind {
            QueryKind::Stateless { projections } => (projections.as_slice(), source),
            QueryKind::Over(over) => (over.projections.as_slice(), source),
            QueryKind::TopN(top) => (top.projections.as_slice(), source),
            QueryKind::Aggregate(agg) => {
                (agg.projections.as_slice(), group_row_names(agg, &source))
            }
        };
        let keys: Vec<String> = self
            .order_by
            .iter()
            .map(|key| {
                let name = match self.output.fields.get(key.column) {
                    Some(field) => field.name.clone(),
                    None => projections.get(key.column).map_or("?".into(), |p| {
                        format!("{} (not written)", p.display_with(&row))
                    }),
                };
                let direction = if key.descending { " DESC" } else { "" };
                let nulls = if key.nulls_first { " NULLS FIRST" } else { "" };
                format!("{name}{direction}{nulls}")
            })
            .collect();
        keys.join(", ")
    }

    fn header(&self) -> String {
        // A grouping over a grouping emits as its second stage does.
        let (emit, changelog) = match self.stage.as_ref() {
            Some(super::SecondStage::Group(group)) => (group.plan.emit, group.plan.changelog),
            _ => (self.emit, self.changelog),
        };
        let emit = match (emit, changelog) {
            (EmitMode::Changes, false) => "EMIT CHANGES",
            (EmitMode::Changes, true) => "EMIT CHANGES as a changelog",
            (EmitMode::Final, false) => "EMIT FINAL",
            (EmitMode::Final, true) => "EMIT FINAL as a changelog",
        };
        match self.limit {
            Some(n) => format!("{emit}, LIMIT {n}"),
            None => emit.to_string(),
        }
    }
}

/// A lookup join: the table, its kind and keys, and what it holds.
fn explain_lookup(out: &mut String, join: &super::LookupJoin, names: &[String]) {
    let kind = match join.kind {
        super::JoinKind::Inner => "INNER",
        super::JoinKind::Left => "LEFT",
    };
    let keys: Vec<String> = join
        .stream_keys
        .iter()
        .zip(&join.table_keys)
        .map(|(stream, &table)| {
            let column = &join.table.schema.fields[table].name;
            format!(
                "{} = {}.{column}",
                stream.display_with(names),
                join.table.name
            )
        })
        .collect();
    let _ = writeln!(
        out,
        "  Join: {kind} {} ({}) ON {}{}",
        join.table.name,
        join.table.schema,
        keys.join(" AND "),
        properties_text(&join.table.properties)
    );
    let read: Vec<&str> = join
        .table
        .schema
        .fields
        .iter()
        .zip(&join.read)
        .filter(|(_, &read)| read)
        .map(|(f, _)| f.name.as_str())
        .collect();
    let _ =
        writeln!(
        out,
        "    read in full before the stream starts and copied to every shard; one row per key; \
         rows are joined where they are read, before routing; columns used: {}",
        if read.is_empty() { "none".to_string() } else { read.join(", ") }
    );
}

fn properties_text(properties: &[(String, String)]) -> String {
    properties.iter().fold(String::new(), |mut s, (k, v)| {
        let _ = write!(s, " {k}={v}");
        s
    })
}

fn list(exprs: &[ScalarExpr], names: &[String]) -> String {
    let parts: Vec<String> = exprs
        .iter()
        .map(|e| e.display_with(names).to_string())
        .collect();
    parts.join(", ")
}

fn explain_aggregate(
    out: &mut String,
    agg: &AggregatePlan,
    source_names: &[String],
    pre_aggregates: bool,
) {
    let group_names = group_row_names(agg, source_names);
    let _ = writeln!(out, "  Project: {}", list(&agg.projections, &group_names));
    let _ = write!(
        out,
        "  Aggregate: keys [{}]",
        list(&agg.group_keys, source_names)
    );
    if let Some(window) = &agg.window {
        let _ = write!(out, ", window {}", window_text(window, source_names));
    }
    out.push('\n');
    if !agg.aggregates.is_empty() {
        let parts: Vec<String> = agg
            .aggregates
            .iter()
            .enumerate()
            .map(|(i, call)| {
                let index = agg.group_keys.len() + i;
                format!(
                    "#{index} {} = {}",
                    group_names[index],
                    call.display_with(source_names)
                )
            })
            .collect();
        let _ = writeln!(out, "    aggregates: {}", parts.join(", "));
    }
    if let Some(having) = &agg.having {
        let _ = writeln!(out, "    having: {}", having.display_with(&group_names));
    }
    if pre_aggregates {
        out.push_str(
            "    pre-aggregated: at 2 shards and more, each shard folds the rows it reads \
             per key (and window) and sends each input chunk's states to the key's shard\n",
        );
    }
}

fn explain_over(out: &mut String, over: &OverPlan, source_names: &[String]) {
    let calls = (0..over.calls.len()).map(|i| format!("over{i}"));
    let over_names: Vec<String> = source_names.iter().cloned().chain(calls).collect();
    let _ = writeln!(out, "  Project: {}", list(&over.projections, &over_names));
    if let Some(qualify) = &over.qualify {
        let _ = writeln!(out, "  Qualify: {}", qualify.display_with(&over_names));
    }
    let time = source_names
        .get(over.time_column)
        .map_or("?", String::as_str);
    let _ = writeln!(
        out,
        "  Over: PARTITION BY [{}] ORDER BY {time}; rows wait for the watermark to pass \
         their time, then go out in event time",
        list(&over.partition_keys, source_names)
    );
    for (i, call) in over.calls.iter().enumerate() {
        let _ = writeln!(
            out,
            "    #{} over{i} = {}",
            source_names.len() + i,
            over_call_text(call, source_names)
        );
    }
}

/// A second stage: what it ranks or groups, then the first stage follows.
fn explain_stage(out: &mut String, stage: &super::SecondStage) {
    match stage {
        super::SecondStage::Rank(rank) => explain_rank_stage(out, rank),
        super::SecondStage::Group(group) => explain_group_stage(out, group),
    }
    let _ = writeln!(out, "  First stage, on the shards:");
}

/// A grouping over a grouping's rows.
fn explain_group_stage(out: &mut String, stage: &super::GroupStage) {
    let when = match (stage.window_columns, stage.plan.emit) {
        (Some(_), super::EmitMode::Final) => {
            "writing each window's groups once the window's rows are all in"
        }
        (Some(_), super::EmitMode::Changes) => {
            "writing updates after each chunk; a window's groups are dropped once its rows \
             are all in"
        }
        (None, super::EmitMode::Final) => "writing its groups when the input ends",
        (None, super::EmitMode::Changes) => "writing updates after each chunk",
    };
    let _ = writeln!(
        out,
        "  Second stage, on the merger: groups the first stage's rows ({}), {when}",
        stage.input
    );
    let names: Vec<String> = stage.input.names().map(String::from).collect();
    if let QueryKind::Aggregate(agg) = &stage.plan.kind {
        explain_aggregate(out, agg, &names, false);
    }
    if let Some(filter) = &stage.plan.filter {
        let _ = writeln!(out, "  Filter: {}", filter.display_with(&names));
    }
}

/// A Top-N over a grouping's rows.
fn explain_rank_stage(out: &mut String, stage: &super::RankStage) {
    let when = match stage.window_columns {
        Some(_) => "each window's rows once they are all in",
        None => "the grouping's rows at the end of the input",
    };
    let _ = writeln!(
        out,
        "  Second stage, on the merger: ranks {when}, over the grouping's rows ({})",
        stage.input
    );
    let names: Vec<String> = stage.input.names().map(String::from).collect();
    explain_top_n(out, &stage.top_n, &names, true);
    if let Some(filter) = &stage.filter {
        let _ = writeln!(out, "  Filter: {}", filter.display_with(&names));
    }
}

/// A Top-N; `whole_windows` for a second stage's, which ranks each
/// window's rows once they are all in.
fn explain_top_n(out: &mut String, top: &TopNPlan, source_names: &[String], whole_windows: bool) {
    let ranked_names: Vec<String> = source_names
        .iter()
        .cloned()
        .chain(std::iter::once("row_number".to_string()))
        .collect();
    let _ = writeln!(out, "  Project: {}", list(&top.projections, &ranked_names));
    if let Some(qualify) = &top.qualify {
        let _ = writeln!(out, "  Qualify: {}", qualify.display_with(&ranked_names));
    }
    let order: Vec<String> = top
        .order
        .iter()
        .map(|key| {
            let direction = if key.descending { "DESC" } else { "ASC" };
            let nulls = if key.nulls_first { "FIRST" } else { "LAST" };
            format!(
                "{} {direction} NULLS {nulls}",
                key.expr.display_with(source_names)
            )
        })
        .collect();
    let changes = match (whole_windows, top.reads_rank()) {
        (true, _) => "each window ranked once",
        (false, true) => "a row that enters changes the rows ranked after it",
        (false, false) => "a row that enters pushes out at most one",
    };
    let (what, ties) = match top.ranking {
        Ranking::RowNumber => (
            format!("the first {} rows", top.limit),
            "ties in arrival order",
        ),
        ranking => (
            format!("the rows {} numbers 1 to {}", ranking.name(), top.limit),
            "ties share a number",
        ),
    };
    let _ = writeln!(
        out,
        "  TopN: {what} of each PARTITION BY [{}] ORDER BY {} ({ties}); {changes}",
        list(&top.partition_keys, source_names),
        order.join(", ")
    );
}

fn over_call_text(call: &OverCall, names: &[String]) -> String {
    let shift = |name: &str, s: &Shift| match &s.default {
        Some(d) => format!(
            "{name}({}, {}, {})",
            s.arg.display_with(names),
            s.offset,
            d.display_with(names)
        ),
        None => format!("{name}({}, {})", s.arg.display_with(names), s.offset),
    };
    let function = match &call.function {
        OverFunction::Aggregate(a) => a.display_with(names).to_string(),
        OverFunction::RowNumber => return "ROW_NUMBER()".into(),
        OverFunction::Rank => return "RANK()".into(),
        OverFunction::DenseRank => return "DENSE_RANK()".into(),
        OverFunction::Lag(s) => return shift("LAG", s),
        OverFunction::Lead(s) => return shift("LEAD", s),
        OverFunction::FirstValue(x) => format!("FIRST_VALUE({})", x.display_with(names)),
        OverFunction::LastValue(x) => format!("LAST_VALUE({})", x.display_with(names)),
    };
    let frame = match call.frame {
        Frame::Rows(None) => "ROWS UNBOUNDED PRECEDING".to_string(),
        Frame::Rows(Some(n)) => format!("ROWS {n} PRECEDING"),
        Frame::Range(None) => "RANGE UNBOUNDED PRECEDING".to_string(),
        Frame::Range(Some(ms)) => format!("RANGE {} PRECEDING", format_duration(ms)),
    };
    format!("{function} {frame}")
}

/// Names of the group row's columns: a key that is a source column keeps its
/// name (else `key<i>`), aggregates are `agg<j>`, then the window bounds.
fn group_row_names(agg: &AggregatePlan, source_names: &[String]) -> Vec<String> {
    let keys = agg
        .group_keys
        .iter()
        .enumerate()
        .map(|(i, k)| match k.kind {
            ExprKind::Column(c) => source_names
                .get(c)
                .cloned()
                .unwrap_or_else(|| format!("key{i}")),
            _ => format!("key{i}"),
        });
    let aggregates = (0..agg.aggregates.len()).map(|j| format!("agg{j}"));
    let window = agg
        .window
        .iter()
        .flat_map(|_| ["window_start".to_string(), "window_end".to_string()]);
    keys.chain(aggregates).chain(window).collect()
}

fn window_text(window: &WindowSpec, source_names: &[String]) -> String {
    let kind = match window.kind {
        WindowKind::Tumbling { size_ms } => format!("TUMBLING(size {})", format_duration(size_ms)),
        WindowKind::Sliding {
            size_ms,
            advance_ms,
        } => format!(
            "SLIDING(size {}, advance {})",
            format_duration(size_ms),
            format_duration(advance_ms)
        ),
        WindowKind::Cumulating { size_ms, step_ms } => format!(
            "CUMULATE(step {}, size {})",
            format_duration(step_ms),
            format_duration(size_ms)
        ),
        WindowKind::Session { gap_ms } => format!("SESSION(gap {})", format_duration(gap_ms)),
    };
    let column = source_names
        .get(window.time_column)
        .map(String::as_str)
        .unwrap_or("?");
    format!("{kind} on {column} (#{})", window.time_column)
}

impl BinaryOp {
    /// The operator as SQL writes it.
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Add => "+",
            BinaryOp::Subtract => "-",
            BinaryOp::Multiply => "*",
            BinaryOp::Divide => "/",
            BinaryOp::Modulo => "%",
            BinaryOp::Eq => "=",
            BinaryOp::NotEq => "<>",
            BinaryOp::Lt => "<",
            BinaryOp::LtEq => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::GtEq => ">=",
            BinaryOp::And => "AND",
            BinaryOp::Or => "OR",
            BinaryOp::Concat => "||",
        }
    }
}

impl ScalarFunction {
    /// The function's SQL name.
    pub fn name(self) -> &'static str {
        match self {
            ScalarFunction::Coalesce => "COALESCE",
            ScalarFunction::NullIf => "NULLIF",
            ScalarFunction::Abs => "ABS",
            ScalarFunction::Round => "ROUND",
            ScalarFunction::Floor => "FLOOR",
            ScalarFunction::Ceil => "CEIL",
            ScalarFunction::Upper => "UPPER",
            ScalarFunction::Lower => "LOWER",
            ScalarFunction::Length => "LENGTH",
            ScalarFunction::Substring => "SUBSTRING",
            ScalarFunction::Trim(TrimSide::Both) => "TRIM",
            ScalarFunction::Trim(TrimSide::Leading) => "LTRIM",
            ScalarFunction::Trim(TrimSide::Trailing) => "RTRIM",
            ScalarFunction::Concat => "CONCAT",
            ScalarFunction::Mod => "MOD",
            ScalarFunction::DatePart(_) => "EXTRACT",
            ScalarFunction::DateFormat => "DATE_FORMAT",
            ScalarFunction::Greatest => "GREATEST",
            ScalarFunction::Least => "LEAST",
            ScalarFunction::SplitPart => "SPLIT_PART",
            ScalarFunction::TimeFloor(_) => "FLOOR",
            ScalarFunction::TimeCeil(_) => "CEIL",
            ScalarFunction::TimestampDiff(_) => "TIMESTAMPDIFF",
            ScalarFunction::TimestampAdd(_) => "TIMESTAMPADD",
            ScalarFunction::TumbleStart(_) => "TUMBLE_START",
            ScalarFunction::TumbleEnd(_) => "TUMBLE_END",
            ScalarFunction::ToTimestamp => "TO_TIMESTAMP",
            ScalarFunction::Now => "NOW",
            ScalarFunction::Hash => "HASH",
            ScalarFunction::Md5 => "MD5",
        }
    }
}

impl AggregateFunction {
    /// The aggregate's SQL name.
    pub fn name(self) -> &'static str {
        match self {
            AggregateFunction::Count => "COUNT",
            AggregateFunction::Sum => "SUM",
            AggregateFunction::Avg => "AVG",
            AggregateFunction::Min => "MIN",
            AggregateFunction::Max => "MAX",
            AggregateFunction::StddevPop => "STDDEV_POP",
            AggregateFunction::StddevSamp => "STDDEV_SAMP",
            AggregateFunction::VarPop => "VAR_POP",
            AggregateFunction::VarSamp => "VAR_SAMP",
            AggregateFunction::BoolAnd => "BOOL_AND",
            AggregateFunction::BoolOr => "BOOL_OR",
            AggregateFunction::ArgMax => "ARG_MAX",
            AggregateFunction::ArgMin => "ARG_MIN",
            AggregateFunction::FirstValue => "FIRST_VALUE",
            AggregateFunction::LastValue => "LAST_VALUE",
            AggregateFunction::CollectList => "COLLECT_LIST",
            AggregateFunction::ApproxCountDistinct => "APPROX_COUNT_DISTINCT",
            AggregateFunction::PercentileCont => "PERCENTILE_CONT",
        }
    }
}

impl ScalarExpr {
    /// Renders with column names: `#1 price` (`names[i]` names column `i`).
    pub fn display_with<'a>(&'a self, names: &'a [String]) -> impl fmt::Display + 'a {
        ExprDisplay { expr: self, names }
    }
}

/// Renders as `#1` per column, without names.
impl fmt::Display for ScalarExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let display = ExprDisplay {
            expr: self,
            names: &[],
        };
        write!(f, "{display}")
    }
}

impl AggregateCall {
    /// Renders with the source's column names: `SUM(DISTINCT #1 price)`.
    pub fn display_with<'a>(&'a self, names: &'a [String]) -> impl fmt::Display + 'a {
        AggregateDisplay { call: self, names }
    }
}

impl fmt::Display for AggregateCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let display = AggregateDisplay {
            call: self,
            names: &[],
        };
        write!(f, "{display}")
    }
}

struct AggregateDisplay<'a> {
    call: &'a AggregateCall,
    names: &'a [String],
}

impl fmt::Display for AggregateDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let call = self.call;
        write!(f, "{}(", call.func.name())?;
        if call.distinct {
            f.write_str("DISTINCT ")?;
        }
        match &call.arg {
            Some(arg) => write!(f, "{}", arg.display_with(self.names))?,
            None => f.write_str("*")?,
        }
        if let Some(by) = &call.by {
            write!(f, ", {}", by.display_with(self.names))?;
        }
        if let Some(fraction) = call.fraction {
            write!(f, ", {fraction}")?;
        }
        f.write_str(")")?;
        if call.respect_nulls {
            f.write_str(" RESPECT NULLS")?;
        }
        if let Some(filter) = &call.filter {
            write!(f, " FILTER (WHERE {})", filter.display_with(self.names))?;
        }
        Ok(())
    }
}

struct ExprDisplay<'a> {
    expr: &'a ScalarExpr,
    names: &'a [String],
}

impl ExprDisplay<'_> {
    fn sub<'b>(&'b self, expr: &'b ScalarExpr) -> ExprDisplay<'b> {
        ExprDisplay {
            expr,
            names: self.names,
        }
    }

    /// A call, in the syntax of the SQL that makes it.
    fn write_function(
        &self,
        f: &mut fmt::Formatter<'_>,
        func: ScalarFunction,
        args: &[ScalarExpr],
    ) -> fmt::Result {
        match func {
            ScalarFunction::DatePart(part) => write!(f, "EXTRACT({} FROM ", part.name())?,
            ScalarFunction::TimestampDiff(unit) | ScalarFunction::TimestampAdd(unit) => {
                write!(f, "{}({}, ", func.name(), unit.name())?
            }
            _ => write!(f, "{}(", func.name())?,
        }
        self.comma_list(f, args)?;
        match func {
            ScalarFunction::TimeFloor(unit) | ScalarFunction::TimeCeil(unit) => {
                write!(f, " TO {})", unit.name())
            }
            ScalarFunction::TumbleStart(size_ms) | ScalarFunction::TumbleEnd(size_ms) => {
                write!(f, ", INTERVAL '{size_ms}' MILLISECOND)")
            }
            _ => f.write_str(")"),
        }
    }

    fn comma_list(&self, f: &mut fmt::Formatter<'_>, exprs: &[ScalarExpr]) -> fmt::Result {
        for (i, e) in exprs.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{}", self.sub(e))?;
        }
        Ok(())
    }
}

impl fmt::Display for ExprDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.expr.kind {
            ExprKind::Column(i) => match self.names.get(*i) {
                Some(name) => write!(f, "#{i} {name}"),
                None => write!(f, "#{i}"),
            },
            ExprKind::Literal(v) => write_literal(f, v),
            ExprKind::Unary { op, expr } => match op {
                UnaryOp::Not => write!(f, "(NOT {})", self.sub(expr)),
                UnaryOp::Negate => write!(f, "(-{})", self.sub(expr)),
            },
            ExprKind::Binary { op, left, right } => write!(
                f,
                "({} {} {})",
                self.sub(left),
                op.symbol(),
                self.sub(right)
            ),
            ExprKind::IsNull { expr, negated } => {
                let not = if *negated { "NOT " } else { "" };
                write!(f, "({} IS {not}NULL)", self.sub(expr))
            }
            ExprKind::InList {
                expr,
                list,
                negated,
            } => {
                let not = if *negated { "NOT " } else { "" };
                write!(f, "({} {not}IN (", self.sub(expr))?;
                self.comma_list(f, list)?;
                f.write_str("))")
            }
            ExprKind::Between {
                expr,
                low,
                high,
                negated,
            } => {
                let not = if *negated { "NOT " } else { "" };
                write!(
                    f,
                    "({} {not}BETWEEN {} AND {})",
                    self.sub(expr),
                    self.sub(low),
                    self.sub(high)
                )
            }
            ExprKind::Like {
                expr,
                pattern,
                negated,
                case_insensitive,
            } => {
                let not = if *negated { "NOT " } else { "" };
                let like = if *case_insensitive { "ILIKE" } else { "LIKE" };
                write!(f, "({} {not}{like} {})", self.sub(expr), self.sub(pattern))
            }
            ExprKind::Case {
                operand,
                branches,
                else_result,
            } => {
                f.write_str("CASE")?;
                if let Some(operand) = operand {
                    write!(f, " {}", self.sub(operand))?;
                }
                for (when, then) in branches {
                    write!(f, " WHEN {} THEN {}", self.sub(when), self.sub(then))?;
                }
                if let Some(e) = else_result {
                    write!(f, " ELSE {}", self.sub(e))?;
                }
                f.write_str(" END")
            }
            ExprKind::Cast { expr } => {
                write!(f, "CAST({} AS {})", self.sub(expr), self.expr.data_type)
            }
            ExprKind::Function { func, args } => self.write_function(f, *func, args),
            ExprKind::Compiled {
                func: CompiledFunction::JsonText(path),
                args,
            } => {
                self.comma_list(f, args)?;
                f.write_str(" ->> ")?;
                write_literal(f, &Value::str(&path.to_string()))
            }
            ExprKind::Compiled { func, args } => {
                let constant = match func {
                    CompiledFunction::RegexpLike(p)
                    | CompiledFunction::RegexpExtract(p)
                    | CompiledFunction::RegexpReplace { pattern: p, .. } => p.to_string(),
                    CompiledFunction::JsonValue(path) | CompiledFunction::JsonText(path) => {
                        path.to_string()
                    }
                };
                let (first, rest) = args
                    .split_first()
                    .map_or((&[][..], &[][..]), |(a, r)| (std::slice::from_ref(a), r));
                write!(f, "{}(", func.name())?;
                self.comma_list(f, first)?;
                f.write_str(", ")?;
                write_literal(f, &Value::str(&constant))?;
                for e in rest {
                    write!(f, ", {}", self.sub(e))?;
                }
                if let CompiledFunction::RegexpReplace { all: true, .. } = func {
                    f.write_str(", 'g'")?;
                }
                f.write_str(")")
            }
        }
    }
}

fn write_literal(f: &mut fmt::Formatter<'_>, v: &Value) -> fmt::Result {
    match v {
        Value::Null => f.write_str("NULL"),
        Value::Bool(true) => f.write_str("TRUE"),
        Value::Bool(false) => f.write_str("FALSE"),
        Value::Str(s) => write!(f, "'{}'", s.replace('\'', "''")),
        Value::Timestamp(t) => write!(f, "TIMESTAMP '{}'", format_timestamp(*t)),
        other => write!(f, "{other}"),
    }
}

/// A UNION ALL's branches: each source, read side by side (chunks
/// interleaved, a watermark each), filtered and projected as it is read.
fn explain_union(out: &mut String, union_table: &TableDef, union: &UnionPlan) {
    let _ = writeln!(
        out,
        "  Source: {} ({}), UNION ALL of {} inputs read side by side, each with a watermark \
         of its own (the union's is the slowest input's):",
        union_table.name,
        union_table.schema,
        union.branches.len()
    );
    for (number, branch) in union.branches.iter().enumerate() {
        let names: Vec<String> = branch
            .source
            .schema
            .fields
            .iter()
            .map(|f| f.name.clone())
            .collect();
        let _ = writeln!(
            out,
            "    Input {}: {}",
            number + 1,
            table_text(&branch.source)
        );
        if let Some(filter) = &branch.filter {
            let _ = writeln!(out, "      Filter: {}", filter.display_with(&names));
        }
        if !branch.passes_rows_through() {
            let _ = writeln!(out, "      Project: {}", list(&branch.columns, &names));
        }
    }
}

/// What a join of two streams holds, in a state-limit error.
pub const JOIN_STATE: &str =
    "the rows of both streams, which a regular join keeps until the input ends";

/// What an interval join holds, in a state-limit error.
pub const INTERVAL_JOIN_STATE: &str =
    "the rows of both streams an interval join keeps until the watermark passes their interval";

/// A join of two streams: its kind, keys and condition, where its state
/// lives and how long, and its two inputs.
fn explain_stream_join(out: &mut String, union: &UnionPlan, join: &StreamJoin, names: &[String]) {
    let keys: Vec<String> = join.keys[0]
        .iter()
        .zip(&join.keys[1])
        .map(|(l, r)| format!("{} = {}", l.display_with(names), r.display_with(names)))
        .collect();
    let when = match join.interval {
        Some(JoinInterval {
            tumbling_ms: Some(_),
            ..
        }) => "when the watermark closes their window",
        Some(_) => "when the watermark passes their interval",
        None => "when the input ends",
    };
    let unmatched = match join.kind {
        StreamJoinKind::Inner => String::new(),
        _ => format!("; rows of an outer side that never matched are written {when}"),
    };
    let kept = match join.interval {
        None => "a regular join: every row of both sides is kept on its key's shard (the state \
                 grows with the input; --max-state-bytes bounds it)"
            .to_string(),
        Some(interval) => {
            let [left, right] = [0, 1].map(|side| {
                let source = &union.branches[side].source;
                let column = &source.schema.fields[interval.time_columns[side]].name;
                format!("{}.{column}", source.name)
            });
            match interval.tumbling_ms {
                Some(size_ms) => format!(
                    "a window join: both rows in one TUMBLE window of {} (by {left} and \
                     {right}); a row is kept on its key's shard until the watermark (less the \
                     allowed lateness) closes its window, then dropped; a row whose window \
                     has closed is late",
                    format_duration(size_ms)
                ),
                None => format!(
                "an interval join: {right} - {left} within {} .. {}; a row is kept on its key's \
                 shard until the watermark (less the allowed lateness) passes the last time a \
                 row of the other side could pair with it, then dropped",
                signed_duration(interval.lower_ms),
                signed_duration(interval.upper_ms)
            ),
            }
        }
    };
    let _ = writeln!(
        out,
        "  Join of two streams: {} JOIN on {}, each row routed by its own side's key; \
         {kept}{unmatched}",
        join.kind.name(),
        keys.join(" AND ")
    );
    if let Some(condition) = &join.condition {
        let _ = writeln!(
            out,
            "    pairs must meet: {}",
            condition.display_with(names)
        );
    }
    if let Some(kept) = kept_columns_text(join, names) {
        let _ = writeln!(
            out,
            "    rows are kept with only the columns read after the join: {kept}"
        );
    }
    for (side, branch) in ["left", "right"].iter().zip(&union.branches) {
        let _ = writeln!(out, "    {side}: {}", table_text(&branch.source));
        if let Some(filter) = &branch.filter {
            let names: Vec<String> = branch.source.schema.names().map(str::to_string).collect();
            let _ = writeln!(
                out,
                "      Filter (as read, before the join): {}",
                filter.display_with(&names)
            );
        }
    }
}

/// The columns kept of each side's rows, when not all of them.
fn kept_columns_text(join: &StreamJoin, names: &[String]) -> Option<String> {
    if join.columns_read.iter().all(|read| read.iter().all(|&r| r)) {
        return None;
    }
    let starts = [0, join.left_width];
    let sides = join.columns_read.iter().zip(starts).map(|(read, start)| {
        let kept = read.iter().enumerate().filter(|(_, &r)| r);
        let kept: Vec<&str> = kept
            .map(|(c, _)| names.get(start + c).map_or("?", String::as_str))
            .collect();
        format!("({})", kept.join(", "))
    });
    Some(sides.collect::<Vec<_>>().join(" and "))
}

/// `expr` for a message: a column by its name alone, else the expression.
pub(super) fn expr_text(expr: &ScalarExpr, names: &[String]) -> String {
    match expr.kind {
        ExprKind::Column(c) if c < names.len() => names[c].clone(),
        _ => expr.display_with(names).to_string(),
    }
}

/// Where a grouping over a join of two streams runs, and when its windows close.
fn explain_grouping_after_join(
    out: &mut String,
    grouping: &AggregatePlan,
    (union, join): (&UnionPlan, &StreamJoin),
) {
    let closes = match grouping.window {
        // Only an interval join's rows may be windowed (see `stream_join`).
        Some(window) => {
            let side = usize::from(window.time_column >= join.left_width);
            format!(
                "; its windows close when the watermark, less the allowed lateness and the \
                 join's interval on the {} side, shows the join can write no more rows in them",
                union.branches[side].source.name
            )
        }
        None => String::new(),
    };
    let _ = writeln!(
        out,
        "    its rows are grouped on the join key's shard, after the join (GROUP BY holds the \
         join key){closes}"
    );
}

/// A duration that may be negative: `-10s`.
fn signed_duration(ms: i64) -> String {
    match ms < 0 {
        true => format!("-{}", format_duration(ms.saturating_neg())),
        false => format_duration(ms),
    }
}

/// A table as explain names it: name, columns and WITH properties.
fn table_text(table: &TableDef) -> String {
    format!(
        "{} ({}){}",
        table.name,
        table.schema,
        properties_text(&table.properties)
    )
}
