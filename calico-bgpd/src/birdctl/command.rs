//! The commands the control socket understands, parsed from one request
//! line. Like BIRD's server, it takes full keywords only (`birdc` expands
//! abbreviations on the client side), case-sensitive.

use std::net::IpAddr;

use ipnet::IpNet;

/// Which protocols a `show protocols` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ProtoSelector {
    /// Every protocol.
    All,
    /// The protocol with this name (a bare symbol: an unknown one is an
    /// error, `9002`).
    Name(String),
    /// Protocols whose name matches this pattern (`"Mesh*"`: `*` and `?`;
    /// none matching is `8003 No protocols match`).
    Pattern(String),
}

/// A `show route` request.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct RouteQuery {
    /// `<prefix>`: that network only.
    pub(crate) prefix: Option<IpNet>,
    /// `for <address|prefix>`: the most specific network covering it.
    pub(crate) for_addr: Option<IpNet>,
    /// `protocol <name>`: routes from that protocol only.
    pub(crate) protocol: Option<String>,
    /// `primary`: best routes only.
    pub(crate) primary: bool,
    /// `count`: the count line only.
    pub(crate) count: bool,
    /// `stats`: the routes and the count line.
    pub(crate) stats: bool,
}

/// One request (every one a `show`, as BIRD's own names say).
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(clippy::enum_variant_names)]
pub(crate) enum Command {
    /// `show status`.
    ShowStatus,
    /// `show protocols [all] [<name> | "<pattern>"]`.
    ShowProtocols {
        /// `all`: the details of each.
        all: bool,
        /// Which.
        which: ProtoSelector,
    },
    /// `show route [<prefix>] [for <addr>] [protocol <p>] [primary] [count | stats]`.
    ShowRoute(RouteQuery),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Word(String),
    Quoted(String),
}

fn tokens(line: &str) -> Option<Vec<Token>> {
    let mut out = Vec::new();
    let mut rest = line.trim_start();
    while !rest.is_empty() {
        if let Some(q) = rest.strip_prefix('"') {
            let end = q.find('"')?;
            out.push(Token::Quoted(q.get(..end)?.to_string()));
            rest = q.get(end + 1..)?;
            // A quoted string must end the token.
            if !rest.is_empty() && !rest.starts_with(char::is_whitespace) {
                return None;
            }
        } else {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            out.push(Token::Word(rest.get(..end)?.to_string()));
            rest = rest.get(end..)?;
        }
        rest = rest.trim_start();
    }
    Some(out)
}

/// Whether `s` is a BIRD symbol: a letter or `_`, then letters, digits and
/// `_`.
pub(crate) fn is_symbol(s: &str) -> bool {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' => {}
        _ => return false,
    }
    chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn word(t: Option<&Token>) -> Option<&str> {
    match t {
        Some(Token::Word(w)) => Some(w),
        _ => None,
    }
}

/// An address or a prefix: `10.0.0.1` is `10.0.0.1/32`.
fn net(s: &str) -> Option<IpNet> {
    if let Ok(n) = s.parse::<IpNet>() {
        return Some(n);
    }
    s.parse::<IpAddr>().ok().map(IpNet::from)
}

/// Parses one request line (without its newline); `None` is a syntax error.
pub(crate) fn parse(line: &str) -> Option<Command> {
    let toks = tokens(line)?;
    let mut it = toks.iter();
    if word(it.next())? != "show" {
        return None;
    }
    match word(it.next())? {
        "status" => it.next().is_none().then_some(Command::ShowStatus),
        "protocols" => {
            let mut all = false;
            let mut next = it.next();
            if word(next) == Some("all") {
                all = true;
                next = it.next();
            }
            let which = match next {
                None => ProtoSelector::All,
                Some(Token::Quoted(p)) => ProtoSelector::Pattern(p.clone()),
                Some(Token::Word(w)) if is_symbol(w) && w != "all" => {
                    ProtoSelector::Name(w.clone())
                }
                Some(Token::Word(_)) => return None,
            };
            it.next()
                .is_none()
                .then_some(Command::ShowProtocols { all, which })
        }
        "route" => {
            let mut q = RouteQuery::default();
            while let Some(t) = it.next() {
                match word(Some(t))? {
                    "primary" if !q.primary => q.primary = true,
                    "count" if !q.count && !q.stats => q.count = true,
                    "stats" if !q.count && !q.stats => q.stats = true,
                    "for" if q.for_addr.is_none() && q.prefix.is_none() => {
                        q.for_addr = Some(net(word(it.next())?)?);
                    }
                    "protocol" if q.protocol.is_none() => {
                        let p = word(it.next())?;
                        if !is_symbol(p) {
                            return None;
                        }
                        q.protocol = Some(p.to_string());
                    }
                    w if q.prefix.is_none() && q.for_addr.is_none() => {
                        q.prefix = Some(net(w)?);
                    }
                    _ => return None,
                }
            }
            Some(Command::ShowRoute(q))
        }
        _ => None,
    }
}

/// Shell-style matching of BIRD protocol patterns: `*` any run, `?` one
/// character.
pub(crate) fn pattern_match(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    // Iterative matcher with one backtrack point for the last `*`.
    let (mut pi, mut ni) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        match p.get(pi) {
            Some(&'*') => {
                star = Some((pi, ni));
                pi += 1;
            }
            Some(&c) if c == '?' || Some(&c) == n.get(ni) => {
                pi += 1;
                ni += 1;
            }
            _ => match star {
                Some((sp, sn)) => {
                    pi = sp + 1;
                    ni = sn + 1;
                    star = Some((sp, sn + 1));
                }
                None => return false,
            },
        }
    }
    p.get(pi..)
        .is_some_and(|rest| rest.iter().all(|&c| c == '*'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_commands_calico_sends() {
        assert_eq!(parse("show status"), Some(Command::ShowStatus));
        assert_eq!(
            parse("show protocols"),
            Some(Command::ShowProtocols {
                all: false,
                which: ProtoSelector::All
            })
        );
        assert_eq!(
            parse("show protocols all Mesh_172_17_8_102"),
            Some(Command::ShowProtocols {
                all: true,
                which: ProtoSelector::Name("Mesh_172_17_8_102".into())
            })
        );
        assert_eq!(
            parse("  show   protocols  \"Mesh*\" "),
            Some(Command::ShowProtocols {
                all: false,
                which: ProtoSelector::Pattern("Mesh*".into())
            })
        );
        assert_eq!(
            parse("show protocols all"),
            Some(Command::ShowProtocols {
                all: true,
                which: ProtoSelector::All
            })
        );
        assert_eq!(
            parse("show route"),
            Some(Command::ShowRoute(RouteQuery::default()))
        );
        assert_eq!(
            parse("show route count"),
            Some(Command::ShowRoute(RouteQuery {
                count: true,
                ..Default::default()
            }))
        );
        assert_eq!(
            parse("show route for 10.0.0.1 protocol Mesh_10_0_0_2 primary stats"),
            Some(Command::ShowRoute(RouteQuery {
                for_addr: Some("10.0.0.1/32".parse().unwrap()),
                protocol: Some("Mesh_10_0_0_2".into()),
                primary: true,
                stats: true,
                ..Default::default()
            }))
        );
        assert_eq!(
            parse("show route 2001:db8::/32"),
            Some(Command::ShowRoute(RouteQuery {
                prefix: Some("2001:db8::/32".parse().unwrap()),
                ..Default::default()
            }))
        );
    }

    #[test]
    fn rejects_the_rest() {
        for bad in [
            "",
            "   ",
            "show",
            "SHOW status",
            "sh st",
            "show status now",
            "show protocols all all",
            "show protocols 10.0.0.1",
            "show protocols \"Mesh*",
            "show protocols \"a\"b",
            "show protocols a b",
            "show route count stats",
            "show route count count",
            "show route bogus",
            "show route for",
            "show route protocol",
            "show route protocol \"x\"",
            "show route 10.0.0.0/8 10.0.0.0/8",
            "show interfaces",
            "configure",
            "down",
        ] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn symbols() {
        assert!(is_symbol("Mesh_10_0_0_2"));
        assert!(is_symbol("_x1"));
        assert!(!is_symbol("1abc"));
        assert!(!is_symbol("a-b"));
        assert!(!is_symbol(""));
    }

    #[test]
    fn patterns() {
        assert!(pattern_match("Mesh*", "Mesh_10_0_0_2"));
        assert!(pattern_match("*", ""));
        assert!(pattern_match("*_2", "Mesh_10_0_0_2"));
        assert!(pattern_match("M?sh_*_0_*", "Mesh_10_0_0_2"));
        assert!(pattern_match("a*b*c", "aXXbYYbc"));
        assert!(!pattern_match("Mesh*", "Node_10_0_0_2"));
        assert!(!pattern_match("Mesh", "Mesh_1"));
        assert!(!pattern_match("?", ""));
        assert!(!pattern_match("a*b", "aXXc"));
    }
}
