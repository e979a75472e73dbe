//! Live T-SQL: each op's parameterized text sent with tiberius to the SQL
//! instance the estate describes, over one reused connection per instance.
//!
//! Server errors keep SQL Server's number, class and message (runbooks match
//! on 4326, 4305, ...). A connection that cannot be made is classified by
//! `outcome` (unreachable only if the server never answered); one that
//! breaks or times out is `Unreachable`, naming the instance, and is dropped
//! so the next op reconnects; an answer that is not TDS is `Unchecked`. A
//! read whose pooled connection was dropped meanwhile is asked again once on
//! a new connection; a change is never retried here: one that may have
//! reached the server is for the run's resume logic to judge.
//!
//! Long restores and backups show progress: `sys.dm_exec_requests` is polled
//! for the session's `percent_complete` on a second connection (tiberius
//! does not surface the INFO messages of `WITH STATS`).

use super::answered::Watched;
use super::connect::Endpoint;
use crate::op::{Op, SqlParam};
use crate::targets::SqlSession;
use crate::targets::{Failed, OpError};
use crate::wire::{progress_query, session_running_query, SPID_QUERY};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::time::Duration;
use tiberius::{Client, ToSql};
use tokio::runtime::Runtime;
use tokio_util::compat::Compat;

/// How often a long op's progress is polled.
const POLL_EVERY: Duration = Duration::from_secs(1);

pub type Conn = Client<Compat<Watched>>;

/// Open connections, by instance id.
#[derive(Default)]
pub struct Sql {
    pub endpoints: BTreeMap<String, Endpoint>,
    conns: BTreeMap<String, Conn>,
    pollers: BTreeMap<String, Conn>,
    /// Each main connection's session: id and login time (`wire::SPID_QUERY`).
    spids: BTreeMap<String, (i64, String)>,
}

/// Ops worth a progress bar: they move whole backups.
fn is_long(op: &Op) -> bool {
    matches!(
        op,
        Op::RestoreLog { .. }
            | Op::RestoreDatabase { .. }
            | Op::BackupDatabase { .. }
            | Op::RecoverDatabase { .. }
    )
}

/// A tiberius error as the op's error; `true` if the connection is no
/// longer usable.
pub fn op_error(ep: &Endpoint, e: tiberius::error::Error) -> (OpError, bool) {
    use tiberius::error::Error as E;
    match e {
        E::Server(t) => (
            OpError::Sql {
                number: t.code() as i32,
                class: t.class(),
                message: t.message().to_string(),
            },
            false,
        ),
        E::Io {
            kind: std::io::ErrorKind::TimedOut,
            message,
        } => (
            ep.unreachable(format!(
                "no answer within {} s (command_timeout_seconds): {message}; the connection was dropped",
                ep.command_timeout.as_secs()
            )),
            true,
        ),
        E::Io { message, .. } => (
            ep.unreachable(format!("the connection to {} failed: {message}", ep.address())),
            true,
        ),
        // The server answered something that is not TDS as we know it.
        other => (
            OpError::Unchecked {
                host: ep.name.clone(),
                failed: Failed::Protocol,
                message: format!(
                    "the answer from {} was not understood: {other}; the connection was dropped",
                    ep.address()
                ),
            },
            true,
        ),
    }
}

/// The connection broke (not a timeout: a server still working is not asked twice).
fn is_dropped(e: &tiberius::error::Error) -> bool {
    matches!(e, tiberius::error::Error::Io { kind, .. } if *kind != std::io::ErrorKind::TimedOut)
}

async fn query(conn: &mut Conn, text: &str, params: &[SqlParam]) -> tiberius::Result<Value> {
    let values: Vec<&str> = params.iter().map(|SqlParam::Text(s)| s.as_str()).collect();
    let refs: Vec<&dyn ToSql> = values.iter().map(|s| s as &dyn ToSql).collect();
    let stream = conn.query(text, &refs).await?;
    let sets = stream.into_results().await?;
    Ok(super::rows::rows(sets.into_iter().flatten().collect()))
}

/// Poll `session_id`'s progress on a second connection into `bar`, forever;
/// a poll that fails only stops the bar moving.
async fn poll(ep: &Endpoint, poller: &mut Option<Conn>, session_id: i64, bar: &ProgressBar) {
    let text = progress_query(session_id);
    loop {
        tokio::time::sleep(POLL_EVERY).await;
        if poller.is_none() {
            match ep.connect().await {
                Ok(c) => *poller = Some(c),
                Err(_) => break,
            }
        }
        let Some(conn) = poller.as_mut() else { break };
        match query(conn, &text, &[]).await {
            Ok(Value::Array(rows)) => {
                let pct = rows
                    .first()
                    .and_then(|r| r.get("percent_complete"))
                    .and_then(Value::as_f64)
                    .unwrap_or(0.0);
                let pct = pct.clamp(0.0, 100.0) as u64;
                // Without a terminal to draw on, say it in the log instead.
                if bar.is_hidden() && pct != bar.position() {
                    eprintln!("    {pct:>3}% {}", bar.message());
                }
                bar.set_position(pct);
            }
            _ => {
                *poller = None;
                break;
            }
        }
    }
    std::future::pending::<()>().await
}

fn progress_bar(text: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(
        Some(100),
        if std::io::stderr().is_terminal() {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        },
    );
    if let Ok(style) = ProgressStyle::with_template("    {bar:30} {pos:>3}% {msg}") {
        bar.set_style(style);
    }
    bar.set_message(text.chars().take(100).collect::<String>());
    bar
}

impl Sql {
    /// The open connection to `id`, connecting if there is none.
    async fn conn(
        ep: &Endpoint,
        conns: &mut BTreeMap<String, Conn>,
        id: &str,
    ) -> Result<Conn, OpError> {
        match conns.remove(id) {
            Some(c) => Ok(c),
            None => ep.connect().await,
        }
    }

    /// The session id of `id`'s main connection, asked once.
    async fn spid(&mut self, id: &str, conn: &mut Conn) -> Option<i64> {
        Some(self.login(id, conn).await?.0)
    }

    /// The session id and login time of `id`'s main connection, asked once.
    async fn login(&mut self, id: &str, conn: &mut Conn) -> Option<(i64, String)> {
        if let Some(s) = self.spids.get(id) {
            return Some(s.clone());
        }
        let rows = query(conn, SPID_QUERY, &[]).await.ok()?;
        let row = rows.get(0)?;
        let spid = row.get("spid")?.as_i64()?;
        let login_time = row
            .get("login_time")
            .and_then(Value::as_str)
            .unwrap_or_default();
        self.spids
            .insert(id.to_string(), (spid, login_time.to_string()));
        Some((spid, login_time.to_string()))
    }

    /// The session `op` will be sent on: connect to its instance now (a
    /// failure is left to `perform`, which reports it) and name the session.
    pub fn session(&mut self, rt: &Runtime, op: &Op) -> Option<SqlSession> {
        let id = op.host();
        let ep = self.endpoints.get(&id).cloned()?;
        rt.block_on(async {
            let mut conn = Self::conn(&ep, &mut self.conns, &id).await.ok()?;
            let login = self.login(&id, &mut conn).await;
            self.conns.insert(id.clone(), conn);
            let (spid, login_time) = login?;
            Some(SqlSession {
                instance: id.clone(),
                spid,
                login_time,
            })
        })
    }

    /// What `session` is running now, if it runs a request.
    pub fn still_running(
        &mut self,
        rt: &Runtime,
        session: &SqlSession,
    ) -> Result<Option<String>, OpError> {
        let id = &session.instance;
        let Some(ep) = self.endpoints.get(id).cloned() else {
            return Ok(None);
        };
        let Some(text) = session_running_query(session.spid, &session.login_time) else {
            return Ok(None);
        };
        rt.block_on(async {
            let mut conn = Self::conn(&ep, &mut self.conns, id).await?;
            let rows = query(&mut conn, &text, &[]).await;
            self.conns.insert(id.clone(), conn);
            let rows = rows.map_err(|e| op_error(&ep, e).0)?;
            Ok(rows.get(0).map(|r| {
                let field = |k: &str| r.get(k).and_then(Value::as_str).unwrap_or("?").to_string();
                format!("{} ({})", field("cmd"), field("status"))
            }))
        })
    }

    pub fn perform(&mut self, rt: &Runtime, op: &Op) -> Result<Value, OpError> {
        let id = op.host();
        let Some(ep) = self.endpoints.get(&id).cloned() else {
            return Err(OpError::Unreachable {
                host: id.clone(),
                message: format!(
                    "`{id}` is not a SQL instance of the estate file (its [sql.*] tables)"
                ),
            });
        };
        // The values were checked by `render` before the op was journaled;
        // this cannot refuse what that accepted.
        let (text, params) = op.render_parameterized().map_err(|q| OpError::Sql {
            number: 0,
            class: 16,
            message: q.to_string(),
        })?;
        rt.block_on(async {
            let pooled = self.conns.contains_key(&id);
            let mut conn = Self::conn(&ep, &mut self.conns, &id).await?;
            let result = if is_long(op) {
                let spid = self.spid(&id, &mut conn).await;
                let bar = progress_bar(&op.render().unwrap_or_else(|_| text.clone()));
                let mut poller = self.pollers.remove(&id);
                let result = match spid {
                    Some(spid) => {
                        tokio::select! {
                            r = query(&mut conn, &text, &params) => r,
                            () = poll(&ep, &mut poller, spid, &bar) => Ok(Value::Null),
                        }
                    }
                    None => query(&mut conn, &text, &params).await,
                };
                bar.finish_and_clear();
                if let Some(p) = poller {
                    self.pollers.insert(id.clone(), p);
                }
                result
            } else {
                query(&mut conn, &text, &params).await
            };
            // A read on a pooled connection the server or the network
            // dropped meanwhile is asked again, once, on a new connection.
            let (result, conn) = match result {
                Err(e) if pooled && !op.is_change() && is_dropped(&e) => {
                    self.spids.remove(&id);
                    let mut fresh = ep.connect().await?;
                    (query(&mut fresh, &text, &params).await, fresh)
                }
                other => (other, conn),
            };
            match result {
                Ok(v) => {
                    self.conns.insert(id.clone(), conn);
                    Ok(v)
                }
                Err(e) => {
                    let (err, broken) = op_error(&ep, e);
                    if broken {
                        self.spids.remove(&id);
                    } else {
                        self.conns.insert(id.clone(), conn);
                    }
                    Err(err)
                }
            }
        })
    }
}
