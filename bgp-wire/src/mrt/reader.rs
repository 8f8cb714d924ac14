//! Reading MRT records from a stream ([`MrtReader`]), a file of any of the
//! usual compressions ([`open_path`]), or a buffer in memory
//! ([`MrtParser`]).

use bytes::{Buf, Bytes, BytesMut};
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use super::MrtRecord;
use super::header::{CommonHeader, HEADER_LEN};
use crate::error::DecodeError;

/// The largest record body [`MrtReader`] accepts by default: 64 MiB. Real
/// records are far smaller (a RIB record of a prefix seen by a thousand
/// peers is some 100 kB); a larger length is taken for corruption.
pub const DEFAULT_MAX_RECORD_LEN: u32 = 64 << 20;

/// How much the body buffer grows per read.
const READ_STEP: usize = 1 << 20;

/// Why a record could not be read.
#[derive(Debug, thiserror::Error)]
pub enum MrtError {
    /// The underlying reader or decompressor failed. The reader stops.
    #[error("reading MRT data: {0}")]
    Io(#[from] io::Error),
    /// The header states a body longer than the limit. The reader stops:
    /// the length cannot be trusted to find the next record.
    #[error("MRT record type {}/{} of {} octets exceeds the limit of {max}", header.mrt_type, header.subtype, header.length)]
    RecordTooLong {
        /// The header as read.
        header: CommonHeader,
        /// The limit.
        max: u32,
    },
    /// The data ends inside a record header (`header` is `None`) or body.
    /// The reader stops.
    #[error("MRT data ends inside a record")]
    TruncatedRecord {
        /// The header, when it was complete.
        header: Option<CommonHeader>,
    },
    /// The body of a record is malformed. The record was skipped by its
    /// length: the next call returns the next record.
    #[error("malformed MRT record type {}/{}: {error}", header.mrt_type, header.subtype)]
    Decode {
        /// The record's header.
        header: CommonHeader,
        /// What was wrong.
        error: DecodeError,
    },
}

/// Yields the records of an MRT stream one by one, holding one record in
/// memory at a time.
///
/// Iterating gives decoded records; [`MrtReader::next_raw`] gives headers
/// and raw bodies. After an [`MrtError::Io`], [`MrtError::RecordTooLong`]
/// or [`MrtError::TruncatedRecord`] the iteration ends; after an
/// [`MrtError::Decode`] it goes on with the next record.
///
/// ```
/// use bgp_wire::mrt::{MrtBody, MrtReader};
///
/// // One record of an unknown type 99, subtype 0, with a 2-octet body.
/// let data: &[u8] = &[0, 0, 0, 1, 0, 99, 0, 0, 0, 0, 0, 2, 0xab, 0xcd];
/// let records: Vec<_> = MrtReader::new(data).collect::<Result<_, _>>().unwrap();
/// assert!(matches!(&records[0].body, MrtBody::Unknown(u) if u.mrt_type == 99));
/// ```
#[derive(Debug)]
pub struct MrtReader<R> {
    inner: R,
    buf: BytesMut,
    max_record_len: u32,
    done: bool,
}

impl<R: Read> MrtReader<R> {
    /// A reader over `inner`, which should be buffered (see [`open_path`]).
    pub fn new(inner: R) -> Self {
        MrtReader {
            inner,
            buf: BytesMut::new(),
            max_record_len: DEFAULT_MAX_RECORD_LEN,
            done: false,
        }
    }

    /// Sets the largest record body accepted.
    pub fn with_max_record_len(mut self, max: u32) -> Self {
        self.max_record_len = max;
        self
    }

    /// The underlying reader.
    pub fn into_inner(self) -> R {
        self.inner
    }

    /// Reads up to 12 octets; `Ok(0)` at a clean end of stream.
    fn read_header(&mut self, head: &mut [u8; HEADER_LEN]) -> io::Result<usize> {
        let mut got = 0;
        while let Some(rest) = head.get_mut(got..) {
            if rest.is_empty() {
                break;
            }
            match self.inner.read(rest) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(got)
    }

    /// The next header and raw body (microseconds included for the
    /// extended timestamp types), or `None` at the end of the stream.
    pub fn next_raw(&mut self) -> Option<Result<(CommonHeader, Bytes), MrtError>> {
        if self.done {
            return None;
        }
        let res = self.read_raw();
        if !matches!(res, Some(Ok(_))) {
            self.done = true;
        }
        res
    }

    fn read_raw(&mut self) -> Option<Result<(CommonHeader, Bytes), MrtError>> {
        let mut head = [0u8; HEADER_LEN];
        match self.read_header(&mut head) {
            Ok(0) => return None,
            Ok(HEADER_LEN) => {}
            Ok(_) => return Some(Err(MrtError::TruncatedRecord { header: None })),
            Err(e) => return Some(Err(MrtError::Io(e))),
        }
        let header = CommonHeader::decode(&head);
        if header.length > self.max_record_len {
            return Some(Err(MrtError::RecordTooLong {
                header,
                max: self.max_record_len,
            }));
        }
        let Ok(len) = usize::try_from(header.length) else {
            return Some(Err(MrtError::RecordTooLong {
                header,
                max: self.max_record_len,
            }));
        };
        // Grow the buffer by at most READ_STEP at a time, so that a
        // truncated stream with a large stated length costs no more memory
        // than the data actually there.
        self.buf.clear();
        let mut filled = 0;
        while filled < len {
            let next = len.min(filled + READ_STEP);
            self.buf.resize(next, 0);
            let res = match self.buf.get_mut(filled..next) {
                Some(dst) => self.inner.read_exact(dst),
                None => Ok(()),
            };
            match res {
                Ok(()) => filled = next,
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                    return Some(Err(MrtError::TruncatedRecord {
                        header: Some(header),
                    }));
                }
                Err(e) => return Some(Err(MrtError::Io(e))),
            }
        }
        Some(Ok((header, self.buf.split().freeze())))
    }
}

impl<R: Read> Iterator for MrtReader<R> {
    type Item = Result<MrtRecord, MrtError>;

    fn next(&mut self) -> Option<Self::Item> {
        Some(self.next_raw()?.and_then(|(header, body)| {
            MrtRecord::decode(&header, body).map_err(|error| MrtError::Decode { header, error })
        }))
    }
}

/// Opens an MRT file, plain or compressed, and returns a buffered
/// [`MrtReader`] over it.
///
/// The compression is found from the first octets: gzip (`1f 8b`, with
/// several members read one after the other), bzip2 (`BZh`, several
/// streams likewise), or none. A name ending in `.gz` or `.bz2` whose
/// content lacks the magic number is read with that decompressor anyway,
/// which then reports the error.
pub fn open_path(path: impl AsRef<Path>) -> Result<MrtReader<Box<dyn Read + Send>>, MrtError> {
    Ok(MrtReader::new(open_decompressed(path.as_ref())?))
}

/// Reads a whole MRT file, decompressed as [`open_path`] does, into memory
/// for an [`MrtParser`] (for example to measure decoding without I/O).
///
/// ```no_run
/// use bgp_wire::mrt::{MrtParser, read_decompressed};
///
/// let data = read_decompressed("bview.20020722.2337.gz").unwrap();
/// let records = MrtParser::new(data).filter(Result::is_ok).count();
/// # let _ = records;
/// ```
pub fn read_decompressed(path: impl AsRef<Path>) -> Result<Bytes, MrtError> {
    let mut out = Vec::new();
    open_decompressed(path.as_ref())?.read_to_end(&mut out)?;
    Ok(Bytes::from(out))
}

fn open_decompressed(path: &Path) -> io::Result<Box<dyn Read + Send>> {
    let mut file = BufReader::with_capacity(64 * 1024, File::open(path)?);
    let magic = file.fill_buf()?;
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    let gz = magic.starts_with(&[0x1f, 0x8b]);
    let bz = magic.starts_with(b"BZh");
    Ok(if gz || (!bz && ext == "gz") {
        Box::new(BufReader::with_capacity(
            64 * 1024,
            flate2::bufread::MultiGzDecoder::new(file),
        ))
    } else if bz || ext == "bz2" {
        Box::new(BufReader::with_capacity(
            64 * 1024,
            bzip2::bufread::MultiBzDecoder::new(file),
        ))
    } else {
        Box::new(file)
    })
}

/// Walks the records of an MRT file held in memory (decompressed), without
/// copying: every body is a slice of the buffer.
///
/// Ends, like [`MrtReader`], after a [`MrtError::TruncatedRecord`], and
/// goes on after a [`MrtError::Decode`].
///
/// ```
/// use bytes::Bytes;
/// use bgp_wire::mrt::MrtParser;
///
/// let data = Bytes::from_static(&[0, 0, 0, 1, 0, 99, 0, 0, 0, 0, 0, 0, 0, 0]);
/// let mut parser = MrtParser::new(data);
/// let (header, body) = parser.next_raw().unwrap().unwrap();
/// assert_eq!((header.mrt_type, body.len()), (99, 0));
/// // Two octets are left, not enough for a header.
/// assert!(parser.next_raw().unwrap().is_err());
/// assert!(parser.next_raw().is_none());
/// ```
#[derive(Debug, Clone)]
pub struct MrtParser {
    data: Bytes,
    done: bool,
}

impl MrtParser {
    /// A parser over a whole (decompressed) MRT file.
    pub fn new(data: Bytes) -> Self {
        MrtParser { data, done: false }
    }

    /// Octets not yet parsed.
    pub fn remaining(&self) -> usize {
        self.data.len()
    }

    /// The next header and raw body (microseconds included for the
    /// extended timestamp types), or `None` at the end.
    pub fn next_raw(&mut self) -> Option<Result<(CommonHeader, Bytes), MrtError>> {
        if self.done || self.data.is_empty() {
            return None;
        }
        let Some(head) = self.data.first_chunk::<HEADER_LEN>() else {
            self.done = true;
            return Some(Err(MrtError::TruncatedRecord { header: None }));
        };
        let header = CommonHeader::decode(head);
        let len = usize::try_from(header.length).unwrap_or(usize::MAX);
        if self.data.len() - HEADER_LEN < len {
            self.done = true;
            return Some(Err(MrtError::TruncatedRecord {
                header: Some(header),
            }));
        }
        // One reference count for the body; the header octets are skipped.
        let mut body = self.data.split_to(HEADER_LEN + len);
        body.advance(HEADER_LEN);
        Some(Ok((header, body)))
    }
}

impl Iterator for MrtParser {
    type Item = Result<MrtRecord, MrtError>;

    fn next(&mut self) -> Option<Self::Item> {
        Some(self.next_raw()?.and_then(|(header, body)| {
            MrtRecord::decode(&header, body).map_err(|error| MrtError::Decode { header, error })
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mrt::MrtBody;

    fn record(mrt_type: u16, subtype: u16, body: &[u8]) -> Vec<u8> {
        let mut v = vec![0, 0, 0, 1];
        v.extend_from_slice(&mrt_type.to_be_bytes());
        v.extend_from_slice(&subtype.to_be_bytes());
        v.extend_from_slice(&(body.len() as u32).to_be_bytes());
        v.extend_from_slice(body);
        v
    }

    #[test]
    fn malformed_record_is_skipped_then_reading_goes_on() {
        let mut data = record(13, 1, &[1, 2, 3]); // truncated peer index table
        data.extend(record(13, 7, &[9])); // GEO_PEER_TABLE: unknown subtype
        data.extend(record(17, 4, &[0, 0])); // ET without room for microseconds
        data.extend(record(99, 0, &[]));
        let from_reader: Vec<_> = MrtReader::new(&data[..]).collect();
        let from_parser: Vec<_> = MrtParser::new(Bytes::from(data)).collect();
        for results in [from_reader, from_parser] {
            assert_eq!(results.len(), 4);
            assert!(matches!(
                &results[0],
                Err(MrtError::Decode { header, error: DecodeError::Truncated { .. } })
                    if header.mrt_type == 13
            ));
            assert!(matches!(
                &results[1],
                Ok(r) if matches!(&r.body, MrtBody::Unknown(u) if u.subtype == 7 && u.data[..] == [9])
            ));
            assert!(matches!(&results[2], Err(MrtError::Decode { .. })));
            assert!(results[3].is_ok());
        }
    }

    #[test]
    fn truncation_and_length_limit_stop_the_reader() {
        let mut data = record(99, 0, &[1, 2, 3, 4]);
        data.truncate(data.len() - 1);
        let r: Vec<_> = MrtReader::new(&data[..]).collect();
        assert!(matches!(
            r.as_slice(),
            [Err(MrtError::TruncatedRecord { header: Some(_) })]
        ));
        let r: Vec<_> = MrtParser::new(Bytes::from(data[..5].to_vec())).collect();
        assert!(matches!(
            r.as_slice(),
            [Err(MrtError::TruncatedRecord { header: None })]
        ));
        // A 3 MiB body read in steps.
        let big = record(99, 0, &vec![7u8; 3 << 20]);
        let r: Vec<_> = MrtReader::new(&big[..]).collect();
        assert!(
            matches!(r.as_slice(), [Ok(rec)] if matches!(&rec.body, MrtBody::Unknown(u) if u.data.len() == 3 << 20))
        );
        let r: Vec<_> = MrtReader::new(&big[..big.len() - 1]).collect();
        assert!(matches!(
            r.as_slice(),
            [Err(MrtError::TruncatedRecord { .. })]
        ));
        // A 4 GiB length is refused before any allocation.
        let huge = [0, 0, 0, 1, 0, 16, 0, 1, 0xff, 0xff, 0xff, 0xff, 0];
        let r: Vec<_> = MrtReader::new(&huge[..]).collect();
        assert!(matches!(
            r.as_slice(),
            [Err(MrtError::RecordTooLong { .. })]
        ));
        let r: Vec<_> = MrtReader::new(&record(99, 0, &[0; 10])[..])
            .with_max_record_len(9)
            .collect();
        assert!(matches!(
            r.as_slice(),
            [Err(MrtError::RecordTooLong { .. })]
        ));
    }
}
