//! The bound on how deeply a statement's expressions nest, checked on its
//! tokens before sqlparser builds a tree from them. Parsing, planning,
//! `explain`, evaluation and dropping a tree all recurse once per level, so
//! `1+1+...+1` with thousands of terms would overflow the stack; such a
//! statement is refused with an error that names the limit instead.
//!
//! The check is an upper bound computed without recursion: within one
//! comma-separated item of one bracket level, every operator or keyword
//! token may add a level, and each bracket (or CASE .. END) adds one more to
//! the deepest item inside it. Names and literals add nothing.

use super::tokens::{location_of, sql_error};
use crate::error::{Error, SqlLocation};
use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::{Token, TokenWithSpan};

/// The deepest expression accepted, in nested operators and brackets. Every
/// depth up to this plans, explains and evaluates on a 2 MiB thread stack.
pub const MAX_EXPRESSION_DEPTH: usize = 500;

/// sqlparser's own limit on its recursion: above what any statement within
/// [`MAX_EXPRESSION_DEPTH`] needs (each level may take one call per
/// precedence level), so that its vaguer errors never show first.
pub(super) const PARSER_RECURSION_LIMIT: usize = MAX_EXPRESSION_DEPTH * 20;

/// One open bracket level (the statement itself is the outermost).
#[derive(Debug, Default)]
struct Level {
    /// `CASE`: closed by `END`, with `WHEN`, `THEN` and `ELSE` separating items.
    case: bool,
    /// Operators and keywords in the current item.
    operators: usize,
    /// The deepest bracket level closed in the current item.
    deepest_inner: usize,
    /// The deepest item of this level so far.
    deepest_item: usize,
}

impl Level {
    fn item_depth(&self) -> usize {
        self.operators + self.deepest_inner
    }

    fn end_item(&mut self) {
        self.deepest_item = self.deepest_item.max(self.item_depth());
        self.operators = 0;
        self.deepest_inner = 0;
    }

    /// How deep this level nests, counting its own bracket.
    fn depth(mut self) -> usize {
        self.end_item();
        self.deepest_item + 1
    }
}

/// What a token does to the nesting.
enum Effect {
    Open { case: bool },
    Close { case: bool },
    Separate,
    Operator,
    Nothing,
}

fn effect(token: &Token, in_case: bool) -> Effect {
    match token {
        Token::LParen | Token::LBracket => Effect::Open { case: false },
        Token::RParen | Token::RBracket => Effect::Close { case: false },
        Token::Word(w) if w.quote_style.is_none() => match w.keyword {
            Keyword::CASE => Effect::Open { case: true },
            Keyword::END if in_case => Effect::Close { case: true },
            Keyword::WHEN | Keyword::THEN | Keyword::ELSE if in_case => Effect::Separate,
            Keyword::NoKeyword => Effect::Nothing,
            _ => Effect::Operator,
        },
        Token::Comma => Effect::Separate,
        _ if is_operand(token) => Effect::Nothing,
        _ => Effect::Operator,
    }
}

/// Names, literals, whitespace and the period of `t.col`: nothing that nests.
fn is_operand(token: &Token) -> bool {
    use Token::*;
    matches!(
        token,
        Word(_)
            | Number(..)
            | Char(_)
            | SingleQuotedString(_)
            | DoubleQuotedString(_)
            | TripleSingleQuotedString(_)
            | TripleDoubleQuotedString(_)
            | DollarQuotedString(_)
            | SingleQuotedByteStringLiteral(_)
            | DoubleQuotedByteStringLiteral(_)
            | NationalStringLiteral(_)
            | EscapedStringLiteral(_)
            | UnicodeStringLiteral(_)
            | HexStringLiteral(_)
            | Placeholder(_)
            | Whitespace(_)
            | Period
            | SemiColon
            | EOF
    )
}

/// Refuses a statement whose expressions may nest deeper than
/// [`MAX_EXPRESSION_DEPTH`], at the token where the bound is passed.
pub(super) fn check_nesting(tokens: &[TokenWithSpan]) -> Result<(), Error> {
    let mut levels = vec![Level::default()];
    let mut last = SqlLocation::default();
    for token in tokens {
        last = location_of(token);
        let in_case = levels.last().is_some_and(|l| l.case);
        match effect(&token.token, in_case) {
            Effect::Open { case } => levels.push(Level {
                case,
                ..Level::default()
            }),
            Effect::Close { case } if levels.len() > 1 && in_case == case => close(&mut levels),
            Effect::Close { .. } | Effect::Nothing => {}
            Effect::Separate => current(&mut levels).end_item(),
            Effect::Operator => current(&mut levels).operators += 1,
        }
        if nesting(&levels) > MAX_EXPRESSION_DEPTH {
            return Err(too_deep(last));
        }
    }
    // Brackets left open (a syntax error sqlparser reports) still count.
    while levels.len() > 1 {
        close(&mut levels);
    }
    match levels.pop().map(Level::depth) {
        Some(depth) if depth > MAX_EXPRESSION_DEPTH + 1 => Err(too_deep(last)),
        _ => Ok(()),
    }
}

fn current(levels: &mut [Level]) -> &mut Level {
    let last = levels.len() - 1;
    &mut levels[last]
}

/// Closes the innermost level into the item of the level around it.
fn close(levels: &mut Vec<Level>) {
    if let Some(inner) = levels.pop() {
        let outer = current(levels);
        outer.deepest_inner = outer.deepest_inner.max(inner.depth());
    }
}

/// A lower bound on the final estimate, known at this token: the open
/// brackets plus the current item of the innermost one.
fn nesting(levels: &[Level]) -> usize {
    let innermost = levels.last().map_or(0, Level::item_depth);
    levels.len() - 1 + innermost
}

fn too_deep(location: SqlLocation) -> Error {
    sql_error(
        format!(
            "expression nests too deeply (limit {MAX_EXPRESSION_DEPTH} nested operators \
             and brackets); split it into simpler expressions"
        ),
        location,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::tokens::tokenize;

    fn check(sql: &str) -> Result<(), Error> {
        check_nesting(&tokenize(sql).unwrap())
    }

    fn chain(op: &str, terms: usize) -> String {
        format!("SELECT {} FROM t", vec!["a"; terms].join(op))
    }

    #[test]
    fn long_chains_are_refused_at_the_limit() {
        for op in [" + ", " AND ", " OR ", " || "] {
            assert!(check(&chain(op, MAX_EXPRESSION_DEPTH - 10)).is_ok(), "{op}");
            let err = check(&chain(op, 5_000)).unwrap_err().to_string();
            assert!(
                err.contains("expression nests too deeply (limit 500"),
                "{err}"
            );
        }
    }

    #[test]
    fn brackets_count_and_add_up_across_levels() {
        let deep = "(".repeat(100_000);
        assert!(check(&format!("SELECT {deep}1 FROM t")).is_err());
        // 30 levels of 30 operators each: 900 deep on the innermost path.
        let level = vec!["a"; 31].join(" + ");
        let mut sql = "a".to_string();
        for _ in 0..30 {
            sql = format!("{level} + ({sql})");
        }
        assert!(check(&format!("SELECT {sql} FROM t")).is_err());
    }

    #[test]
    fn wide_lists_and_case_branches_are_not_deep() {
        let wide = vec!["a + 1"; 10_000].join(", ");
        assert!(check(&format!("SELECT {wide} FROM t WHERE a IN ({wide})")).is_ok());
        let branches = "WHEN a = 1 THEN 'x' ".repeat(5_000);
        assert!(check(&format!("SELECT CASE {branches} ELSE 'y' END FROM t")).is_ok());
    }
}
