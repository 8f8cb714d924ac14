//! `fib-driver`: the kernel FIB programmer driven by line commands on
//! standard input, for the FIB tests (`tests/fib.rs`, which run it inside a
//! network namespace with `ip netns exec`), benchmarks and by-hand checks.
//! It is not part of the daemon.
//!
//! ```text
//! fib-driver [--metric N] [--batch N] [--rcvbuf BYTES]
//! ```
//!
//! It prints `ready pid=PID` once the kernel tables are learned, then reads
//! one command per line; each answer is zero or more lines, then a line
//! starting with `ok` or `err`:
//!
//! ```text
//! set PREFIX blackhole | none | via GW [dev DEV] [onlink] [via GW ...]
//! del PREFIX                       withdraw
//! gen4 N KIND...                   N prefixes of 198.19.0.0/16 (/32s, then /31s...), then settle
//! gen6 N KIND...                   N /64s of 2001:db8::/33, then settle
//! sync v4|v6|all                   recovery complete
//! settle                           wait until written; print the status
//! status                           print the status
//! resync                           dump the tables again
//! quit [remove]                    stop (routes stay unless `remove`)
//! ```
//!
//! Status lines: `family F synced=.. desired=.. installed=.. ours=.. stale=..
//! aliens=.. conflicted=.. failed=..`, then `conflict F PREFIX METRIC
//! PROTOS`, `failure F PREFIX ERRNO attempts=N MESSAGE`, `counters ...` and
//! `memory rss_kb=.. hwm_kb=..`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::process::ExitCode;
use std::time::Instant;

use calico_bgpd::fib::{
    Family, FibConfig, FibProgrammer, FibStatus, NextHop, RouteKind, RouteUpdate,
};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

fn main() -> ExitCode {
    let mut cfg = FibConfig::default();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let value = args.next().and_then(|v| v.parse::<u64>().ok());
        match (a.as_str(), value) {
            ("--metric", Some(v)) => cfg.metric = u32::try_from(v).unwrap_or(u32::MAX),
            ("--batch", Some(v)) => cfg.batch_size = usize::try_from(v).unwrap_or(1),
            ("--rcvbuf", Some(v)) => cfg.receive_buffer = usize::try_from(v).unwrap_or(0),
            _ => {
                eprintln!("usage: fib-driver [--metric N] [--batch N] [--rcvbuf BYTES]");
                return ExitCode::from(2);
            }
        }
    }
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("err runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    rt.block_on(run(cfg))
}

async fn run(cfg: FibConfig) -> ExitCode {
    let mut out = tokio::io::stdout();
    let fib = match FibProgrammer::start(cfg).await {
        Ok(f) => f,
        Err(e) => {
            let _ = out.write_all(format!("err start: {e}\n").as_bytes()).await;
            return ExitCode::FAILURE;
        }
    };
    let _ = out
        .write_all(format!("ready pid={}\n", std::process::id()).as_bytes())
        .await;
    let _ = out.flush().await;
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    // Bounded by the input: one answer per line read.
    while let Ok(Some(line)) = lines.next_line().await {
        let (text, stop) = match command(&fib, line.trim()).await {
            Ok(Answer::Text(t)) => (t, false),
            Ok(Answer::Quit(t)) => (t, true),
            Err(e) => (format!("err {e}\n"), false),
        };
        let _ = out.write_all(text.as_bytes()).await;
        let _ = out.flush().await;
        if stop {
            return ExitCode::SUCCESS;
        }
    }
    // Standard input closed: stop, routes stay.
    ExitCode::SUCCESS
}

enum Answer {
    Text(String),
    Quit(String),
}

async fn command(fib: &FibProgrammer, line: &str) -> Result<Answer, String> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let stopped = |e: calico_bgpd::fib::FibError| e.to_string();
    match words.as_slice() {
        [] => Ok(Answer::Text("ok\n".into())),
        ["set", prefix, kind @ ..] => {
            let prefix: IpNet = prefix
                .parse()
                .map_err(|e| format!("prefix {prefix}: {e}"))?;
            fib.set(prefix, parse_kind(kind)?).await.map_err(stopped)?;
            Ok(Answer::Text("ok\n".into()))
        }
        ["del", prefix] => {
            let prefix: IpNet = prefix
                .parse()
                .map_err(|e| format!("prefix {prefix}: {e}"))?;
            fib.withdraw(prefix).await.map_err(stopped)?;
            Ok(Answer::Text("ok\n".into()))
        }
        [which @ ("gen4" | "gen6"), n, kind @ ..] => {
            let n: u32 = n.parse().map_err(|e| format!("count {n}: {e}"))?;
            let kind = parse_kind(kind)?;
            let v4 = *which == "gen4";
            let start = Instant::now();
            let mut chunk = Vec::with_capacity(8192);
            for i in 0..n {
                let p = if v4 { gen_v4(i) } else { gen_v6(i) }
                    .ok_or_else(|| format!("no room for {n} prefixes"))?;
                chunk.push(RouteUpdate::set(p, kind.clone()));
                if chunk.len() == 8192 {
                    fib.update(std::mem::take(&mut chunk))
                        .await
                        .map_err(stopped)?;
                }
            }
            fib.update(chunk).await.map_err(stopped)?;
            let st = fib.settled().await.map_err(stopped)?;
            let ms = start.elapsed().as_secs_f64() * 1000.0;
            let rate = f64::from(n) / start.elapsed().as_secs_f64().max(1e-9);
            Ok(Answer::Text(format!(
                "{}ok n={n} elapsed_ms={ms:.0} per_sec={rate:.0}\n",
                status_text(&st)
            )))
        }
        ["sync", fam] => {
            let fams: &[Family] = match *fam {
                "v4" => &[Family::V4],
                "v6" => &[Family::V6],
                "all" => &Family::ALL,
                other => return Err(format!("family {other}")),
            };
            for f in fams {
                fib.mark_synced(*f).await.map_err(stopped)?;
            }
            Ok(Answer::Text("ok\n".into()))
        }
        ["settle"] => {
            let st = fib.settled().await.map_err(stopped)?;
            Ok(Answer::Text(format!("{}ok\n", status_text(&st))))
        }
        ["status"] => {
            let st = fib.status().await.map_err(stopped)?;
            Ok(Answer::Text(format!("{}ok\n", status_text(&st))))
        }
        ["resync"] => {
            fib.resync().await.map_err(stopped)?;
            Ok(Answer::Text("ok\n".into()))
        }
        ["quit", rest @ ..] => {
            let remove = rest == ["remove"];
            let st = fib.clone().shutdown(remove).await.map_err(stopped)?;
            Ok(Answer::Quit(format!("{}ok\n", status_text(&st))))
        }
        _ => Err(format!("unknown command: {line}")),
    }
}

fn parse_kind(words: &[&str]) -> Result<RouteKind, String> {
    match words {
        ["blackhole"] => return Ok(RouteKind::Blackhole),
        ["none"] => return Ok(RouteKind::NotInstalled),
        _ => {}
    }
    let mut hops: Vec<NextHop> = Vec::new();
    let mut it = words.iter();
    while let Some(w) = it.next() {
        match *w {
            "via" => {
                let gw = it.next().ok_or("via without a gateway")?;
                let gw: IpAddr = gw.parse().map_err(|e| format!("gateway {gw}: {e}"))?;
                hops.push(NextHop::via(gw));
            }
            "dev" => {
                let d = it.next().ok_or("dev without a name")?;
                let h = hops.last_mut().ok_or("dev before via")?;
                h.device = Some((*d).to_string());
            }
            "onlink" => hops.last_mut().ok_or("onlink before via")?.onlink = true,
            other => return Err(format!("unexpected {other}")),
        }
    }
    if hops.is_empty() {
        return Err("no route kind (blackhole, none or via ...)".into());
    }
    Ok(RouteKind::Unicast(hops))
}

/// Prefix number `i` of 198.19.0.0/16: the /32s, then the /31s, and so on.
fn gen_v4(i: u32) -> Option<IpNet> {
    let base = u32::from(Ipv4Addr::new(198, 19, 0, 0));
    let mut i = i;
    for len in (16..=32u8).rev() {
        let count = 1u32 << (len - 16);
        if i < count {
            let step = 1u32.checked_shl(32 - u32::from(len)).unwrap_or(0);
            let addr = Ipv4Addr::from(base + i * step);
            return Ipv4Net::new(addr, len).ok().map(IpNet::V4);
        }
        i -= count;
    }
    None
}

/// Prefix number `i` of 2001:db8::/33, as /64s.
fn gen_v6(i: u32) -> Option<IpNet> {
    if i >= 1 << 31 {
        return None;
    }
    let hi = u16::try_from(i >> 16).ok()?;
    let lo = u16::try_from(i & 0xffff).ok()?;
    let addr = Ipv6Addr::new(0x2001, 0xdb8, hi, lo, 0, 0, 0, 0);
    Ipv6Net::new(addr, 64).ok().map(IpNet::V6)
}

fn memory() -> (u64, u64) {
    let text = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        text.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn status_text(st: &FibStatus) -> String {
    let mut s = String::new();
    for f in Family::ALL {
        let fs = st.family(f);
        let name = match f {
            Family::V4 => "v4",
            Family::V6 => "v6",
        };
        s.push_str(&format!(
            "family {name} synced={} desired={} installed={} ours={} stale={} aliens={} conflicted={} failed={}\n",
            u8::from(fs.synced),
            fs.desired,
            fs.installed,
            fs.ours_in_kernel,
            fs.stale,
            fs.aliens,
            fs.conflicted,
            fs.failed
        ));
        for c in &fs.conflicts {
            let protos: Vec<String> = c.protocols.iter().map(u8::to_string).collect();
            s.push_str(&format!(
                "conflict {name} {} {} {}\n",
                c.prefix,
                c.metric,
                protos.join(",")
            ));
        }
        for fl in &fs.failures {
            let errno = fl
                .error
                .errno()
                .map(calico_bgpd::fib::retry::errno_name)
                .unwrap_or_else(|| "-".into());
            s.push_str(&format!(
                "failure {name} {} {errno} attempts={} {}\n",
                fl.prefix, fl.attempts, fl.error
            ));
        }
    }
    let c = &st.counters;
    s.push_str(&format!(
        "counters adds={} replaces={} deletes={} failed_writes={} batches={} route_events={} dumps={} overruns={} malformed={}\n",
        c.adds,
        c.replaces,
        c.deletes,
        c.failed_writes,
        c.batches,
        c.route_events,
        c.dumps,
        c.overruns,
        c.malformed
    ));
    let (rss, hwm) = memory();
    s.push_str(&format!("memory rss_kb={rss} hwm_kb={hwm}\n"));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_prefixes_stay_in_the_test_ranges() {
        let v4: IpNet = "198.19.0.0/16".parse().unwrap();
        assert_eq!(gen_v4(0).unwrap().to_string(), "198.19.0.0/32");
        assert_eq!(gen_v4(65535).unwrap().to_string(), "198.19.255.255/32");
        assert_eq!(gen_v4(65536).unwrap().to_string(), "198.19.0.0/31");
        assert_eq!(gen_v4(65536 + 32768).unwrap().to_string(), "198.19.0.0/30");
        assert_eq!(gen_v4(131070).unwrap().to_string(), "198.19.0.0/16");
        assert!(gen_v4(131071).is_none());
        let mut seen = std::collections::HashSet::new();
        for i in (0..131071).step_by(97) {
            let p = gen_v4(i).unwrap();
            assert!(v4.contains(&p), "{p}");
            assert!(seen.insert(p));
        }
        let v6: IpNet = "2001:db8::/33".parse().unwrap();
        for i in [0, 1, 65535, 65536, 999_999, (1 << 31) - 1] {
            assert!(v6.contains(&gen_v6(i).unwrap()));
        }
        assert!(gen_v6(1 << 31).is_none());
    }

    #[test]
    fn kinds() {
        assert_eq!(parse_kind(&["blackhole"]).unwrap(), RouteKind::Blackhole);
        let k = parse_kind(&[
            "via",
            "198.18.0.1",
            "dev",
            "tunl0",
            "onlink",
            "via",
            "198.18.0.3",
        ])
        .unwrap();
        assert_eq!(
            k,
            RouteKind::ecmp([
                NextHop::onlink("198.18.0.1".parse().unwrap(), "tunl0"),
                NextHop::via("198.18.0.3".parse().unwrap())
            ])
        );
        assert!(parse_kind(&["dev", "x"]).is_err());
        assert!(parse_kind(&[]).is_err());
    }
}
