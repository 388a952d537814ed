//! Evaluation of the functions compiled at plan time: REGEXP_LIKE,
//! REGEXP_EXTRACT, REGEXP_REPLACE (DuckDB's meanings), and JSON_VALUE and
//! `->>` over text holding JSON (parsed with serde_json per row).

use super::eval::with_operand;
use crate::data::Value;
use crate::plan::{CompiledFunction, JsonPath, JsonStep, ScalarExpr};
use regex::{Captures, Regex};

/// Evaluates `func(args)` over `row`: NULL when an argument is NULL.
pub fn eval_compiled(func: &CompiledFunction, args: &[ScalarExpr], row: &[Value]) -> Value {
    let Some(input) = args.first() else {
        return Value::Null;
    };
    with_operand(input, row, |v| match v {
        Value::Str(text) => apply(func, text, &args[1..], row).unwrap_or(Value::Null),
        _ => Value::Null,
    })
}

/// `func` over the text `s`; `rest` are the arguments after it.
fn apply(func: &CompiledFunction, s: &str, rest: &[ScalarExpr], row: &[Value]) -> Option<Value> {
    match func {
        CompiledFunction::RegexpLike(p) => Some(Value::Bool(p.0.is_match(s))),
        CompiledFunction::RegexpExtract(p) => {
            let group = match rest.first() {
                Some(g) => with_operand(g, row, Value::as_i64)?,
                None => 0,
            };
            regexp_extract(&p.0, s, usize::try_from(group).ok()?).map(Value::str)
        }
        CompiledFunction::RegexpReplace { pattern, all } => with_operand(rest.first()?, row, |t| {
            let template = t.as_str()?;
            Some(Value::str(&regexp_replace(&pattern.0, s, template, *all)))
        }),
        CompiledFunction::JsonValue(path) => json_at(s, path, false).map(|t| Value::Str(t.into())),
        CompiledFunction::JsonText(path) => json_at(s, path, true).map(|t| Value::Str(t.into())),
    }
}

/// Group `group` of the first match: '' when nothing matches or the group
/// took no part; `None` when there is no such group.
fn regexp_extract<'s>(pattern: &Regex, s: &'s str, group: usize) -> Option<&'s str> {
    if group >= pattern.captures_len() {
        return None;
    }
    let text = pattern
        .captures(s)
        .and_then(|c| c.get(group))
        .map_or("", |m| m.as_str());
    Some(text)
}

/// `s` with the first (or every) match replaced by `template`, where `\1`
/// is group 1, `\0` the match and `\\` a backslash (RE2's syntax, as DuckDB).
fn regexp_replace(pattern: &Regex, s: &str, template: &str, all: bool) -> String {
    let expand = |caps: &Captures<'_>| expand_template(template, caps);
    let replaced = match all {
        true => pattern.replace_all(s, expand),
        false => pattern.replace(s, expand),
    };
    replaced.into_owned()
}

fn expand_template(template: &str, caps: &Captures<'_>) -> String {
    let mut out = String::with_capacity(template.len());
    let mut chars = template.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some(d) if d.is_ascii_digit() => {
                let group = d as usize - '0' as usize;
                out.push_str(caps.get(group).map_or("", |m| m.as_str()));
            }
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

/// The value at `path` in the JSON text `s`: a string without its quotes,
/// a number or boolean as JSON writes it; an object or array as JSON text
/// when `containers`, else `None`. `None` for null, absent, or not JSON.
fn json_at(s: &str, path: &JsonPath, containers: bool) -> Option<String> {
    let doc: serde_json::Value = serde_json::from_str(s).ok()?;
    let mut at = &doc;
    for step in &path.steps {
        at = match step {
            JsonStep::Key(k) => at.as_object()?.get(k)?,
            JsonStep::Index(i) => at.as_array()?.get(*i)?,
        };
    }
    match at {
        serde_json::Value::Null => None,
        serde_json::Value::String(text) => Some(text.clone()),
        serde_json::Value::Object(_) | serde_json::Value::Array(_) if !containers => None,
        other => Some(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::test_plans::lit;
    use crate::plan::Pattern;

    fn run(func: CompiledFunction, args: Vec<Value>) -> Value {
        let args: Vec<ScalarExpr> = args.into_iter().map(lit).collect();
        eval_compiled(&func, &args, &[])
    }

    fn re(p: &str) -> Pattern {
        Pattern::compile(p, false).unwrap()
    }

    #[test]
    fn regexp_like_searches_anywhere_and_knows_case_folding() {
        let like = |p: Pattern, s: &str| run(CompiledFunction::RegexpLike(p), vec![Value::str(s)]);
        assert_eq!(like(re("b+"), "abbc"), Value::Bool(true));
        assert_eq!(like(re("^b"), "abbc"), Value::Bool(false));
        assert_eq!(
            like(Pattern::compile("ABC", true).unwrap(), "xabcx"),
            Value::Bool(true)
        );
        assert_eq!(
            run(CompiledFunction::RegexpLike(re("a")), vec![Value::Null]),
            Value::Null
        );
    }

    #[test]
    fn regexp_extract_gives_a_group_or_the_empty_string() {
        let extract = |s: &str, group: Option<i64>| {
            let mut args = vec![Value::str(s)];
            args.extend(group.map(Value::Int));
            run(CompiledFunction::RegexpExtract(re(r"(\d+)-(x)?")), args)
        };
        assert_eq!(extract("ab 12-34", None), Value::str("12-"));
        assert_eq!(extract("ab 12-34", Some(1)), Value::str("12"));
        assert_eq!(extract("ab 12-34", Some(2)), Value::str(""));
        assert_eq!(extract("no digits", Some(1)), Value::str(""));
        assert_eq!(extract("12-", Some(3)), Value::Null);
        assert_eq!(extract("12-", Some(-1)), Value::Null);
    }

    #[test]
    fn regexp_replace_first_or_all_with_backreferences() {
        let replace = |all: bool, s: &str, template: &str| {
            let func = CompiledFunction::RegexpReplace {
                pattern: re(r"(\w)(\d)"),
                all,
            };
            run(func, vec![Value::str(s), Value::str(template)])
        };
        assert_eq!(replace(false, "a1 b2", r"\2\1"), Value::str("1a b2"));
        assert_eq!(replace(true, "a1 b2", r"\2\1"), Value::str("1a 2b"));
        assert_eq!(replace(true, "a1", r"[\0] \\ $1"), Value::str(r"[a1] \ $1"));
        assert_eq!(replace(true, "none", "x"), Value::str("none"));
    }

    #[test]
    fn json_paths_give_scalars_as_text_and_null_otherwise() {
        let doc = r#"{"a":{"b":[10,{"c":"x"}],"t":true,"n":null,"f":1.5},"k y":"v"}"#;
        let value = |path: &str| {
            let p = JsonPath::parse(path).unwrap();
            run(CompiledFunction::JsonValue(p), vec![Value::str(doc)])
        };
        assert_eq!(value("$.a.b[0]"), Value::str("10"));
        assert_eq!(value("$.a.b[1].c"), Value::str("x"));
        assert_eq!(value("$.a.t"), Value::str("true"));
        assert_eq!(value("$.a.f"), Value::str("1.5"));
        assert_eq!(value(r#"$["k y"]"#), Value::str("v"));
        for absent_or_not_scalar in ["$.a.n", "$.a.zz", "$.a.b[5]", "$.a.b", "$.a", "$[0]"] {
            assert_eq!(
                value(absent_or_not_scalar),
                Value::Null,
                "{absent_or_not_scalar}"
            );
        }
        let arrow = |s: &str, key: &str| {
            let p = JsonPath::key_or_path(key).unwrap();
            run(CompiledFunction::JsonText(p), vec![Value::str(s)])
        };
        assert_eq!(arrow(doc, "k y"), Value::str("v"));
        assert_eq!(arrow(r#"{"a":[1,2]}"#, "a"), Value::str("[1,2]"));
        assert_eq!(arrow("not json", "a"), Value::Null);
        assert_eq!(
            eval_compiled(
                &CompiledFunction::JsonText(JsonPath::index(1)),
                &[lit(Value::str("[1,\"two\"]"))],
                &[]
            ),
            Value::str("two")
        );
    }
}
