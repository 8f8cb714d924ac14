#!/usr/bin/env python3
"""Builds the seed corpora of the fuzz targets from the shared test corpus.

    python3 fuzz/make-seeds.py [CORPUS_DIR] [OUT_DIR]

CORPUS_DIR defaults to $BGP_CORPUS, else ../shared/corpus beside the
repository; OUT_DIR to fuzz/corpus (git-ignored). Each target gets its own
directory, fuzz/corpus/<target>, of files named after a hash of their
content, so running the script again adds nothing twice. Nothing here is
committed: the seeds are made at run time from the corpus.

What each target gets (see the targets for the input layouts):
  message     the hex messages of vectors/*.tsv and the BGP messages inside
              the BGP4MP records of the MRT files, each behind a context
              octet;
  attributes  the path attribute blocks of those UPDATEs, the attribute
              blocks and attribute values of vectors/fragments.tsv;
  open        the OPEN bodies, the capability lists of fragments.tsv;
  nlri        the NLRI and withdrawn fields of the UPDATEs, the
              MP_REACH_NLRI / MP_UNREACH_NLRI values;
  mrt         the MRT files decompressed and cut into short runs of records.
"""

import bz2
import gzip
import hashlib
import os
import struct
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

# Seeds larger than this are cut (MRT) or skipped: libFuzzer runs best on
# small inputs, and its default -max_len follows the largest seed.
MAX_SEED = 8192
# At most this many message seeds, and runs of records, from each MRT file.
PER_FILE = 300
RUNS_PER_FILE = 40

# Context selectors of bgp_wire_fuzz::context.
CTX_PLAIN, CTX_AS4, CTX_AP4, CTX_AP6, CTX_EXTMSG, CTX_ENH, CTX_ALL, CTX_AP2 = range(8)


class Seeds:
    def __init__(self, out: Path):
        self.out = out
        self.counts = {}

    def add(self, target: str, data: bytes):
        if not data or len(data) > MAX_SEED:
            return
        d = self.out / target
        d.mkdir(parents=True, exist_ok=True)
        name = hashlib.sha1(data).hexdigest()
        p = d / name
        if not p.exists():
            p.write_bytes(data)
            self.counts[target] = self.counts.get(target, 0) + 1


def unhex(s: str):
    s = "".join(s.split())
    if s.startswith("0x"):
        s = s[2:]
    try:
        return bytes.fromhex(s)
    except ValueError:
        return None


def read_tsv(path: Path):
    """Rows of a TSV file with a header line, as dicts."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    if not lines:
        return []
    cols = lines[0].split("\t")
    return [dict(zip(cols, line.split("\t"))) for line in lines[1:]]


def attr_header(flags: int, code: int, value: bytes) -> bytes:
    if len(value) > 255:
        return bytes([flags | 0x10, code]) + struct.pack(">H", len(value)) + value
    return bytes([flags & ~0x10, code, len(value)]) + value


def message_seeds(seeds: Seeds, msg: bytes, contexts):
    """A whole BGP message: the message target, and its parts for the
    other targets."""
    for c in contexts:
        seeds.add("message", bytes([c]) + msg)
    if len(msg) < 19:
        return
    body = msg[19:]
    mtype = msg[18]
    if mtype == 1:
        seeds.add("open", body)
    elif mtype == 2 and len(body) >= 4:
        wlen = struct.unpack(">H", body[:2])[0]
        if len(body) < 4 + wlen:
            return
        withdrawn = body[2 : 2 + wlen]
        alen = struct.unpack(">H", body[2 + wlen : 4 + wlen])[0]
        attrs = body[4 + wlen : 4 + wlen + alen]
        nlri = body[4 + wlen + alen :]
        for c in contexts:
            peer = 2  # OAD
            sel = (c & 7) | (peer << 3) | (0x20 if nlri else 0)
            seeds.add("attributes", bytes([sel]) + attrs)
        add_path = any(c in (CTX_AP4, CTX_ALL, CTX_AP2) for c in contexts)
        sel = 2 if add_path else 0
        for field in (withdrawn, nlri):
            if field:
                seeds.add("nlri", bytes([sel]) + field)
        # MP_REACH_NLRI / MP_UNREACH_NLRI values inside the block.
        pos = 0
        while pos + 3 <= len(attrs):
            flags, code = attrs[pos], attrs[pos + 1]
            if flags & 0x10:
                if pos + 4 > len(attrs):
                    break
                ln = struct.unpack(">H", attrs[pos + 2 : pos + 4])[0]
                hdr = 4
            else:
                ln = attrs[pos + 2]
                hdr = 3
            value = attrs[pos + hdr : pos + hdr + ln]
            pos += hdr + ln
            if code in (14, 15):
                kind = 1 if code == 14 else 2
                for c in contexts:
                    seeds.add("nlri", bytes([(c << 5) | (kind << 2)]) + value)


def tsv_seeds(seeds: Seeds, corpus: Path):
    vectors = corpus / "vectors"
    for name in ("messages.tsv", "bgp-test-framework-malformed.tsv"):
        for row in read_tsv(vectors / name):
            h = row.get("hex") or row.get("hex_as_sent_on_one_tcp_connection")
            data = unhex(h or "")
            if data:
                message_seeds(seeds, data, (CTX_PLAIN, CTX_AS4, CTX_ALL))
    for row in read_tsv(vectors / "fragments.tsv"):
        data = unhex(row.get("hex", ""))
        if data is None:
            continue
        kind = row.get("kind", "")
        if kind.startswith("capabilities") or kind.startswith("OPEN optional"):
            seeds.add("open", data)
            # As an OPEN body: version 4, AS 65001, hold 90, id 10.0.0.1.
            if kind.startswith("capabilities") and len(data) <= 253:
                params = bytes([2, len(data)]) + data
            else:
                params = data
            if len(params) <= 255:
                fixed = bytes([4]) + struct.pack(">HH", 65001, 90) + bytes([10, 0, 0, 1])
                seeds.add("open", fixed + bytes([len(params)]) + params)
        elif kind.startswith("path-attributes block"):
            for sel in (CTX_AS4 | 0x10 | 0x20, CTX_PLAIN | 0x10, CTX_ALL):
                seeds.add("attributes", bytes([sel]) + data)
        elif kind.startswith("AS_PATH attribute value"):
            seeds.add("attributes", bytes([CTX_PLAIN | 0x10]) + attr_header(0x40, 2, data))
        elif kind.startswith("MP_REACH_NLRI"):
            seeds.add("nlri", bytes([CTX_ALL << 5 | 1 << 2]) + data)
            seeds.add("nlri", bytes([CTX_AS4 << 5 | 1 << 2]) + data)
            seeds.add("attributes", bytes([CTX_AS4 | 0x10]) + attr_header(0x80, 14, data))
        elif kind.startswith("MP_UNREACH_NLRI"):
            seeds.add("nlri", bytes([CTX_AS4 << 5 | 2 << 2]) + data)
            seeds.add("attributes", bytes([CTX_AS4 | 0x10]) + attr_header(0x80, 15, data))
        elif kind.startswith("BGP Prefix-SID"):
            seeds.add("attributes", bytes([CTX_AS4 | 0x10]) + attr_header(0xC0, 40, data))


def decompress(path: Path):
    raw = path.read_bytes()
    try:
        if raw[:2] == b"\x1f\x8b":
            return gzip.decompress(raw)
        if raw[:3] == b"BZh":
            return bz2.decompress(raw)
    except (OSError, EOFError, ValueError):
        return None
    return raw


def records(data: bytes):
    """(start, end, type, subtype) of each whole record."""
    pos = 0
    while pos + 12 <= len(data):
        _, mtype, sub, ln = struct.unpack(">IHHI", data[pos : pos + 12])
        end = pos + 12 + ln
        if end > len(data):
            return
        yield pos, end, mtype, sub
        pos = end


def bgp4mp_message(body: bytes, sub: int):
    """The BGP message of a BGP4MP message record body, and its context."""
    as4 = sub in (4, 7, 9, 11)
    add_path = sub in (8, 9, 10, 11)
    pos = 8 if as4 else 4
    pos += 2  # interface index
    if len(body) < pos + 2:
        return None, None
    afi = struct.unpack(">H", body[pos : pos + 2])[0]
    pos += 2 + (32 if afi == 2 else 8)
    ctx = CTX_ALL if add_path else (CTX_AS4 if as4 else CTX_PLAIN)
    return body[pos:], ctx


def mrt_seeds(seeds: Seeds, corpus: Path):
    mrt = corpus / "mrt"
    if not mrt.is_dir():
        return
    for path in sorted(mrt.rglob("*")):
        if not path.is_file() or "expected" in path.parts:
            continue
        data = decompress(path)
        if not data:
            continue
        # Runs of consecutive records, and one seed per (type, subtype).
        run, run_len, kinds, messages, runs = [], 0, set(), 0, 0
        for start, end, mtype, sub in records(data):
            rec = data[start:end]
            if len(rec) > MAX_SEED:
                continue
            if (mtype, sub) not in kinds:
                kinds.add((mtype, sub))
                seeds.add("mrt", rec)
            if run_len + len(rec) > 2048 and run:
                if runs < RUNS_PER_FILE:
                    seeds.add("mrt", b"".join(run))
                runs += 1
                run, run_len = [], 0
            run.append(rec)
            run_len += len(rec)
            if mtype in (16, 17) and sub in (1, 4, 6, 7, 8, 9, 10, 11) and messages < PER_FILE:
                body = rec[12:]
                if mtype == 17:
                    body = body[4:]
                msg, ctx = bgp4mp_message(body, sub)
                if msg:
                    messages += 1
                    message_seeds(seeds, msg, (ctx,))
        if run:
            seeds.add("mrt", b"".join(run))


def synthetic_seeds(seeds: Seeds):
    """Inputs the corpus lacks: large MP_REACH_NLRI / MP_UNREACH_NLRI values
    (many short prefixes) for the extended-message contexts, where a change
    of ADD-PATH setting grows them past their length field."""
    origin_path = bytes.fromhex("40010100400206020100000001")
    for ctx in (CTX_EXTMSG, CTX_ALL):
        for n in (300, 4000, 8000):
            reach = bytes.fromhex("00010104c000020100") + bytes(n)
            unreach = bytes.fromhex("000101") + bytes(n)
            block = origin_path + attr_header(0x80, 14, reach) + attr_header(0x80, 15, unreach)
            seeds.add("attributes", bytes([ctx | 0x10]) + block)
            seeds.add("nlri", bytes([ctx << 5 | 1 << 2]) + reach)
            body = b"\x00\x00" + struct.pack(">H", len(block)) + block
            msg = b"\xff" * 16 + struct.pack(">HB", 19 + len(body), 2) + body
            seeds.add("message", bytes([ctx]) + msg)


def main():
    corpus = Path(
        sys.argv[1]
        if len(sys.argv) > 1
        else os.environ.get("BGP_CORPUS", REPO.parent / "shared" / "corpus")
    )
    out = Path(sys.argv[2] if len(sys.argv) > 2 else HERE / "corpus")
    seeds = Seeds(out)
    # Always a few inputs, even without the corpus.
    keepalive = b"\xff" * 16 + b"\x00\x13\x04"
    for c in range(8):
        seeds.add("message", bytes([c]) + keepalive)
    seeds.add("attributes", b"\x21" + bytes.fromhex("4001010040020602010000fde94003040a000002"))
    caps = bytes.fromhex("0104000100014104000000014500")  # MP v4 unicast, AS4, empty ADD-PATH
    params = bytes([2, len(caps)]) + caps
    seeds.add("open", bytes.fromhex("04fde9005ac0000201") + bytes([len(params)]) + params)
    seeds.add("nlri", bytes.fromhex("00180a000008c0"))
    seeds.add("mrt", bytes.fromhex("000000010063000000000002abcd"))
    synthetic_seeds(seeds)
    if corpus.is_dir():
        tsv_seeds(seeds, corpus)
        mrt_seeds(seeds, corpus)
    else:
        print(f"make-seeds: no corpus at {corpus}; minimal seeds only", file=sys.stderr)
    for t in ("message", "attributes", "open", "nlri", "mrt"):
        n = len(list((out / t).iterdir())) if (out / t).is_dir() else 0
        print(f"make-seeds: {t}: {n} seeds ({seeds.counts.get(t, 0)} new)")


if __name__ == "__main__":
    main()
