//! Column binding: which field of a CSV record, or which column of a
//! generator, each declared column reads.
//!
//! - CSV header: by name, case-insensitively; extra header columns are
//!   ignored and a declared column missing from the header is an error naming
//!   it. A name the header repeats binds by occurrence: the k-th declared
//!   column of that name reads the k-th header field of that name.
//! - Generators (`trades`, `nexmark`): by name, with the declared type checked
//!   against the generator's; a column the generator lacks, a wrong type or a
//!   column declared twice is an error naming the column.

use crate::data::Schema;
use crate::error::{Error, Result};

/// For each column of `schema`, the index of the header field it reads.
/// `source` names the table and `label` the input in messages.
pub(crate) fn header_fields(
    source: &str,
    schema: &Schema,
    header: &[String],
    label: &str,
) -> Result<Vec<usize>> {
    let mut taken = vec![false; header.len()];
    let mut fields = Vec::with_capacity(schema.len());
    for column in &schema.fields {
        let index = (0..header.len())
            .find(|&i| !taken[i] && header[i].eq_ignore_ascii_case(&column.name))
            .ok_or_else(|| missing_from_header(source, &column.name, schema, header, label))?;
        taken[index] = true;
        fields.push(index);
    }
    Ok(fields)
}

fn missing_from_header(
    source: &str,
    column: &str,
    schema: &Schema,
    header: &[String],
    label: &str,
) -> Error {
    let count = |names: &mut dyn Iterator<Item = &str>| {
        names.filter(|n| n.eq_ignore_ascii_case(column)).count()
    };
    let declared = count(&mut schema.fields.iter().map(|f| f.name.as_str()));
    let in_header = count(&mut header.iter().map(String::as_str));
    let what = if in_header == 0 {
        format!("column '{column}' is not in the header of {label}")
    } else {
        format!(
            "column '{column}' is declared {declared} times but the header of {label} has it {in_header} time(s)"
        )
    };
    Error::Usage(format!(
        "source '{source}': {what} (it has: {})",
        header.join(", ")
    ))
}

/// For each column of `declared`, the index of the `generator`'s column of
/// that name in `canonical`; `None` when the declaration is empty (all
/// columns) or is exactly `canonical`, so rows need no reordering.
pub(crate) fn generator_columns(
    source: &str,
    generator: &str,
    canonical: &Schema,
    declared: &Schema,
) -> Result<Option<Vec<usize>>> {
    if declared.is_empty() || is_same_columns(declared, canonical) {
        return Ok(None);
    }
    let mut projection = Vec::with_capacity(declared.len());
    for column in &declared.fields {
        let index = canonical.index_of(&column.name).ok_or_else(|| {
            Error::Usage(format!(
                "source '{source}': the {generator} generator has no column '{}' (it has: {canonical})",
                column.name
            ))
        })?;
        let expected = canonical.fields[index].data_type;
        if column.data_type != expected {
            return Err(Error::Usage(format!(
                "source '{source}': column '{}' of the {generator} generator is {expected}, not {}",
                column.name, column.data_type
            )));
        }
        if projection.contains(&index) {
            return Err(Error::Usage(format!(
                "source '{source}': column '{}' is declared twice",
                column.name
            )));
        }
        projection.push(index);
    }
    Ok(Some(projection))
}

fn is_same_columns(a: &Schema, b: &Schema) -> bool {
    a.len() == b.len()
        && a.fields
            .iter()
            .zip(&b.fields)
            .all(|(x, y)| x.name.eq_ignore_ascii_case(&y.name) && x.data_type == y.data_type)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{DataType, Field};

    fn schema(cols: &[(&str, DataType)]) -> Schema {
        Schema::new(cols.iter().map(|(n, t)| Field::new(*n, *t)).collect())
    }

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn repeated_header_names_bind_by_occurrence() {
        let header = names(&["symbol", "qty", "QTY", "qty"]);
        let s = schema(&[
            ("symbol", DataType::Varchar),
            ("qty", DataType::BigInt),
            ("QTY", DataType::BigInt),
            ("qty", DataType::BigInt),
        ]);
        assert_eq!(
            header_fields("t", &s, &header, "x.csv").unwrap(),
            vec![0, 1, 2, 3]
        );
        let reordered = schema(&[("qty", DataType::BigInt), ("symbol", DataType::Varchar)]);
        assert_eq!(
            header_fields("t", &reordered, &header, "x.csv").unwrap(),
            vec![1, 0]
        );
    }

    #[test]
    fn header_errors_name_the_column() {
        let header = names(&["symbol", "qty"]);
        let s = schema(&[("symbol", DataType::Varchar), ("price", DataType::Double)]);
        assert_eq!(
            header_fields("t", &s, &header, "x.csv")
                .unwrap_err()
                .to_string(),
            "source 't': column 'price' is not in the header of x.csv (it has: symbol, qty)"
        );
        let twice = schema(&[("qty", DataType::BigInt), ("QTY", DataType::BigInt)]);
        assert_eq!(
            header_fields("t", &twice, &header, "x.csv")
                .unwrap_err()
                .to_string(),
            "source 't': column 'QTY' is declared 2 times but the header of x.csv has it 1 time(s) \
             (it has: symbol, qty)"
        );
    }

    #[test]
    fn generator_columns_bind_by_name_with_a_type_check() {
        let canonical = schema(&[
            ("auction", DataType::BigInt),
            ("price", DataType::BigInt),
            ("channel", DataType::Varchar),
        ]);
        let bind = |declared: &Schema| generator_columns("b", "nexmark bid", &canonical, declared);
        assert_eq!(bind(&Schema::default()).unwrap(), None);
        assert_eq!(bind(&canonical).unwrap(), None);
        let reordered = schema(&[("PRICE", DataType::BigInt), ("auction", DataType::BigInt)]);
        assert_eq!(bind(&reordered).unwrap(), Some(vec![1, 0]));
        let wrong_type = schema(&[("price", DataType::Double)]);
        assert_eq!(
            bind(&wrong_type).unwrap_err().to_string(),
            "source 'b': column 'price' of the nexmark bid generator is BIGINT, not DOUBLE"
        );
        let unknown = schema(&[("bidder", DataType::BigInt)]);
        assert!(bind(&unknown)
            .unwrap_err()
            .to_string()
            .contains("has no column 'bidder' (it has: auction BIGINT"));
        let twice = schema(&[("price", DataType::BigInt), ("price", DataType::BigInt)]);
        assert!(bind(&twice)
            .unwrap_err()
            .to_string()
            .contains("column 'price' is declared twice"));
    }
}
