//! The server side of TDS 7.4, as much of it as the lab twin needs: packet
//! framing, PRELOGIN (its TLS is `tls`'s), LOGIN7, RPC `sp_executesql` and SQL
//! batch requests, and the reply tokens (LOGINACK, ENVCHANGE, COLMETADATA,
//! ROW, ERROR, DONE*, RETURNSTATUS).
//!
//! Everything read from the socket is parsed with bounds checks: a
//! malformed or hostile packet is an `Err`, never a panic. The facts a probe
//! established against tiberius 0.13: PRELOGIN answers ENCRYPTION = NOT_SUP;
//! LOGINACK carries the TDS version big-endian (0x74000004); an RPC's result
//! sets each end with DONEINPROC, then RETURNSTATUS and DONEPROC.

use super::column_wire;
use super::columns::Column;
use crate::secret::Secret;
use serde_json::Value;
use std::io::{self, Read, Write};

pub const PKT_SQL_BATCH: u8 = 0x01;
pub const PKT_RPC: u8 = 0x03;
pub const PKT_REPLY: u8 = 0x04;
pub const PKT_ATTENTION: u8 = 0x06;
pub const PKT_TRANSACTION: u8 = 0x0E;
pub const PKT_LOGIN7: u8 = 0x10;
pub const PKT_PRELOGIN: u8 = 0x12;

/// The packet size the twin replies with (and announces).
pub const PACKET_SIZE: usize = 4096;
/// A request larger than this is refused: nothing drillbook sends comes near.
const MAX_MESSAGE: usize = 16 * 1024 * 1024;

/// sp_executesql's procedure id in an RPC request.
const PROC_EXECUTESQL: u16 = 10;

const DONE_MORE: u16 = 0x01;
const DONE_ERROR: u16 = 0x02;
const DONE_COUNT: u16 = 0x10;
const DONE_ATTN: u16 = 0x20;

/// Latin1_General_CI_AS, LCID 1033: what the collation bytes of a default
/// SQL Server install say.
pub const COLLATION: [u8; 5] = [0x09, 0x04, 0xD0, 0x00, 0x34];

fn bad(message: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.into())
}

/// Read one message (one or more packets up to end-of-message). `None` on a
/// clean end of stream between messages.
pub fn read_message(r: &mut impl Read) -> io::Result<Option<(u8, Vec<u8>)>> {
    let mut payload = Vec::new();
    let mut kind = None;
    loop {
        let mut header = [0u8; 8];
        match r.read_exact(&mut header) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof && kind.is_none() => {
                return Ok(None)
            }
            Err(e) => return Err(e),
        }
        let len = u16::from_be_bytes([header[2], header[3]]) as usize;
        if len < 8 {
            return Err(bad(format!(
                "packet length {len} is shorter than its header"
            )));
        }
        let mut body = vec![0u8; len - 8];
        r.read_exact(&mut body)?;
        if payload.len() + body.len() > MAX_MESSAGE {
            return Err(bad("request larger than 16 MiB"));
        }
        payload.extend_from_slice(&body);
        kind.get_or_insert(header[0]);
        if header[1] & 0x01 != 0 {
            return Ok(kind.map(|k| (k, payload)));
        }
    }
}

/// Write one message, split into packets of `PACKET_SIZE`.
pub fn write_message(w: &mut impl Write, kind: u8, payload: &[u8]) -> io::Result<()> {
    write_packets(w, kind, payload, true)
}

/// Write the start of a message now (no end-of-message), as a server
/// streams INFO messages while a statement is still running.
pub fn write_partial(w: &mut impl Write, kind: u8, payload: &[u8]) -> io::Result<()> {
    write_packets(w, kind, payload, false)
}

fn write_packets(w: &mut impl Write, kind: u8, payload: &[u8], end: bool) -> io::Result<()> {
    let chunk = PACKET_SIZE - 8;
    let mut chunks: Vec<&[u8]> = payload.chunks(chunk).collect();
    if chunks.is_empty() {
        chunks.push(&[]);
    }
    let last = chunks.len() - 1;
    let mut out = Vec::with_capacity(payload.len() + 8 * chunks.len());
    for (i, c) in chunks.iter().enumerate() {
        let len = (c.len() + 8) as u16;
        out.push(kind);
        out.push(if end && i == last { 0x01 } else { 0x00 });
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&[0, 0]); // SPID
        out.push((i as u8).wrapping_add(1)); // packet id
        out.push(0); // window
        out.extend_from_slice(c);
    }
    w.write_all(&out)?;
    w.flush()
}

/// A bounds-checked little-endian reader over a payload.
struct Cur<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Cur<'a> {
    fn new(data: &'a [u8]) -> Cur<'a> {
        Cur { data, pos: 0 }
    }

    fn take(&mut self, n: usize) -> io::Result<&'a [u8]> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.data.len())
            .ok_or_else(|| bad("request ends early"))?;
        let s = &self.data[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn u8(&mut self) -> io::Result<u8> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> io::Result<u16> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> io::Result<u32> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u64(&mut self) -> io::Result<u64> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }

    fn utf16(&mut self, chars: usize) -> io::Result<String> {
        let bytes = self.take(chars.checked_mul(2).ok_or_else(|| bad("length overflow"))?)?;
        utf16_le(bytes)
    }

    fn b_varchar(&mut self) -> io::Result<String> {
        let n = self.u8()? as usize;
        self.utf16(n)
    }
}

fn utf16_le(bytes: &[u8]) -> io::Result<String> {
    if !bytes.len().is_multiple_of(2) {
        return Err(bad("odd UTF-16 byte length"));
    }
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    String::from_utf16(&units).map_err(|_| bad("invalid UTF-16"))
}

/// PRELOGIN: the client's ENCRYPTION byte, if it sent one.
pub fn prelogin_encryption(payload: &[u8]) -> io::Result<Option<u8>> {
    let mut c = Cur::new(payload);
    loop {
        let token = c.u8()?;
        if token == 0xFF {
            return Ok(None);
        }
        let b = c.take(4)?;
        let offset = u16::from_be_bytes([b[0], b[1]]) as usize;
        if token == 1 {
            return payload
                .get(offset)
                .copied()
                .map(Some)
                .ok_or_else(|| bad("PRELOGIN ENCRYPTION option out of range"));
        }
    }
}

/// The PRELOGIN answer: SQL Server 11.0, the ENCRYPTION value `tls`
/// negotiated, no instance check, MARS off.
pub fn prelogin_reply(encryption: u8) -> Vec<u8> {
    // (token, data)
    let options: [(u8, Vec<u8>); 4] = [
        (0x00, vec![11, 0, 0x0C, 0x38, 0, 0]), // version 11.0.3128, sub-build 0
        (0x01, vec![encryption]),              // ENCRYPTION
        (0x02, vec![0x00]),                    // INSTOPT: accepted
        (0x04, vec![0x00]),                    // MARS off
    ];
    let mut offset = (options.len() * 5 + 1) as u16;
    let mut head = Vec::new();
    let mut data = Vec::new();
    for (token, d) in &options {
        head.push(*token);
        head.extend_from_slice(&offset.to_be_bytes());
        head.extend_from_slice(&(d.len() as u16).to_be_bytes());
        offset += d.len() as u16;
        data.extend_from_slice(d);
    }
    head.push(0xFF);
    head.extend(data);
    head
}

/// What a LOGIN7 record says, the password kept secret.
pub struct Login {
    pub user: String,
    pub password: Secret,
    pub app: String,
    /// Integrated (SSPI) authentication was asked for.
    pub sspi: bool,
    /// ApplicationIntent=ReadOnly (TypeFlags fReadOnlyIntent): the session
    /// only reads, as a plan's does.
    pub read_only: bool,
    /// The database the client asked for (empty: the login's default).
    pub database: String,
}

/// LOGIN7 (MS-TDS 2.2.6.4): fixed fields, then offset/length pairs.
pub fn parse_login7(payload: &[u8]) -> io::Result<Login> {
    // The (offset, length in characters) pair at byte `at` of the record.
    let pair = |at: usize| -> io::Result<(usize, usize)> {
        let mut c = Cur::new(payload);
        c.take(at)?;
        Ok((c.u16()? as usize, c.u16()? as usize))
    };
    let bytes = |at: usize| -> io::Result<&[u8]> {
        let (offset, chars) = pair(at)?;
        let mut d = Cur::new(payload);
        d.take(offset)?;
        d.take(chars.checked_mul(2).ok_or_else(|| bad("length overflow"))?)
    };
    let (_, sspi_len) = pair(78)?;
    // TypeFlags is the byte at offset 26; fReadOnlyIntent is its bit 5.
    let read_only = payload.get(26).is_some_and(|f| f & 0x20 != 0);
    // The client swapped each byte's nibbles and XORed it with 0xA5.
    let mut plain: Vec<u8> = bytes(44)?
        .iter()
        .map(|b| (b ^ 0xA5).rotate_left(4))
        .collect();
    let password = utf16_le(&plain).map(Secret::new);
    plain.iter_mut().for_each(|b| *b = 0);
    Ok(Login {
        user: utf16_le(bytes(40)?)?,
        password: password?,
        app: utf16_le(bytes(48)?)?,
        sspi: sspi_len > 0,
        read_only,
        database: utf16_le(bytes(68)?)?,
    })
}

/// A request: the statement and its parameters by name (`@P1` ...).
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub statement: String,
    pub params: Vec<(String, Value)>,
}

/// Skip ALL_HEADERS (MS-TDS 2.2.5.3).
fn skip_all_headers(c: &mut Cur) -> io::Result<()> {
    let total = c.u32()? as usize;
    if total < 4 {
        return Err(bad("ALL_HEADERS length is too short"));
    }
    c.take(total - 4)?;
    Ok(())
}

/// A transaction-manager request (MS-TDS 2.2.7.17), as pytds sends to
/// begin, commit and roll back: the reply that SQL Server gives, an
/// ENVCHANGE with the transaction descriptor, then DONE. The twin's ops
/// are not transactional; the descriptor is only what a client keeps.
pub fn transaction(payload: &[u8], descriptor: u64) -> io::Result<Reply> {
    let mut c = Cur::new(payload);
    skip_all_headers(&mut c)?;
    let kind = c.u16()?;
    let mut r = Reply::default();
    let d = descriptor.to_le_bytes();
    match kind {
        // TM_BEGIN_XACT: begin transaction (8), the new descriptor.
        5 => r.env_change_bytes(8, &d, &[]),
        // TM_COMMIT_XACT / TM_ROLLBACK_XACT: commit (9) / rollback (10), the old one.
        7 => r.env_change_bytes(9, &[], &d),
        8 => r.env_change_bytes(10, &[], &d),
        // TM_SAVE_XACT and the DTC requests change nothing here.
        9 | 0..=2 => {}
        other => {
            return Err(bad(format!(
                "transaction-manager request {other} is not simulated"
            )))
        }
    }
    r.done(false, false, None);
    Ok(r)
}

/// A SQL batch: the text after ALL_HEADERS.
pub fn parse_batch(payload: &[u8]) -> io::Result<Request> {
    let mut c = Cur::new(payload);
    skip_all_headers(&mut c)?;
    let rest = c.take(payload.len() - c.pos)?;
    Ok(Request {
        statement: utf16_le(rest)?,
        params: Vec::new(),
    })
}

/// An RPC request for `sp_executesql`: `@stmt`, `@params`, then values.
pub fn parse_rpc(payload: &[u8]) -> io::Result<Request> {
    let mut c = Cur::new(payload);
    skip_all_headers(&mut c)?;
    let name_len = c.u16()?;
    if name_len == 0xFFFF {
        let id = c.u16()?;
        if id != PROC_EXECUTESQL {
            return Err(bad(format!(
                "RPC procedure id {id} is not sp_executesql (10)"
            )));
        }
    } else {
        let name = c.utf16(name_len as usize)?;
        if !name.eq_ignore_ascii_case("sp_executesql") {
            return Err(bad(format!("RPC procedure {name} is not simulated")));
        }
    }
    c.u16()?; // option flags
    let mut values = Vec::new();
    while c.pos < payload.len() {
        let name = c.b_varchar()?;
        c.u8()?; // status flags
        values.push((name, param_value(&mut c)?));
    }
    let mut values = values.into_iter();
    let statement = match values.next() {
        Some((_, Value::String(s))) => s,
        _ => return Err(bad("sp_executesql without a statement")),
    };
    values.next(); // the @params declaration
    Ok(Request {
        statement,
        params: values.collect(),
    })
}

/// One RPC parameter value: the types tiberius sends for strings and integers.
fn param_value(c: &mut Cur) -> io::Result<Value> {
    let ty = c.u8()?;
    match ty {
        // NVARCHAR / NCHAR
        0xE7 | 0xEF => {
            let max = c.u16()?;
            c.take(5)?; // collation
            if max == 0xFFFF {
                return plp_text(c);
            }
            let len = c.u16()?;
            if len == 0xFFFF {
                return Ok(Value::Null);
            }
            Ok(Value::String(utf16_le(c.take(len as usize)?)?))
        }
        // INTN
        0x26 => {
            c.u8()?; // max length
            let len = c.u8()?;
            let b = c.take(len as usize)?;
            Ok(match len {
                0 => Value::Null,
                1 => Value::from(b[0] as i64),
                2 => Value::from(i16::from_le_bytes([b[0], b[1]]) as i64),
                4 => Value::from(i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as i64),
                8 => {
                    let mut a = [0u8; 8];
                    a.copy_from_slice(b);
                    Value::from(i64::from_le_bytes(a))
                }
                n => return Err(bad(format!("INTN of length {n}"))),
            })
        }
        other => Err(bad(format!(
            "parameter type 0x{other:02X} is not simulated by the lab"
        ))),
    }
}

/// A PLP (`nvarchar(max)`) value: total length, then chunks up to a zero one.
fn plp_text(c: &mut Cur) -> io::Result<Value> {
    let total = c.u64()?;
    if total == u64::MAX {
        return Ok(Value::Null);
    }
    let mut bytes = Vec::new();
    loop {
        let n = c.u32()? as usize;
        if n == 0 {
            break;
        }
        bytes.extend_from_slice(c.take(n)?);
        if bytes.len() > MAX_MESSAGE {
            return Err(bad("parameter too large"));
        }
    }
    Ok(Value::String(utf16_le(&bytes)?))
}

/// The tokens of one reply, built up and then written as one message.
#[derive(Default)]
pub struct Reply {
    buf: Vec<u8>,
}

fn put_b_varchar(buf: &mut Vec<u8>, s: &str) {
    let units: Vec<u16> = s.encode_utf16().take(255).collect();
    buf.push(units.len() as u8);
    for u in units {
        buf.extend_from_slice(&u.to_le_bytes());
    }
}

fn put_us_varchar(buf: &mut Vec<u8>, s: &str) {
    let units: Vec<u16> = s.encode_utf16().take(u16::MAX as usize).collect();
    buf.extend_from_slice(&(units.len() as u16).to_le_bytes());
    for u in units {
        buf.extend_from_slice(&u.to_le_bytes());
    }
}

impl Reply {
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    fn token_with_len(&mut self, token: u8, body: &[u8]) {
        self.buf.push(token);
        self.buf
            .extend_from_slice(&(body.len().min(u16::MAX as usize) as u16).to_le_bytes());
        self.buf.extend_from_slice(body);
    }

    pub fn env_change(&mut self, kind: u8, new: &str, old: &str) {
        let mut body = vec![kind];
        put_b_varchar(&mut body, new);
        put_b_varchar(&mut body, old);
        self.token_with_len(0xE3, &body);
    }

    /// ENVCHANGE with B_VARBYTE values (transaction descriptors).
    pub fn env_change_bytes(&mut self, kind: u8, new: &[u8], old: &[u8]) {
        let mut body = vec![kind, new.len() as u8];
        body.extend_from_slice(new);
        body.push(old.len() as u8);
        body.extend_from_slice(old);
        self.token_with_len(0xE3, &body);
    }

    /// LOGINACK: the TDS version (big-endian) and the program version.
    pub fn login_ack(&mut self, tds_version: u32, program: [u8; 4]) {
        let mut body = vec![0x01]; // SQL_TSQL
        body.extend_from_slice(&tds_version.to_be_bytes());
        put_b_varchar(&mut body, "Microsoft SQL Server");
        body.extend_from_slice(&program);
        self.token_with_len(0xAD, &body);
    }

    /// INFO: an ERROR token's layout, class 10 (`N percent processed.`).
    pub fn info(&mut self, number: i32, message: &str, server: &str) {
        self.message(0xAB, number, 10, message, server);
    }

    /// ERROR: number, state, class, message, server, procedure, line.
    pub fn error(&mut self, number: i32, class: u8, message: &str, server: &str) {
        self.message(0xAA, number, class, message, server);
    }

    fn message(&mut self, token: u8, number: i32, class: u8, message: &str, server: &str) {
        let mut body = Vec::new();
        body.extend_from_slice(&number.to_le_bytes());
        body.push(1); // state
        body.push(class);
        put_us_varchar(&mut body, message);
        put_b_varchar(&mut body, server);
        put_b_varchar(&mut body, "");
        body.extend_from_slice(&1u32.to_le_bytes()); // line
        self.token_with_len(token, &body);
    }

    fn done_token(&mut self, token: u8, status: u16, rows: Option<u64>) {
        self.buf.push(token);
        let status = status | if rows.is_some() { DONE_COUNT } else { 0 };
        self.buf.extend_from_slice(&status.to_le_bytes());
        self.buf.extend_from_slice(&0u16.to_le_bytes()); // current command
        self.buf.extend_from_slice(&rows.unwrap_or(0).to_le_bytes());
    }

    /// DONE: the end of a batch statement (`more` if others follow).
    pub fn done(&mut self, more: bool, error: bool, rows: Option<u64>) {
        let status = (if more { DONE_MORE } else { 0 }) | (if error { DONE_ERROR } else { 0 });
        self.done_token(0xFD, status, rows);
    }

    pub fn done_attention(&mut self) {
        self.done_token(0xFD, DONE_ATTN, None);
    }

    /// DONEINPROC: the end of one statement inside a procedure (sp_executesql).
    pub fn done_in_proc(&mut self, error: bool, rows: Option<u64>) {
        let status = DONE_MORE | if error { DONE_ERROR } else { 0 };
        self.done_token(0xFF, status, rows);
    }

    /// RETURNSTATUS then the final DONEPROC of an RPC.
    pub fn end_proc(&mut self, status: i32, error: bool) {
        self.buf.push(0x79);
        self.buf.extend_from_slice(&status.to_le_bytes());
        self.done_token(0xFE, if error { DONE_ERROR } else { 0 }, None);
    }

    /// COLMETADATA then one ROW per row.
    pub fn result_set(&mut self, columns: &[Column], rows: &[Vec<Value>]) {
        self.buf.push(0x81);
        self.buf
            .extend_from_slice(&(columns.len() as u16).to_le_bytes());
        for col in columns {
            self.buf.extend_from_slice(&0u32.to_le_bytes()); // user type
            self.buf.extend_from_slice(&0x0001u16.to_le_bytes()); // nullable
            column_wire::put_type_info(col.ty, &mut self.buf);
            put_b_varchar(&mut self.buf, &col.name);
        }
        for row in rows {
            self.buf.push(0xD1);
            for (col, v) in columns.iter().zip(row) {
                column_wire::put_value(col.ty, &mut self.buf, v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_split_into_packets_and_reassemble() {
        let payload: Vec<u8> = (0..10_000u32).map(|i| i as u8).collect();
        let mut wire = Vec::new();
        write_message(&mut wire, PKT_REPLY, &payload).unwrap();
        assert_eq!(wire.len(), payload.len() + 3 * 8);
        let mut r = &wire[..];
        let (kind, back) = read_message(&mut r).unwrap().unwrap();
        assert_eq!((kind, back), (PKT_REPLY, payload));
        assert!(read_message(&mut r).unwrap().is_none());
    }

    #[test]
    fn hostile_packets_are_errors_not_panics() {
        for wire in [
            vec![0x12, 0x01, 0x00, 0x02, 0, 0, 1, 0],
            vec![0x12, 0x00, 0x00, 0x08, 0, 0, 1, 0],
            vec![0x12, 0x01, 0xFF, 0xFF, 0, 0, 1, 0, 1, 2],
        ] {
            assert!(read_message(&mut &wire[..]).is_err());
        }
        for payload in [&[][..], &[1, 2, 3], &[0xFF; 40], &[0; 100]] {
            let _ = parse_rpc(payload);
            let _ = parse_batch(payload);
            let _ = parse_login7(payload);
            let _ = prelogin_encryption(payload);
        }
    }

    #[test]
    fn prelogin_reply_says_the_negotiated_encryption() {
        for e in [0x00, 0x01, 0x02, 0x03] {
            assert_eq!(prelogin_encryption(&prelogin_reply(e)).unwrap(), Some(e));
        }
    }
}
