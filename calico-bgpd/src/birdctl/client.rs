//! A small client of the control socket, for the health checks and the
//! tests: it sends a command and reads reply lines up to the last one.

use std::io;
use std::path::Path;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};

/// How long calico-node waits for each line from BIRD.
pub const LINE_TIMEOUT: Duration = Duration::from_secs(2);

/// One reply line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyLine {
    /// The code (a continuation line has its first line's code).
    pub code: u16,
    /// The text after the code and its separator.
    pub text: String,
    /// Whether it is the last line of the reply.
    pub last: bool,
}

/// Parses one line of a reply: `CCCC-text` (more follow), `CCCC text`
/// (the last), or ` text` (a continuation of `prev`).
pub fn parse_line(line: &str, prev: Option<u16>) -> Option<ReplyLine> {
    if let Some(text) = line.strip_prefix(' ') {
        return Some(ReplyLine {
            code: prev?,
            text: text.to_string(),
            last: false,
        });
    }
    let digits = line.get(..4)?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let code: u16 = digits.parse().ok()?;
    let last = match line.as_bytes().get(4) {
        Some(b' ') => true,
        Some(b'-') => false,
        _ => return None,
    };
    Some(ReplyLine {
        code,
        text: line.get(5..).unwrap_or_default().to_string(),
        last,
    })
}

/// A connection to a control socket.
#[derive(Debug)]
pub struct BirdClient {
    reader: BufReader<OwnedReadHalf>,
    writer: OwnedWriteHalf,
    timeout: Duration,
}

fn bad(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

impl BirdClient {
    /// Connects and reads the greeting (`0001 BIRD ... ready.`), waiting
    /// at most `timeout` for each line.
    pub async fn connect(path: &Path, timeout: Duration) -> io::Result<(Self, ReplyLine)> {
        let stream = tokio::time::timeout(timeout, UnixStream::connect(path))
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "connect timed out"))??;
        let (rd, wr) = stream.into_split();
        let mut c = BirdClient {
            reader: BufReader::new(rd),
            writer: wr,
            timeout,
        };
        let hello = c.read_reply_line(None).await?;
        if hello.code != 1 || !hello.last {
            return Err(bad(format!("unexpected greeting: {hello:?}")));
        }
        Ok((c, hello))
    }

    async fn read_reply_line(&mut self, prev: Option<u16>) -> io::Result<ReplyLine> {
        let mut line = String::new();
        let n = tokio::time::timeout(self.timeout, self.reader.read_line(&mut line))
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "read timed out"))??;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed",
            ));
        }
        let line = line.trim_end_matches('\n');
        parse_line(line, prev).ok_or_else(|| bad(format!("unexpected line: {line:?}")))
    }

    /// Sends one command and reads its reply, the last line included.
    pub async fn command(&mut self, cmd: &str) -> io::Result<Vec<ReplyLine>> {
        self.writer.write_all(format!("{cmd}\n").as_bytes()).await?;
        let mut out: Vec<ReplyLine> = Vec::new();
        loop {
            let prev = out.last().map(|l| l.code);
            let l = self.read_reply_line(prev).await?;
            let last = l.last;
            out.push(l);
            if last {
                return Ok(out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines() {
        assert_eq!(
            parse_line("1002-kernel1  Kernel", None),
            Some(ReplyLine {
                code: 1002,
                text: "kernel1  Kernel".into(),
                last: false
            })
        );
        assert_eq!(
            parse_line(" device1", Some(1002)),
            Some(ReplyLine {
                code: 1002,
                text: "device1".into(),
                last: false
            })
        );
        assert_eq!(
            parse_line("0000 ", Some(1002)),
            Some(ReplyLine {
                code: 0,
                text: String::new(),
                last: true
            })
        );
        assert_eq!(parse_line(" orphan", None), None);
        assert_eq!(parse_line("0000", None), None);
        assert_eq!(parse_line("abcd-x", None), None);
        assert_eq!(parse_line("12", None), None);
        assert_eq!(parse_line("1002+x", None), None);
    }
}
