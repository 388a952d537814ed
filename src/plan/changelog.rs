//! Whether a query's output is a changelog, the `op` column a changelog puts
//! first in the output schema, and the row kinds that column holds.

use super::planner::PlanSettings;
use crate::data::{DataType, Field, Schema};
use crate::error::{Error, Result};

/// The name of a changelog's first column, which holds the row kind.
pub const CHANGELOG_OP_COLUMN: &str = "op";

/// What a changelog row does to the result: Flink's row kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowKind {
    Insert,
    UpdateBefore,
    UpdateAfter,
    Delete,
}

impl RowKind {
    /// The text in the `op` column.
    pub fn text(self) -> &'static str {
        match self {
            RowKind::Insert => "+I",
            RowKind::UpdateBefore => "-U",
            RowKind::UpdateAfter => "+U",
            RowKind::Delete => "-D",
        }
    }

    /// The row kind written as `text`, if it is one.
    pub fn parse(text: &str) -> Option<RowKind> {
        [
            RowKind::Insert,
            RowKind::UpdateBefore,
            RowKind::UpdateAfter,
            RowKind::Delete,
        ]
        .into_iter()
        .find(|kind| kind.text() == text)
    }

    /// True for the kinds that take a row out of the result.
    pub fn retracts(self) -> bool {
        matches!(self, RowKind::UpdateBefore | RowKind::Delete)
    }
}

/// The CREATE STREAM WITH key that asks for a changelog.
const MODE_KEY: &str = "changelog.mode";

/// The stream formats that write a changelog, so imply one.
const CHANGELOG_FORMATS: [&str; 1] = ["debezium-json"];

/// True when the output is a changelog: asked for on the command line, by
/// WITH ('changelog.mode' = 'retract'), or by a stream format that writes one
/// (`debezium-json`). `'changelog.mode' = 'none'` is the default.
pub(super) fn wants_changelog(
    settings: &PlanSettings,
    properties: &[(String, String)],
) -> Result<bool> {
    let property = |key: &str| {
        properties
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.trim())
    };
    let by_mode = match property(MODE_KEY) {
        None => false,
        Some(v) if v.eq_ignore_ascii_case("retract") => true,
        Some(v) if v.eq_ignore_ascii_case("none") => false,
        Some(v) => {
            return Err(Error::Usage(format!(
                "WITH property '{MODE_KEY}': unknown changelog mode '{v}' (known: retract, none)"
            )))
        }
    };
    let by_format = ["output.format", "format"]
        .into_iter()
        .filter_map(property)
        .any(|f| CHANGELOG_FORMATS.iter().any(|c| f.eq_ignore_ascii_case(c)));
    Ok(settings.changelog || by_mode || by_format)
}

/// `output` with the changelog's `op` column (VARCHAR) first; an output
/// column of that name is refused, since JSON would then have the key twice.
pub(super) fn with_op_column(output: Schema) -> Result<Schema> {
    let taken = output
        .fields
        .iter()
        .any(|f| f.name.eq_ignore_ascii_case(CHANGELOG_OP_COLUMN));
    if taken {
        return Err(Error::plan(
            format!(
                "the changelog puts the row kind in a first column `{CHANGELOG_OP_COLUMN}`; \
                 the query has an output column `{CHANGELOG_OP_COLUMN}` too: rename it with AS"
            ),
            None,
        ));
    }
    let mut fields = Vec::with_capacity(output.fields.len() + 1);
    fields.push(Field::new(CHANGELOG_OP_COLUMN, DataType::Varchar));
    fields.extend(output.fields);
    Ok(Schema::new(fields))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wants(flag: bool, properties: &[(&str, &str)]) -> Result<bool> {
        let settings = PlanSettings {
            changelog: flag,
            ..PlanSettings::default()
        };
        let properties: Vec<(String, String)> = properties
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        wants_changelog(&settings, &properties)
    }

    #[test]
    fn the_flag_the_mode_key_or_a_changelog_format_asks_for_it() {
        assert!(!wants(false, &[]).unwrap());
        assert!(wants(true, &[("changelog.mode", "none")]).unwrap());
        assert!(wants(false, &[("changelog.mode", " Retract ")]).unwrap());
        assert!(!wants(false, &[("changelog.mode", "none"), ("format", "csv")]).unwrap());
        assert!(wants(false, &[("output.format", "DEBEZIUM-JSON")]).unwrap());
        let err = wants(true, &[("changelog.mode", "upsert")]).unwrap_err();
        assert!(err.to_string().contains("'changelog.mode'"), "{err}");
    }

    #[test]
    fn the_op_column_comes_first_and_is_not_taken_twice() {
        let output = Schema::new(vec![Field::new("n", DataType::BigInt)]);
        let names: Vec<String> = with_op_column(output)
            .unwrap()
            .names()
            .map(String::from)
            .collect();
        assert_eq!(names, ["op", "n"]);
        let taken = Schema::new(vec![Field::new("OP", DataType::BigInt)]);
        assert!(with_op_column(taken).is_err());
    }

    #[test]
    fn row_kinds_read_back() {
        for text in ["+I", "-U", "+U", "-D"] {
            let kind = RowKind::parse(text);
            assert_eq!(kind.map(RowKind::text), Some(text));
        }
        assert_eq!(RowKind::parse("+X"), None);
        assert!(RowKind::Delete.retracts() && !RowKind::UpdateAfter.retracts());
    }
}
