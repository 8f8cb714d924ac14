//! Calico's label selectors (`nodeSelector`, `peerSelector`), as
//! libcalico-go's tokenizer and parser read them.
//!
//! # Grammar
//!
//! ```text
//! selector   = blank | or
//! or         = and { "||" and }
//! and        = operation { "&&" operation }
//! operation  = { "!" } ( "has(" label ")" | "all()" | "global()"
//!                       | label "==" string | label "!=" string
//!                       | label "contains" string
//!                       | label "starts" "with" string | label "ends" "with" string
//!                       | label "in" set | label "not" "in" set
//!                       | "(" or ")" )
//! set        = "{" [ string { "," string } [ "," ] ] "}"
//! label      = 1*( ALPHA / DIGIT / "_" / "." / "/" / "-" )
//! string     = "'" *(not "'") "'" | DQUOTE *(not DQUOTE) DQUOTE
//! ```
//!
//! Blanks are spaces and tabs. `||` binds looser than `&&`; a run of `!`
//! negates once per `!`. An empty selector selects everything, like
//! `all()`. `global()` also matches everything (it restricts namespaced
//! resources, and nodes have no namespace). Strings have no escapes.
//!
//! # Semantics
//!
//! `k == 'v'` needs the label and the value; `k != 'v'` holds when the
//! label is missing or differs; `k in {..}` needs the label with one of the
//! values, `k not in {..}` holds when the label is missing or has none of
//! them; `contains`, `starts with` and `ends with` need the label.
//!
//! ```
//! use std::collections::BTreeMap;
//! use calico_bgpd::calico::selector::Selector;
//!
//! let s: Selector = "has(route-reflector) && zone in {'a', 'b'}".parse()?;
//! let labels = BTreeMap::from([
//!     ("route-reflector".to_string(), "true".to_string()),
//!     ("zone".to_string(), "b".to_string()),
//! ]);
//! assert!(s.matches(&labels));
//! assert!(!"zone not in {'b'}".parse::<Selector>()?.matches(&labels));
//! assert_eq!(s.to_string(), r#"(has(route-reflector) && zone in {"a", "b"})"#);
//! # Ok::<(), calico_bgpd::calico::selector::SelectorError>(())
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A parsed selector. It keeps the text it was parsed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selector {
    text: String,
    root: Expr,
}

/// A selector expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// `all()` (and the empty selector).
    All,
    /// `global()`.
    Global,
    /// `has(k)`.
    Has(String),
    /// `k == "v"`.
    Eq(String, String),
    /// `k != "v"`.
    Ne(String, String),
    /// `k contains "v"`.
    Contains(String, String),
    /// `k starts with "v"`.
    StartsWith(String, String),
    /// `k ends with "v"`.
    EndsWith(String, String),
    /// `k in {..}`.
    In(String, BTreeSet<String>),
    /// `k not in {..}`.
    NotIn(String, BTreeSet<String>),
    /// `!e`.
    Not(Box<Expr>),
    /// `a && b && ..`.
    And(Vec<Expr>),
    /// `a || b || ..`.
    Or(Vec<Expr>),
}

/// Why a selector does not parse, and where (a byte offset in the text).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid selector {text:?} at offset {offset}: {kind}")]
pub struct SelectorError {
    /// The selector text.
    pub text: String,
    /// Byte offset of the problem.
    pub offset: usize,
    /// What is wrong.
    pub kind: SelectorErrorKind,
}

/// What is wrong with a selector.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectorErrorKind {
    /// A quote without its closing quote.
    #[error("unterminated string")]
    UnterminatedString,
    /// `=` not followed by `=`.
    #[error("expected ==")]
    ExpectedEq,
    /// `&` not followed by `&`.
    #[error("expected &&")]
    ExpectedAnd,
    /// `|` not followed by `|`.
    #[error("expected ||")]
    ExpectedOr,
    /// A label followed by something that is no operator.
    #[error("expected an operator after label {0:?}")]
    ExpectedOperator(String),
    /// `has(` without a label.
    #[error("no label name in has( expression")]
    NoLabelInHas,
    /// `has(k`, `all(` or `global(` without `)`.
    #[error("no closing ')' after {0}(")]
    NoClosingParen(&'static str),
    /// A character that starts no token.
    #[error("unexpected character {0:?}")]
    UnexpectedChar(char),
    /// The text ends where an operation was expected.
    #[error("unexpected end of selector")]
    UnexpectedEnd,
    /// A comparison without a quoted string.
    #[error("expected a quoted string")]
    ExpectedString,
    /// `in` / `not in` without `{`.
    #[error("expected a set literal {{...}}")]
    ExpectedSet,
    /// A set without `}`.
    #[error("expected }}")]
    ExpectedRBrace,
    /// `(` without `)`.
    #[error("expected )")]
    ExpectedRParen,
    /// A token where an operation should start.
    #[error("unexpected {0}")]
    UnexpectedToken(String),
    /// Tokens after a complete selector.
    #[error("unexpected {0} after the end of the selector")]
    TrailingContent(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Label(String),
    Str(String),
    LBrace,
    RBrace,
    Comma,
    Eq,
    Ne,
    In,
    NotIn,
    Not,
    Contains,
    StartsWith,
    EndsWith,
    All,
    Global,
    Has(String),
    LParen,
    RParen,
    And,
    Or,
    Eof,
}

impl fmt::Display for Tok {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tok::Label(l) => write!(f, "label {l:?}"),
            Tok::Str(s) => write!(f, "string {s:?}"),
            Tok::LBrace => f.write_str("'{'"),
            Tok::RBrace => f.write_str("'}'"),
            Tok::Comma => f.write_str("','"),
            Tok::Eq => f.write_str("'=='"),
            Tok::Ne => f.write_str("'!='"),
            Tok::In => f.write_str("'in'"),
            Tok::NotIn => f.write_str("'not in'"),
            Tok::Not => f.write_str("'!'"),
            Tok::Contains => f.write_str("'contains'"),
            Tok::StartsWith => f.write_str("'starts with'"),
            Tok::EndsWith => f.write_str("'ends with'"),
            Tok::All => f.write_str("'all()'"),
            Tok::Global => f.write_str("'global()'"),
            Tok::Has(l) => write!(f, "'has({l})'"),
            Tok::LParen => f.write_str("'('"),
            Tok::RParen => f.write_str("')'"),
            Tok::And => f.write_str("'&&'"),
            Tok::Or => f.write_str("'||'"),
            Tok::Eof => f.write_str("end of selector"),
        }
    }
}

fn is_label_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'/' | b'-')
}

fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// Splits the text into tokens with their byte offsets; the last is
/// [`Tok::Eof`].
fn tokenize(text: &str) -> Result<Vec<(Tok, usize)>, (SelectorErrorKind, usize)> {
    let bytes = text.as_bytes();
    let mut out: Vec<(Tok, usize)> = Vec::new();
    let mut i = 0;
    let skip_blanks = |mut i: usize| {
        while bytes.get(i).copied().is_some_and(is_blank) {
            i += 1;
        }
        i
    };
    let label_end = |mut i: usize| {
        while bytes.get(i).copied().is_some_and(is_label_byte) {
            i += 1;
        }
        i
    };
    loop {
        i = skip_blanks(i);
        let Some(&b) = bytes.get(i) else {
            out.push((Tok::Eof, i));
            return Ok(out);
        };
        let start = i;
        let rest = text.get(i..).unwrap_or("");
        let after_label = matches!(out.last(), Some((Tok::Label(_), _)));
        match b {
            b'(' => {
                out.push((Tok::LParen, start));
                i += 1;
            }
            b')' => {
                out.push((Tok::RParen, start));
                i += 1;
            }
            b'{' => {
                out.push((Tok::LBrace, start));
                i += 1;
            }
            b'}' => {
                out.push((Tok::RBrace, start));
                i += 1;
            }
            b',' => {
                out.push((Tok::Comma, start));
                i += 1;
            }
            b'"' | b'\'' => {
                let body = text.get(i + 1..).unwrap_or("");
                let Some(len) = body.find(b as char) else {
                    return Err((SelectorErrorKind::UnterminatedString, start));
                };
                out.push((Tok::Str(body.get(..len).unwrap_or("").to_string()), start));
                i += 1 + len + 1;
            }
            b'=' => {
                if bytes.get(i + 1) == Some(&b'=') {
                    out.push((Tok::Eq, start));
                    i += 2;
                } else {
                    return Err((SelectorErrorKind::ExpectedEq, start));
                }
            }
            b'!' => {
                if bytes.get(i + 1) == Some(&b'=') {
                    out.push((Tok::Ne, start));
                    i += 2;
                } else {
                    out.push((Tok::Not, start));
                    i += 1;
                }
            }
            b'&' => {
                if bytes.get(i + 1) == Some(&b'&') {
                    out.push((Tok::And, start));
                    i += 2;
                } else {
                    return Err((SelectorErrorKind::ExpectedAnd, start));
                }
            }
            b'|' => {
                if bytes.get(i + 1) == Some(&b'|') {
                    out.push((Tok::Or, start));
                    i += 2;
                } else {
                    return Err((SelectorErrorKind::ExpectedOr, start));
                }
            }
            _ if after_label => {
                let label = match out.last() {
                    Some((Tok::Label(l), _)) => l.clone(),
                    _ => String::new(),
                };
                let expect_op = || (SelectorErrorKind::ExpectedOperator(label.clone()), start);
                // Two-word operators: the second word after blanks.
                let second = |word: &str, second: &str| -> Option<usize> {
                    let j = skip_blanks(i + word.len());
                    text.get(j..)?
                        .starts_with(second)
                        .then_some(j + second.len())
                };
                if rest.starts_with("contains") {
                    out.push((Tok::Contains, start));
                    i += "contains".len();
                } else if rest.starts_with("starts") {
                    i = second("starts", "with").ok_or_else(expect_op)?;
                    out.push((Tok::StartsWith, start));
                } else if rest.starts_with("ends") {
                    i = second("ends", "with").ok_or_else(expect_op)?;
                    out.push((Tok::EndsWith, start));
                } else if rest.starts_with("not") {
                    i = second("not", "in").ok_or_else(expect_op)?;
                    out.push((Tok::NotIn, start));
                } else if rest.starts_with("in") {
                    out.push((Tok::In, start));
                    i += 2;
                } else {
                    return Err(expect_op());
                }
            }
            _ if rest.starts_with("has(") => {
                let j = skip_blanks(i + 4);
                let end = label_end(j);
                if end == j {
                    return Err((SelectorErrorKind::NoLabelInHas, start));
                }
                let label = text.get(j..end).unwrap_or("").to_string();
                let k = skip_blanks(end);
                if bytes.get(k) != Some(&b')') {
                    return Err((SelectorErrorKind::NoClosingParen("has"), start));
                }
                out.push((Tok::Has(label), start));
                i = k + 1;
            }
            _ if rest.starts_with("all(") || rest.starts_with("global(") => {
                let (word, tok) = if rest.starts_with("all(") {
                    ("all", Tok::All)
                } else {
                    ("global", Tok::Global)
                };
                let k = skip_blanks(i + word.len() + 1);
                if bytes.get(k) != Some(&b')') {
                    return Err((SelectorErrorKind::NoClosingParen(word), start));
                }
                out.push((tok, start));
                i = k + 1;
            }
            _ if is_label_byte(b) => {
                let end = label_end(i);
                out.push((
                    Tok::Label(text.get(i..end).unwrap_or("").to_string()),
                    start,
                ));
                i = end;
            }
            _ => {
                let c = rest.chars().next().unwrap_or('?');
                return Err((SelectorErrorKind::UnexpectedChar(c), start));
            }
        }
    }
}

struct Parser<'a> {
    toks: &'a [(Tok, usize)],
    pos: usize,
}

type PResult<T> = Result<T, (SelectorErrorKind, usize)>;

impl Parser<'_> {
    fn peek(&self) -> &(Tok, usize) {
        const EOF: (Tok, usize) = (Tok::Eof, 0);
        self.toks
            .get(self.pos)
            .or_else(|| self.toks.last())
            .unwrap_or(&EOF)
    }

    fn next(&mut self) -> (Tok, usize) {
        let t = self.peek().clone();
        if self.pos < self.toks.len() {
            self.pos += 1;
        }
        t
    }

    fn or(&mut self) -> PResult<Expr> {
        let mut items = vec![self.and()?];
        while self.peek().0 == Tok::Or {
            self.next();
            items.push(self.and()?);
        }
        Ok(if items.len() == 1 {
            items.pop().unwrap_or(Expr::All)
        } else {
            Expr::Or(items)
        })
    }

    fn and(&mut self) -> PResult<Expr> {
        let mut items = vec![self.operation()?];
        while self.peek().0 == Tok::And {
            self.next();
            items.push(self.operation()?);
        }
        Ok(if items.len() == 1 {
            items.pop().unwrap_or(Expr::All)
        } else {
            Expr::And(items)
        })
    }

    fn string(&mut self) -> PResult<String> {
        match self.next() {
            (Tok::Str(s), _) => Ok(s),
            (Tok::Eof, at) => Err((SelectorErrorKind::UnexpectedEnd, at)),
            (_, at) => Err((SelectorErrorKind::ExpectedString, at)),
        }
    }

    fn set(&mut self) -> PResult<BTreeSet<String>> {
        match self.next() {
            (Tok::LBrace, _) => {}
            (Tok::Eof, at) => return Err((SelectorErrorKind::UnexpectedEnd, at)),
            (_, at) => return Err((SelectorErrorKind::ExpectedSet, at)),
        }
        let mut values = BTreeSet::new();
        while let (Tok::Str(s), _) = self.peek().clone() {
            self.next();
            values.insert(s);
            if self.peek().0 == Tok::Comma {
                self.next();
            } else {
                break;
            }
        }
        match self.next() {
            (Tok::RBrace, _) => Ok(values),
            (_, at) => Err((SelectorErrorKind::ExpectedRBrace, at)),
        }
    }

    fn operation(&mut self) -> PResult<Expr> {
        let mut negated = false;
        while self.peek().0 == Tok::Not {
            self.next();
            negated = !negated;
        }
        let e = match self.next() {
            (Tok::Has(l), _) => Expr::Has(l),
            (Tok::All, _) => Expr::All,
            (Tok::Global, _) => Expr::Global,
            (Tok::Label(l), _) => match self.next() {
                (Tok::Eq, _) => Expr::Eq(l, self.string()?),
                (Tok::Ne, _) => Expr::Ne(l, self.string()?),
                (Tok::Contains, _) => Expr::Contains(l, self.string()?),
                (Tok::StartsWith, _) => Expr::StartsWith(l, self.string()?),
                (Tok::EndsWith, _) => Expr::EndsWith(l, self.string()?),
                (Tok::In, _) => Expr::In(l, self.set()?),
                (Tok::NotIn, _) => Expr::NotIn(l, self.set()?),
                (Tok::Eof, at) => return Err((SelectorErrorKind::UnexpectedEnd, at)),
                (_, at) => return Err((SelectorErrorKind::ExpectedOperator(l), at)),
            },
            (Tok::LParen, _) => {
                let inner = self.or()?;
                match self.next() {
                    (Tok::RParen, _) => inner,
                    (_, at) => return Err((SelectorErrorKind::ExpectedRParen, at)),
                }
            }
            (Tok::Eof, at) => return Err((SelectorErrorKind::UnexpectedEnd, at)),
            (t, at) => return Err((SelectorErrorKind::UnexpectedToken(t.to_string()), at)),
        };
        Ok(if negated { Expr::Not(Box::new(e)) } else { e })
    }
}

impl Selector {
    /// Parses a selector.
    pub fn parse(text: &str) -> Result<Selector, SelectorError> {
        let err = |(kind, offset)| SelectorError {
            text: text.to_string(),
            offset,
            kind,
        };
        let toks = tokenize(text).map_err(err)?;
        let root = if matches!(toks.first(), Some((Tok::Eof, _)) | None) {
            Expr::All
        } else {
            let mut p = Parser {
                toks: &toks,
                pos: 0,
            };
            let root = p.or().map_err(err)?;
            let (t, at) = p.next();
            if t != Tok::Eof {
                return Err(err((SelectorErrorKind::TrailingContent(t.to_string()), at)));
            }
            root
        };
        Ok(Selector {
            text: text.to_string(),
            root,
        })
    }

    /// The selector that matches everything.
    pub fn all() -> Selector {
        Selector {
            text: "all()".to_string(),
            root: Expr::All,
        }
    }

    /// The text it was parsed from.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The expression.
    pub fn expr(&self) -> &Expr {
        &self.root
    }

    /// Whether a set of labels matches.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.root.matches(labels)
    }
}

impl Expr {
    /// Whether a set of labels matches.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        let get = |k: &String| labels.get(k);
        match self {
            Expr::All | Expr::Global => true,
            Expr::Has(k) => labels.contains_key(k),
            Expr::Eq(k, v) => get(k) == Some(v),
            Expr::Ne(k, v) => get(k) != Some(v),
            Expr::Contains(k, v) => get(k).is_some_and(|x| x.contains(v.as_str())),
            Expr::StartsWith(k, v) => get(k).is_some_and(|x| x.starts_with(v.as_str())),
            Expr::EndsWith(k, v) => get(k).is_some_and(|x| x.ends_with(v.as_str())),
            Expr::In(k, set) => get(k).is_some_and(|x| set.contains(x)),
            Expr::NotIn(k, set) => !get(k).is_some_and(|x| set.contains(x)),
            Expr::Not(e) => !e.matches(labels),
            Expr::And(v) => v.iter().all(|e| e.matches(labels)),
            Expr::Or(v) => v.iter().any(|e| e.matches(labels)),
        }
    }
}

fn quote(s: &str) -> String {
    if s.contains('"') {
        format!("'{s}'")
    } else {
        format!("\"{s}\"")
    }
}

impl fmt::Display for Expr {
    /// The canonical form (Calico's `String()` style: double quotes,
    /// parenthesised `&&` and `||` groups).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let set = |s: &BTreeSet<String>| s.iter().map(|v| quote(v)).collect::<Vec<_>>().join(", ");
        match self {
            Expr::All => f.write_str("all()"),
            Expr::Global => f.write_str("global()"),
            Expr::Has(k) => write!(f, "has({k})"),
            Expr::Eq(k, v) => write!(f, "{k} == {}", quote(v)),
            Expr::Ne(k, v) => write!(f, "{k} != {}", quote(v)),
            Expr::Contains(k, v) => write!(f, "{k} contains {}", quote(v)),
            Expr::StartsWith(k, v) => write!(f, "{k} starts with {}", quote(v)),
            Expr::EndsWith(k, v) => write!(f, "{k} ends with {}", quote(v)),
            Expr::In(k, s) => write!(f, "{k} in {{{}}}", set(s)),
            Expr::NotIn(k, s) => write!(f, "{k} not in {{{}}}", set(s)),
            Expr::Not(e) => write!(f, "!{e}"),
            Expr::And(v) | Expr::Or(v) => {
                let sep = if matches!(self, Expr::And(_)) {
                    " && "
                } else {
                    " || "
                };
                let parts: Vec<String> = v.iter().map(ToString::to_string).collect();
                write!(f, "({})", parts.join(sep))
            }
        }
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.root.fmt(f)
    }
}

impl FromStr for Selector {
    type Err = SelectorError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Selector::parse(s)
    }
}

impl Serialize for Selector {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for Selector {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Selector::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn sel(s: &str) -> Selector {
        match Selector::parse(s) {
            Ok(s) => s,
            Err(e) => panic!("{e}"),
        }
    }

    fn kind(s: &str) -> SelectorErrorKind {
        match Selector::parse(s) {
            Ok(_) => panic!("{s:?} parsed"),
            Err(e) => e.kind,
        }
    }

    #[test]
    fn every_operator() {
        let l = labels(&[("a", "1"), ("zone", "us-east-1"), ("k8s/role", "rr")]);
        let cases = [
            ("", true),
            ("   ", true),
            ("all()", true),
            ("all( )", true),
            ("global()", true),
            ("has(a)", true),
            ("has( a )", true),
            ("has(b)", false),
            ("!has(b)", true),
            ("!!has(b)", false),
            ("a == '1'", true),
            ("a == \"1\"", true),
            ("a=='2'", false),
            ("b == ''", false),
            ("a != '2'", true),
            ("a != '1'", false),
            ("b != '1'", true),
            ("a in {'1', '2'}", true),
            ("a in {'2'}", false),
            ("a in {}", false),
            ("a in {'1',}", true),
            ("b in {'1'}", false),
            ("a not in {'2'}", true),
            ("a not  in {'1'}", false),
            ("b not in {'1'}", true),
            ("zone contains 'east'", true),
            ("zone starts with 'us-'", true),
            ("zone starts  with 'eu-'", false),
            ("zone ends with '-1'", true),
            ("b contains ''", false),
            ("k8s/role == 'rr'", true),
            ("a == '1' && has(zone)", true),
            ("a == '1' && has(b)", false),
            ("has(b) || a == '1'", true),
            ("has(b) || has(c) || has(d)", false),
            ("!(has(b) || has(c))", true),
            ("has(b) || has(a) && has(c)", false),
            ("(has(b) || has(a)) && has(zone)", true),
            ("\thas(a)\t&&\tall()", true),
        ];
        for (s, want) in cases {
            assert_eq!(sel(s).matches(&l), want, "{s:?}");
        }
    }

    #[test]
    fn precedence_and_canonical_form() {
        assert_eq!(
            sel("has(a) || has(b) && !c == 'x'").to_string(),
            "(has(a) || (has(b) && !c == \"x\"))"
        );
        assert_eq!(
            sel("a in {'y', 'x', 'x'}").to_string(),
            "a in {\"x\", \"y\"}"
        );
        assert_eq!(sel("a == 'say \"hi\"'").to_string(), "a == 'say \"hi\"'");
        assert_eq!(sel("").to_string(), "all()");
        assert_eq!(sel(" has(a) ").as_str(), " has(a) ");
    }

    #[test]
    fn errors() {
        use SelectorErrorKind as K;
        assert_eq!(kind("a == 'x"), K::UnterminatedString);
        assert_eq!(kind("a = 'x'"), K::ExpectedEq);
        assert_eq!(kind("has(a) & has(b)"), K::ExpectedAnd);
        assert_eq!(kind("has(a) | has(b)"), K::ExpectedOr);
        assert_eq!(kind("a is 'x'"), K::ExpectedOperator("a".into()));
        assert_eq!(kind("a not 'x'"), K::ExpectedOperator("a".into()));
        assert_eq!(kind("a starts 'x'"), K::ExpectedOperator("a".into()));
        assert_eq!(kind("has()"), K::NoLabelInHas);
        assert_eq!(kind("has(a"), K::NoClosingParen("has"));
        assert_eq!(kind("all(x)"), K::NoClosingParen("all"));
        assert_eq!(kind("a == 'x' && #"), K::UnexpectedChar('#'));
        assert_eq!(kind("a =="), K::UnexpectedEnd);
        assert_eq!(kind("a"), K::UnexpectedEnd);
        assert_eq!(kind("has(a) &&"), K::UnexpectedEnd);
        assert_eq!(kind("a == b"), K::ExpectedString);
        assert_eq!(kind("a in 'x'"), K::ExpectedSet);
        assert_eq!(kind("a in {'x' 'y'}"), K::ExpectedRBrace);
        assert_eq!(kind("(has(a)"), K::ExpectedRParen);
        assert_eq!(kind("&& has(a)"), K::UnexpectedToken("'&&'".into()));
        assert_eq!(kind("has(a) has(b)"), K::TrailingContent("'has(b)'".into()));
        let e = match Selector::parse("has(a) && b = 'x'") {
            Err(e) => e,
            Ok(_) => panic!("parsed"),
        };
        assert_eq!(e.offset, 12);
        assert_eq!(
            e.to_string(),
            "invalid selector \"has(a) && b = 'x'\" at offset 12: expected =="
        );
    }

    #[test]
    fn serde_keeps_the_text() {
        let s: Selector = match serde_norway::from_str("\"has(x)\"") {
            Ok(s) => s,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(s.as_str(), "has(x)");
        assert!(serde_norway::from_str::<Selector>("\"has(\"").is_err());
    }
}
