//! The results as Markdown: one table per run (case x target), the verdict
//! against the issue's target (converge faster than every other target of
//! the same run, peak memory no higher than BIRD's), sanity notes, and the
//! section of `benches/README.md` they go into.

use std::fmt::Write as _;
use std::path::Path;

use super::case::Case;
use super::run::{Figures, Measurement};
use super::target::TargetKind;

/// The README heading the runs are written under.
pub const SECTION: &str = "## Macro benchmark (bgperf-style)";

/// The results table.
pub fn table(ms: &[Measurement]) -> String {
    let mut t = String::from(
        "| case | target | converged s | target CPU s | peak RSS MiB | senders CPU s | monitor CPU s | load |\n\
         |---|---|---:|---:|---:|---:|---:|---:|\n",
    );
    for m in ms {
        match &m.result {
            Ok(f) => {
                let _ = writeln!(
                    t,
                    "| {} | {} | {:.3} | {:.2} | {:.0} | {:.3} | {:.3} | {:.2} |",
                    m.case,
                    m.target,
                    f.convergence,
                    f.target_cpu,
                    f.target_rss_mib,
                    f.senders_cpu,
                    f.monitor_cpu,
                    m.load
                );
            }
            Err(e) => {
                let first = e.lines().next().unwrap_or("failed");
                let short: String = first.chars().take(120).collect();
                let _ = writeln!(
                    t,
                    "| {} | {} | failed: {} | | | | | {:.2} |",
                    m.case,
                    m.target,
                    short.replace('|', "/"),
                    m.load
                );
            }
        }
    }
    t
}

fn find<'a>(ms: &'a [Measurement], case: &Case, t: TargetKind) -> Option<&'a Figures> {
    ms.iter()
        .find(|m| m.case == *case && m.target == t)
        .and_then(|m| m.result.as_ref().ok())
}

/// Per case: our convergence against the fastest other target's, and our
/// peak memory against BIRD's. Empty when ours was not measured.
pub fn verdict(ms: &[Measurement]) -> String {
    let mut cases: Vec<Case> = Vec::new();
    for m in ms {
        if !cases.contains(&m.case) {
            cases.push(m.case);
        }
    }
    let mut out = String::new();
    for c in &cases {
        let Some(ours) = find(ms, c, TargetKind::Ours) else {
            if ms
                .iter()
                .any(|m| m.case == *c && m.target == TargetKind::Ours)
            {
                let _ = writeln!(out, "- {c}: calico-bgpd failed");
            }
            continue;
        };
        let others: Vec<(TargetKind, f64)> = TargetKind::ALL
            .iter()
            .skip(1)
            .filter_map(|t| find(ms, c, *t).map(|f| (*t, f.convergence)))
            .collect();
        let mut line = format!("- {c}: calico-bgpd {:.3} s", ours.convergence);
        if let Some((t, best)) = others.iter().copied().min_by(|a, b| a.1.total_cmp(&b.1)) {
            let word = if ours.convergence < best {
                "faster"
            } else {
                "SLOWER"
            };
            let _ = write!(
                line,
                ", fastest other {t} {best:.3} s: {word} ({:.2}x)",
                best / ours.convergence
            );
        }
        if let Some(bird) = find(ms, c, TargetKind::Bird) {
            let word = if ours.target_rss_mib <= bird.target_rss_mib {
                "within"
            } else {
                "ABOVE"
            };
            let _ = write!(
                line,
                "; peak RSS {:.0} MiB vs BIRD's {:.0} MiB: {word}",
                ours.target_rss_mib, bird.target_rss_mib
            );
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// Anything that makes a figure suspect: routes in the target's kernel,
/// routes sent to the senders, paths the monitor did not expect.
pub fn sanity(ms: &[Measurement]) -> Vec<String> {
    let mut out = Vec::new();
    for m in ms {
        let Ok(f) = &m.result else { continue };
        if f.kernel_routes > 2 {
            out.push(format!(
                "{} {}: {} IPv4 routes in the target's kernel tables",
                m.case, m.target, f.kernel_routes
            ));
        }
        if f.to_senders > 0 {
            out.push(format!(
                "{} {}: {} prefixes announced to the senders",
                m.case, m.target, f.to_senders
            ));
        }
        if f.unexpected > 0 {
            out.push(format!(
                "{} {}: {} unexpected prefixes or paths at the monitor",
                m.case, m.target, f.unexpected
            ));
        }
    }
    out
}

/// Minimum, median and maximum of the loads the measurements started at.
pub fn load_summary(ms: &[Measurement]) -> (f64, f64, f64) {
    let mut v: Vec<f64> = ms
        .iter()
        .map(|m| m.load)
        .filter(|l| l.is_finite())
        .collect();
    v.sort_by(f64::total_cmp);
    match (v.first(), v.get(v.len() / 2), v.last()) {
        (Some(a), Some(b), Some(c)) => (*a, *b, *c),
        _ => (f64::NAN, f64::NAN, f64::NAN),
    }
}

/// A run's subsection for the README: when, the command, the load, the
/// table, the verdict and the sanity notes.
pub fn section(title: &str, command: &str, ms: &[Measurement]) -> String {
    let (lo, med, hi) = load_summary(ms);
    let mut s = format!("### {title}\n\n```sh\n{command}\n```\n\n");
    let _ = writeln!(
        s,
        "Machine load (1-minute average when each measurement started): min {lo:.2}, median {med:.2}, max {hi:.2} on 2 cores.\n"
    );
    s.push_str(&table(ms));
    let v = verdict(ms);
    if !v.is_empty() {
        s.push_str("\nAgainst the target (faster than every other target of the run, peak RSS no higher than BIRD's):\n\n");
        s.push_str(&v);
    }
    let notes = sanity(ms);
    if notes.is_empty() {
        s.push_str("\nChecks: every target's kernel tables held only the link's subnet route; no target announced anything to the senders; the monitor saw no unexpected prefix or path.\n");
    } else {
        s.push_str("\nChecks FAILED:\n\n");
        for n in notes {
            let _ = writeln!(s, "- {n}");
        }
    }
    s
}

/// Puts `text` at the end of the [`SECTION`] of the Markdown file at
/// `path` (before the next `## ` heading), adding the section at the end
/// of the file if it has none.
pub fn append_to_readme(path: &Path, text: &str) -> std::io::Result<()> {
    let old = std::fs::read_to_string(path).unwrap_or_default();
    let new = insert_in_section(&old, text);
    std::fs::write(path, new)
}

/// [`append_to_readme`]'s edit of the text.
pub fn insert_in_section(old: &str, text: &str) -> String {
    let body = format!("{}\n", text.trim_end());
    let Some(start) = old.find(&format!("\n{SECTION}\n")).map(|i| i + 1) else {
        let mut s = old.trim_end().to_string();
        if !s.is_empty() {
            s.push_str("\n\n");
        }
        s.push_str(SECTION);
        s.push_str("\n\n");
        s.push_str(&body);
        return s;
    };
    let after = start + SECTION.len();
    let end = old
        .get(after..)
        .and_then(|rest| rest.find("\n## "))
        .map_or(old.len(), |i| after + i + 1);
    let (head, tail) = old.split_at(end);
    let mut s = head.trim_end().to_string();
    s.push_str("\n\n");
    s.push_str(&body);
    if !tail.is_empty() {
        s.push('\n');
        s.push_str(tail);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(case: Case, target: TargetKind, conv: f64, rss: f64) -> Measurement {
        Measurement {
            case,
            target,
            load: 1.5,
            result: Ok(Figures {
                convergence: conv,
                target_rss_mib: rss,
                ..Figures::default()
            }),
        }
    }

    #[test]
    fn tables_and_verdicts() {
        let c = Case::distinct(1, 1000);
        let ms = vec![
            m(c, TargetKind::Ours, 0.2, 50.0),
            m(c, TargetKind::Bird, 0.4, 90.0),
            m(c, TargetKind::Frr, 2.0, 600.0),
            Measurement {
                case: c,
                target: TargetKind::GoBgp,
                load: 2.0,
                result: Err("not converged | x\nmore".into()),
            },
        ];
        let t = table(&ms);
        assert_eq!(t.lines().count(), 6, "{t}");
        assert!(t.contains("| 1 x 1k | calico-bgpd | 0.200 |"), "{t}");
        assert!(t.contains("failed: not converged / x |"), "{t}");
        let v = verdict(&ms);
        assert!(
            v.contains("fastest other bird 0.400 s: faster (2.00x)"),
            "{v}"
        );
        assert!(v.contains("50 MiB vs BIRD's 90 MiB: within"), "{v}");
        assert!(sanity(&ms).is_empty());
        assert_eq!(load_summary(&ms), (1.5, 1.5, 2.0));
    }

    #[test]
    fn readme_insertion() {
        let doc = "# B\n\n## A\n\ntext\n";
        let once = insert_in_section(doc, "### run 1\n\nx\n");
        assert_eq!(
            once,
            "# B\n\n## A\n\ntext\n\n## Macro benchmark (bgperf-style)\n\n### run 1\n\nx\n"
        );
        let twice = insert_in_section(&once, "### run 2\n");
        assert!(twice.ends_with("### run 1\n\nx\n\n### run 2\n"), "{twice}");
        let mid = format!("{twice}\n## Later\n\nother\n");
        let third = insert_in_section(&mid, "### run 3\n");
        assert!(
            third.contains("### run 2\n\n### run 3\n\n## Later\n\nother\n"),
            "{third}"
        );
    }
}
