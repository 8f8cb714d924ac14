//! The reply framing: codes, `-` on lines that more lines follow, a space
//! starting a continuation of the same code, and the final line.

use crate::birdctl::reply::{self, Reply};
use crate::birdctl::{ReplyLine, parse_line};

#[test]
fn continuation_lines_and_the_final_line() {
    let mut r = Reply::new();
    r.line(2002, "name     proto");
    r.line(1002, "static1  Static");
    r.line(1002, "kernel1  Kernel");
    r.line(1006, "  Preference:     200");
    r.line(1006, "");
    r.line(1002, "device1  Device");
    let text = r.end(0, "");
    assert_eq!(
        text,
        "2002-name     proto\n\
         1002-static1  Static\n \
         kernel1  Kernel\n\
         1006-  Preference:     200\n \
         \n\
         1002-device1  Device\n\
         0000 \n"
    );
}

#[test]
fn one_line_replies() {
    assert_eq!(reply::single(9001, "syntax error"), "9001 syntax error\n");
    assert_eq!(reply::single(0, ""), "0000 \n");
    assert_eq!(
        reply::greeting("v0.3.3+birdv1.6.8"),
        "0001 BIRD v0.3.3+birdv1.6.8 ready.\n"
    );
    // A final line with the code of the lines before it still has its
    // code (BIRD never continues into the final line).
    let mut r = Reply::new();
    r.line(14, "a");
    assert_eq!(r.end(14, "b"), "0014-a\n0014 b\n");
}

#[test]
fn peer_text_cannot_break_a_line() {
    // A Shutdown Communication with a newline and a tab in it.
    let mut r = Reply::new();
    r.line(1002, "x Received: bye\n0000 fake\tend");
    assert_eq!(
        r.end(0, "\r"),
        "1002-x Received: bye 0000 fake end\n0000  \n"
    );
}

#[test]
fn the_client_reads_what_the_server_writes() {
    let mut prev = None;
    let mut got = Vec::new();
    for l in [
        "1000-BIRD v1",
        "1011-Router ID is 10.0.0.1",
        " Current server time is 2021-09-19 20:48:43",
        "0024-Graceful restart recovery in progress",
        "   Waiting for 1 protocols to recover",
        "0013 Daemon is up and running",
    ] {
        let p = parse_line(l, prev).unwrap();
        prev = Some(p.code);
        got.push(p);
    }
    let rl = |code, text: &str, last| ReplyLine {
        code,
        text: text.into(),
        last,
    };
    assert_eq!(
        got,
        vec![
            rl(1000, "BIRD v1", false),
            rl(1011, "Router ID is 10.0.0.1", false),
            rl(1011, "Current server time is 2021-09-19 20:48:43", false),
            rl(24, "Graceful restart recovery in progress", false),
            rl(24, "  Waiting for 1 protocols to recover", false),
            rl(13, "Daemon is up and running", true),
        ]
    );
}
