//! `calico-bgpd --config FILE --check` in Calico mode: the binary picks the
//! mode from the `[calico]` table, prints the sessions the resources make
//! for the node, and refuses a bad table or bad resources with their line,
//! key or file. No root needed.
//!
//! `cargo test -p calico-bgpd --test calico_check`

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_calico-bgpd")
}

fn golden(case: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(case)
        .join("input")
}

fn check(toml: &str) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("calico-bgpd.toml");
    std::fs::write(&file, toml).unwrap();
    Command::new(bin())
        .arg("--config")
        .arg(&file)
        .arg("--check")
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn prints_the_sessions_of_the_node() {
    let o = check(&format!(
        "[calico]\nnode_name = \"node-a\"\nresources = {:?}\n",
        golden("explicit-global")
    ));
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(t.contains("valid (Calico mode): node node-a"), "{t}");
    assert!(t.contains("AS 64567"), "{t}");
    for s in [
        "Global_192_0_2_1_port_166 (192.0.2.1)",
        "Global_192_0_2_1_port_1790 (192.0.2.1)",
        "Global_192_0_2_3_port_1790 (192.0.2.3)",
    ] {
        assert!(t.contains(s), "{s} missing: {t}");
    }
    assert!(t.contains("IPv6: disabled on this node"), "{t}");
}

#[test]
fn a_bad_key_is_named_with_its_line() {
    let o = check(&format!(
        "[calico]\nnode_name = \"node-a\"\nresources = {:?}\n[calico.fib]\nmetrik = 5\n",
        golden("explicit-global")
    ));
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(
        t.contains("line 5") && t.contains("calico.fib.metrik"),
        "{t}"
    );
}

#[test]
fn an_unknown_node_is_refused() {
    let o = check(&format!(
        "[calico]\nnode_name = \"no-such-node\"\nresources = {:?}\n",
        golden("explicit-global")
    ));
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(
        t.contains("no-such-node") && t.contains("make no configuration"),
        "{t}"
    );
}
