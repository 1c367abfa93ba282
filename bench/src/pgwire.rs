//! A recording proxy for PostgreSQL's wire protocol: it sits between a service and the
//! server, forwards every byte unchanged, and reads the client's side to record each
//! statement the service executes, with its bound values as SQL literals, and each round
//! trip (a `Sync` or a simple query). The bench uses it to capture exactly what one
//! command sends, to replay the same statements with pgbench.
//!
//! It understands the extended protocol as sqlx speaks it (Parse with parameter types,
//! Bind with binary or text values, Execute, Sync) and simple queries; SSL is declined by
//! the server on loopback and passes through as bytes.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};

/// What a client sent, in order: an executed statement (its text with `$n`
/// placeholders and its values as literals) or the end of a round trip.
#[derive(Debug, Clone)]
pub enum Sent {
    Statement {
        connection: usize,
        sql: String,
        values: Vec<String>,
    },
    /// A `Sync` (or a simple query): the client waits for the server's answer;
    /// `prepare` when it only prepared statements (nothing executed since the last).
    RoundTrip { connection: usize, prepare: bool },
}

impl Sent {
    /// The connection it was sent on.
    pub fn connection(&self) -> usize {
        match self {
            Sent::Statement { connection, .. } | Sent::RoundTrip { connection, .. } => *connection,
        }
    }
}

#[derive(Debug, Default)]
struct Log {
    recording: bool,
    sent: Vec<Sent>,
}

/// A running proxy; clone it to share the log.
#[derive(Debug, Clone)]
pub struct Proxy {
    pub address: SocketAddr,
    log: Arc<Mutex<Log>>,
}

impl Proxy {
    /// Listens on a loopback port and forwards each connection to `upstream`.
    pub async fn start(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let address = listener.local_addr().expect("proxy address");
        let log = Arc::new(Mutex::new(Log::default()));
        let shared = log.clone();
        tokio::spawn(async move {
            let mut next = 0;
            while let Ok((client, _)) = listener.accept().await {
                next += 1;
                let log = shared.clone();
                tokio::spawn(async move {
                    if let Ok(server) = TcpStream::connect(upstream).await {
                        relay(next, client, server, log).await;
                    }
                });
            }
        });
        Proxy { address, log }
    }

    /// Starts recording, forgetting what was recorded before.
    pub fn record(&self) {
        let mut log = self.log.lock().expect("proxy log");
        log.recording = true;
        log.sent.clear();
    }

    /// Stops recording and returns what was sent since [`Proxy::record`].
    pub fn stop(&self) -> Vec<Sent> {
        let mut log = self.log.lock().expect("proxy log");
        log.recording = false;
        std::mem::take(&mut log.sent)
    }
}

async fn relay(connection: usize, client: TcpStream, server: TcpStream, log: Arc<Mutex<Log>>) {
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let down = tokio::spawn(async move {
        let _ = tokio::io::copy(&mut server_read, &mut client_write).await;
    });
    let mut reader = Reader {
        connection,
        buffer: Vec::new(),
        started: false,
        statements: HashMap::new(),
        executed_since_sync: false,
        portals: HashMap::new(),
        log,
    };
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let n = match client_read.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if server_write.write_all(&chunk[..n]).await.is_err() {
            break;
        }
        reader.feed(&chunk[..n]);
    }
    let _ = server_write.shutdown().await;
    down.abort();
}

/// A prepared statement: its text and parameter type OIDs.
#[derive(Debug, Clone)]
struct Prepared {
    sql: String,
    types: Vec<u32>,
}

struct Reader {
    connection: usize,
    buffer: Vec<u8>,
    /// Past the untyped start-up messages (SSL request, startup).
    started: bool,
    statements: HashMap<String, Prepared>,
    executed_since_sync: bool,
    portals: HashMap<String, (Prepared, Vec<String>)>,
    log: Arc<Mutex<Log>>,
}

impl Reader {
    fn feed(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
        loop {
            let consumed = if self.started {
                let Some(&[tag, a, b, c, d]) = self
                    .buffer
                    .get(..5)
                    .map(|s| <&[u8; 5]>::try_from(s).expect("five bytes"))
                else {
                    return;
                };
                let len = u32::from_be_bytes([a, b, c, d]) as usize;
                if self.buffer.len() < 1 + len {
                    return;
                }
                let body = self.buffer[5..1 + len].to_vec();
                self.message(tag, &body);
                1 + len
            } else {
                let Some(head) = self.buffer.get(..8) else {
                    return;
                };
                let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
                let code = u32::from_be_bytes([head[4], head[5], head[6], head[7]]);
                if self.buffer.len() < len {
                    return;
                }
                // 80877103: SSLRequest, 80877104: GSSENCRequest; anything else is the
                // startup message, after which every message is typed.
                if code != 80_877_103 && code != 80_877_104 {
                    self.started = true;
                }
                len
            };
            self.buffer.drain(..consumed);
        }
    }

    fn message(&mut self, tag: u8, body: &[u8]) {
        let mut r = Cursor { body, at: 0 };
        match tag {
            b'P' => {
                let name = r.cstr();
                let sql = r.cstr();
                let n = r.i16() as usize;
                let types = (0..n).map(|_| r.i32() as u32).collect();
                self.statements.insert(name, Prepared { sql, types });
            }
            b'B' => {
                let portal = r.cstr();
                let name = r.cstr();
                let Some(prepared) = self.statements.get(&name).cloned() else {
                    return;
                };
                let formats: Vec<i16> = (0..r.i16()).map(|_| r.i16()).collect();
                let count = r.i16() as usize;
                let values = (0..count)
                    .map(|i| {
                        let len = r.i32();
                        let format = match formats.len() {
                            0 => 0,
                            1 => formats[0],
                            _ => formats.get(i).copied().unwrap_or(0),
                        };
                        let oid = prepared.types.get(i).copied().unwrap_or(0);
                        if len < 0 {
                            "null".to_owned()
                        } else {
                            literal(oid, format == 1, r.take(len as usize))
                        }
                    })
                    .collect();
                self.portals.insert(portal, (prepared, values));
            }
            b'E' => {
                self.executed_since_sync = true;
                let portal = r.cstr();
                if let Some((prepared, values)) = self.portals.get(&portal).cloned() {
                    self.push(prepared.sql, values);
                }
            }
            b'Q' => {
                let sql = r.cstr();
                self.push(sql, Vec::new());
                self.round_trip(false);
            }
            b'S' => {
                self.round_trip(!self.executed_since_sync);
                self.executed_since_sync = false;
            }
            _ => {}
        }
    }

    fn push(&self, sql: String, values: Vec<String>) {
        let mut log = self.log.lock().expect("proxy log");
        if log.recording {
            log.sent.push(Sent::Statement {
                connection: self.connection,
                sql,
                values,
            });
        }
    }

    fn round_trip(&self, prepare: bool) {
        let mut log = self.log.lock().expect("proxy log");
        if log.recording {
            log.sent.push(Sent::RoundTrip {
                connection: self.connection,
                prepare,
            });
        }
    }
}

struct Cursor<'a> {
    body: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn take(&mut self, n: usize) -> &[u8] {
        let end = (self.at + n).min(self.body.len());
        let s = &self.body[self.at..end];
        self.at = end;
        s
    }
    fn cstr(&mut self) -> String {
        let rest = &self.body[self.at.min(self.body.len())..];
        let end = rest.iter().position(|b| *b == 0).unwrap_or(rest.len());
        let s = String::from_utf8_lossy(&rest[..end]).into_owned();
        self.at += end + 1;
        s
    }
    fn i16(&mut self) -> i16 {
        let b = self.take(2);
        if b.len() < 2 {
            0
        } else {
            i16::from_be_bytes([b[0], b[1]])
        }
    }
    fn i32(&mut self) -> i32 {
        let b = self.take(4);
        if b.len() < 4 {
            0
        } else {
            i32::from_be_bytes([b[0], b[1], b[2], b[3]])
        }
    }
}

/// A bound value as an SQL literal, from its type OID and (binary or text) format.
fn literal(oid: u32, binary: bool, bytes: &[u8]) -> String {
    let quote = |s: &str| format!("'{}'", s.replace('\'', "''"));
    if !binary {
        return quote(&String::from_utf8_lossy(bytes));
    }
    let be8 = |b: &[u8]| <[u8; 8]>::try_from(b).ok().map(i64::from_be_bytes);
    let be4 = |b: &[u8]| <[u8; 4]>::try_from(b).ok().map(i32::from_be_bytes);
    let epoch = chrono::NaiveDate::from_ymd_opt(2000, 1, 1).expect("2000-01-01");
    match oid {
        16 => (if bytes.first() == Some(&1) {
            "true"
        } else {
            "false"
        })
        .to_owned(),
        20 => be8(bytes).map_or_else(|| "null".into(), |v| v.to_string()),
        23 => be4(bytes).map_or_else(|| "null".into(), |v| v.to_string()),
        21 => <[u8; 2]>::try_from(bytes)
            .map_or_else(|_| "null".into(), |b| i16::from_be_bytes(b).to_string()),
        25 | 1043 | 19 => quote(&String::from_utf8_lossy(bytes)),
        2950 => {
            uuid::Uuid::from_slice(bytes).map_or_else(|_| "null".into(), |u| format!("'{u}'::uuid"))
        }
        1082 => be4(bytes)
            .and_then(|d| epoch.checked_add_signed(chrono::Duration::days(d.into())))
            .map_or_else(|| "null".into(), |d| format!("'{d}'::date")),
        1114 | 1184 => be8(bytes)
            .and_then(|us| {
                epoch
                    .and_hms_opt(0, 0, 0)?
                    .checked_add_signed(chrono::Duration::microseconds(us))
            })
            .map_or_else(
                || "null".into(),
                |t| {
                    let cast = if oid == 1184 {
                        "timestamptz"
                    } else {
                        "timestamp"
                    };
                    format!("'{}'::{cast}", t.format("%Y-%m-%d %H:%M:%S%.6f"))
                },
            ),
        17 => format!(
            "'\\x{}'::bytea",
            bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
        ),
        3802 | 114 => {
            // jsonb's binary form starts with a version byte.
            let text = if oid == 3802 {
                bytes.get(1..).unwrap_or_default()
            } else {
                bytes
            };
            format!(
                "{}::{}",
                quote(&String::from_utf8_lossy(text)),
                if oid == 3802 { "jsonb" } else { "json" }
            )
        }
        _ => format!(
            "'\\x{}'",
            bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(tag: u8, body: &[u8]) -> Vec<u8> {
        let mut m = vec![tag];
        m.extend_from_slice(&(body.len() as u32 + 4).to_be_bytes());
        m.extend_from_slice(body);
        m
    }

    fn cstr(s: &str) -> Vec<u8> {
        let mut b = s.as_bytes().to_vec();
        b.push(0);
        b
    }

    fn reader() -> (Reader, Arc<Mutex<Log>>) {
        let log = Arc::new(Mutex::new(Log {
            recording: true,
            sent: Vec::new(),
        }));
        let reader = Reader {
            connection: 7,
            buffer: Vec::new(),
            started: false,
            statements: HashMap::new(),
            executed_since_sync: false,
            portals: HashMap::new(),
            log: log.clone(),
        };
        (reader, log)
    }

    #[test]
    fn binary_values_become_the_literals_postgres_reads_back() {
        let id = uuid::Uuid::parse_str("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b").expect("uuid");
        assert_eq!(
            literal(2950, true, id.as_bytes()),
            "'0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b'::uuid"
        );
        // Days and microseconds since 2000-01-01.
        assert_eq!(
            literal(1082, true, &9516i32.to_be_bytes()),
            "'2026-01-20'::date"
        );
        assert_eq!(
            literal(1082, true, &(-1i32).to_be_bytes()),
            "'1999-12-31'::date"
        );
        assert_eq!(
            literal(1184, true, &1_500_000i64.to_be_bytes()),
            "'2000-01-01 00:00:01.500000'::timestamptz"
        );
        assert_eq!(literal(23, true, &9000i32.to_be_bytes()), "9000");
        assert_eq!(literal(20, true, &(-3i64).to_be_bytes()), "-3");
        assert_eq!(literal(16, true, &[1]), "true");
        assert_eq!(literal(17, true, &[0x0a, 0xff]), "'\\x0aff'::bytea");
        assert_eq!(literal(25, true, b"l'eau"), "'l''eau'");
        assert_eq!(literal(25, false, b"x"), "'x'");
    }

    #[test]
    fn a_statement_prepared_once_is_recorded_at_each_execution_with_its_values() {
        let (mut r, log) = reader();
        // SSLRequest, then the startup message: both untyped.
        let mut bytes = 8u32.to_be_bytes().to_vec();
        bytes.extend_from_slice(&80_877_103u32.to_be_bytes());
        let mut startup = 196_608u32.to_be_bytes().to_vec();
        startup.extend(cstr("user"));
        startup.extend(cstr("postgres"));
        startup.push(0);
        bytes.extend_from_slice(&(startup.len() as u32 + 4).to_be_bytes());
        bytes.extend(startup);
        // Parse "s1" with one int4 parameter, Describe, Sync: a round trip that prepares.
        let mut parse = cstr("s1");
        parse.extend(cstr("SELECT $1"));
        parse.extend_from_slice(&1i16.to_be_bytes());
        parse.extend_from_slice(&23i32.to_be_bytes());
        bytes.extend(message(b'P', &parse));
        bytes.extend(message(b'S', &[]));
        // Bind (binary) 42, Execute, Sync; twice.
        for value in [42i32, 43] {
            let mut bind = cstr("");
            bind.extend(cstr("s1"));
            bind.extend_from_slice(&1i16.to_be_bytes());
            bind.extend_from_slice(&1i16.to_be_bytes());
            bind.extend_from_slice(&1i16.to_be_bytes());
            bind.extend_from_slice(&4i32.to_be_bytes());
            bind.extend_from_slice(&value.to_be_bytes());
            bind.extend_from_slice(&0i16.to_be_bytes());
            bytes.extend(message(b'B', &bind));
            let mut execute = cstr("");
            execute.extend_from_slice(&0i32.to_be_bytes());
            bytes.extend(message(b'E', &execute));
            bytes.extend(message(b'S', &[]));
        }
        bytes.extend(message(b'Q', &cstr("COMMIT")));
        // Fed in pieces, as TCP delivers them.
        for piece in bytes.chunks(5) {
            r.feed(piece);
        }
        let sent = std::mem::take(&mut log.lock().expect("log").sent);
        let shown: Vec<String> = sent
            .iter()
            .map(|s| match s {
                Sent::Statement { sql, values, .. } => format!("{sql} {values:?}"),
                Sent::RoundTrip { prepare, .. } => format!("sync prepare={prepare}"),
            })
            .collect();
        assert_eq!(
            shown,
            [
                "sync prepare=true",
                "SELECT $1 [\"42\"]",
                "sync prepare=false",
                "SELECT $1 [\"43\"]",
                "sync prepare=false",
                "COMMIT []",
                "sync prepare=false",
            ]
        );
        assert!(sent.iter().all(|s| s.connection() == 7));
    }
}
