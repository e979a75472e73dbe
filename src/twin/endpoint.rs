//! One TDS endpoint: the connections to one lab SQL instance, a thread each.
//!
//! A connection is PRELOGIN (with TLS as `tls` negotiates it: none, around
//! LOGIN7 only, or the whole session), LOGIN7 (the twin's one login and
//! password, else error 18456), then requests until the client leaves.
//! Each statement is parsed back into an op and performed on the lab file
//! under its lock.
//!
//! A down instance does not answer at all, as a stopped server or a dead
//! host does: its port refuses connections (`listener.rs`); one that came
//! in just as it went down is closed before a single byte is sent (the
//! client sees it reset before any TDS answer: unreachable). The lab charges
//! no simulated time for an op that reached no one, so the clock stays as
//! under `--target lab`. An open connection whose instance goes down has its
//! op performed and is dropped without an answer, as a server that vanished. A
//! session that logs in with ApplicationIntent=ReadOnly (a plan's) only
//! reads, and its reads leave the lab file untouched, clock included.

use super::chatter::{self, Chatter};
use super::guard::{Guarded, Slot, LOGIN_MESSAGE_MAX, SESSION_MESSAGE_MAX};
use super::parse::{parse, Statement};
use super::tds::{self, Reply, Request};
use super::tls::{self, Link, Plan};
use super::{
    agent_jobs, catalog, columns, listener, login_reply, naming, select_list, stalls, Twin,
};
use crate::targets::{OpError, Performed};
use serde_json::{json, Map, Value};
use std::io;
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// SQL Server's number for "Login failed for user".
const LOGIN_FAILED: i32 = 18456;
const CANNOT_OPEN_DEFAULT_DATABASE: i32 = 4064;

/// The login's default database when the client named none and the twin
/// models that default as one that cannot be opened (any but a system
/// database: `lab serve --login-default-database`).
fn unopenable_default<'a>(twin: &'a Twin, asked: &str) -> Option<&'a str> {
    let default = twin.login_default_database.as_deref()?;
    let system = ["master", "tempdb", "model", "msdb"]
        .iter()
        .any(|s| s.eq_ignore_ascii_case(default));
    (asked.is_empty() && !system).then_some(default)
}
/// The number the twin gives "not simulated by the lab" (the user-error range).
const NOT_SIMULATED: i32 = 50000;

/// Accept connections for one instance until the process ends: at most
/// `twin.limits.max_connections` at once (`guard.rs`); one more is closed
/// before a byte is read, and the endpoint goes on. While the instance is
/// `down`, the port is not listened on at all (`listener.rs`).
pub fn accept(twin: Arc<Twin>, instance: String, listener: TcpListener, down: Arc<AtomicBool>) {
    let open = Arc::new(AtomicUsize::new(0));
    let Ok(port) = listener.local_addr().map(|a| a.port()) else {
        return;
    };
    let mut listening = Some(listener);
    loop {
        listener::follow(&mut listening, &down, port);
        let Some(l) = &listening else { continue };
        let Ok((stream, _)) = l.accept() else {
            continue;
        };
        if down.load(Ordering::SeqCst) {
            // The watcher's wake-up, or a client a moment too early.
            drop(stream);
            continue;
        }
        let Some(slot) = Slot::take(&open, twin.limits.max_connections) else {
            drop(stream);
            continue;
        };
        let twin = twin.clone();
        let instance = instance.clone();
        std::thread::spawn(move || {
            let _slot = slot;
            if is_down(&twin, &instance) {
                // Down since the watcher last looked: closed unread, the
                // client's PRELOGIN makes it a reset. The lab charges no
                // time for an op that reached no one, so nothing is
                // performed here and a plan's attempt leaves the lab as it was.
                drop(stream);
                return;
            }
            // A client that goes away or sends garbage ends its own
            // connection only; the endpoint goes on.
            let _ = serve_connection(&twin, &instance, stream);
        });
    }
}

/// Is the instance down in the lab now? Nothing moves, nothing is saved.
pub fn is_down(twin: &Twin, instance: &str) -> bool {
    let Ok(mut lab) = twin.lab.lock() else {
        return false;
    };
    lab.refresh().is_ok() && lab.state.unreachable(instance)
}

/// Perform an op on the twin's lab. Changes are applied one at a time
/// under the lab's lock; a change's fdatasync is waited for after the lock
/// is let go, so the next client's op goes ahead meanwhile and concurrent
/// changes share their syncs (group commit). Its answer is still sent
/// only once it is on disk.
fn perform(twin: &Twin, op: &crate::op::Op, read_only: bool) -> crate::error::Result<Performed> {
    let (done, ticket) = {
        let Ok(mut lab) = twin.lab.lock() else {
            return Err(crate::error::Error::LabState {
                path: Default::default(),
                message: "an earlier op panicked while holding the lab".into(),
            });
        };
        if read_only {
            (lab.read(op)?, crate::lab::Durable::default())
        } else {
            lab.perform_deferred(op)?
        }
    };
    if op.is_change() {
        ticket.wait()?;
    }
    Ok(done)
}

/// How one request ended.
enum Answer {
    /// Rows, or no result set at all when there are none (a `SET`).
    Rows(Vec<Map<String, Value>>),
    /// A result set of these columns and no rows.
    Empty(Vec<String>),
    Error {
        number: i32,
        class: u8,
        message: String,
    },
    /// The instance is down: close without a word.
    Vanish,
}

fn serve_connection(twin: &Twin, instance: &str, stream: TcpStream) -> io::Result<()> {
    stream.set_nodelay(true)?;
    stream.set_write_timeout(Some(twin.limits.idle_timeout))?;
    let login_by = Instant::now() + twin.limits.login_timeout;
    let mut clear = Guarded::new(Link::Clear(stream));
    clear.allow(LOGIN_MESSAGE_MAX, login_by);
    let Some((kind, payload)) = tds::read_message(&mut clear)? else {
        return Ok(());
    };
    if kind != tds::PKT_PRELOGIN {
        return Ok(());
    }
    let asked = tds::prelogin_encryption(&payload).ok().flatten();
    let (encryption, plan) = tls::negotiate(twin.tls.offer, asked);
    tds::write_message(&mut clear, tds::PKT_REPLY, &tds::prelogin_reply(encryption))?;
    let Link::Clear(stream) = clear.into_inner() else {
        return Ok(());
    };
    // The TLS handshake counts against the login's time too.
    stream.set_read_timeout(Some(
        login_by
            .saturating_duration_since(Instant::now())
            .max(std::time::Duration::from_millis(1)),
    ))?;
    let mut link = Guarded::new(match plan {
        Plan::Refuse => return Ok(()),
        Plan::Clear => Link::Clear(stream),
        Plan::LoginOnly | Plan::Whole => twin.tls.accept(stream)?,
    });

    link.allow(LOGIN_MESSAGE_MAX, login_by);
    let Some((kind, payload)) = tds::read_message(&mut link)? else {
        return Ok(());
    };
    if kind != tds::PKT_LOGIN7 {
        return Ok(());
    }
    if plan == Plan::LoginOnly {
        link = Guarded::new(link.into_inner().end_tls());
    }
    let login = tds::parse_login7(&payload)?;
    let bad_credentials =
        login.sspi || login.user != twin.login || login.password.expose() != twin.password.expose();
    let refused = if bad_credentials {
        // As SQL Server does: the login is named, the password never.
        Some(None)
    } else {
        // As SQL Server does when a login names no database and its default
        // cannot be opened (say, a user database a failover left RESTORING).
        unopenable_default(twin, &login.database).map(|default| {
            Some(format!(
                "Cannot open user default database '{default}'. Login failed."
            ))
        })
    };
    if let Some(reason) = refused {
        let mut reply = Reply::default();
        if let Some(reason) = reason {
            reply.error(CANNOT_OPEN_DEFAULT_DATABASE, 11, &reason, instance);
        }
        reply.error(
            LOGIN_FAILED,
            14,
            &format!("Login failed for user '{}'.", login.user),
            instance,
        );
        reply.done(false, true, None);
        return tds::write_message(&mut link, tds::PKT_REPLY, &reply.into_bytes());
    }
    let read_only = login.read_only;
    drop(login);
    let major = twin.major(instance);
    let reply = login_reply::accepted(major);
    tds::write_message(&mut link, tds::PKT_REPLY, &reply.into_bytes())?;
    let spid = twin.next_spid.fetch_add(1, Ordering::Relaxed);
    let _session = Session::open(twin, spid);
    let mut answered = 0u64;

    loop {
        let idle_until = Instant::now() + twin.limits.idle_timeout;
        link.allow(SESSION_MESSAGE_MAX, idle_until);
        let Some((kind, payload)) = tds::read_message(&mut link)? else {
            return Ok(());
        };
        let (request, rpc) = match kind {
            tds::PKT_RPC => (tds::parse_rpc(&payload), true),
            tds::PKT_SQL_BATCH => (tds::parse_batch(&payload), false),
            tds::PKT_TRANSACTION => {
                let r = tds::transaction(&payload, spid as u64)?;
                tds::write_message(&mut link, tds::PKT_REPLY, &r.into_bytes())?;
                continue;
            }
            tds::PKT_ATTENTION => {
                let mut r = Reply::default();
                r.done_attention();
                tds::write_message(&mut link, tds::PKT_REPLY, &r.into_bytes())?;
                continue;
            }
            _ => return Ok(()),
        };
        let request_text = request
            .as_ref()
            .map(|r| r.statement.clone())
            .unwrap_or_default();
        // INFO messages a statement sends while it runs (WITH STATS).
        let mut progress = |pct: u32| {
            let mut r = Reply::default();
            r.info(
                PERCENT_PROCESSED,
                &format!("{pct} percent processed."),
                instance,
            );
            let _ = tds::write_partial(&mut link, tds::PKT_REPLY, &r.into_bytes());
        };
        let answer = match request {
            Ok(req) => answer(twin, instance, spid, read_only, &req, &mut progress),
            Err(e) => Answer::Error {
                number: NOT_SIMULATED,
                class: 16,
                message: format!("not simulated by the lab: {e}"),
            },
        };
        let mut r = Reply::default();
        match answer {
            Answer::Vanish => return Ok(()),
            Answer::Rows(_) | Answer::Empty(_) => {
                let n = match answer {
                    Answer::Rows(rows) if !rows.is_empty() => {
                        let (cols, values) = columns::shape(&rows);
                        r.result_set(&cols, &values);
                        rows.len() as u64
                    }
                    Answer::Empty(names) => {
                        r.result_set(&columns::empty(&names), &[]);
                        0
                    }
                    _ => 0,
                };
                if rpc {
                    r.done_in_proc(false, Some(n));
                    r.end_proc(0, false);
                } else {
                    r.done(false, false, Some(n));
                }
            }
            Answer::Error {
                number,
                class,
                message,
            } => {
                r.error(number, class, &message, instance);
                // As SQL Server does: a failed RESTORE or BACKUP says why
                // (4305, 4326, ...), then 3013 that it terminated.
                if let Some(terminated) = terminated(&request_text, number) {
                    r.error(3013, 16, &terminated, instance);
                }
                if rpc {
                    r.done_in_proc(true, None);
                    r.end_proc(0, true);
                } else {
                    r.done(false, true, None);
                }
            }
        }
        tds::write_message(&mut link, tds::PKT_REPLY, &r.into_bytes())?;
        answered += 1;
        if twin.drop_after.is_some_and(|n| answered >= n) {
            return Ok(());
        }
    }
}

/// A logged-in session as `sys.sysprocesses` shows it: its login time is
/// listed while the connection's thread serves it, as SQL Server lists a
/// session until its connection ends — a dead client's included, while its
/// request still runs.
struct Session<'a> {
    twin: &'a Twin,
    spid: i64,
}

impl<'a> Session<'a> {
    fn open(twin: &'a Twin, spid: i64) -> Session<'a> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let at = crate::time::rfc3339(now.as_secs() as i64);
        let login_time = format!("{}.{:03}", at.trim_end_matches('Z'), now.subsec_millis());
        if let Ok(mut m) = twin.logins.lock() {
            m.insert(spid, login_time);
        }
        Session { twin, spid }
    }
}

impl Drop for Session<'_> {
    fn drop(&mut self) {
        if let Ok(mut m) = self.twin.logins.lock() {
            m.remove(&self.spid);
        }
    }
}

/// "N percent processed." (RESTORE and BACKUP ... WITH STATS).
const PERCENT_PROCESSED: i32 = 3211;

/// Does the statement have this word (a keyword, in any case)?
fn has_word(statement: &str, word: &str) -> bool {
    statement
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .any(|w| w.eq_ignore_ascii_case(word))
}

/// SQL Server's 3013 after a failed `RESTORE ...` or `BACKUP ...`.
fn terminated(statement: &str, number: i32) -> Option<String> {
    let words: Vec<String> = statement
        .split_whitespace()
        .take(2)
        .map(str::to_ascii_uppercase)
        .collect();
    let verb = words.first()?;
    if number == 3013 || number == NOT_SIMULATED || !(verb == "RESTORE" || verb == "BACKUP") {
        return None;
    }
    Some(format!("{} is terminating abnormally.", words.join(" ")))
}

/// The answer of a statement that selected `rows`: with none, still its
/// select list's columns, as SQL Server sends them.
fn selected(statement: &str, rows: Vec<Map<String, Value>>) -> Answer {
    let names = select_list::names(statement);
    if rows.is_empty() && !names.is_empty() {
        Answer::Empty(names)
    } else {
        Answer::Rows(rows)
    }
}

/// The running-jobs read, whatever its exact text: the lab answers the
/// current agent session's rows; a read without the current-session filter
/// also sees the rows older sessions left unfinished (`agent_jobs.rs`).
fn running_jobs(
    twin: &Twin,
    instance: &str,
    read_only: bool,
    statement: &str,
    current_only: bool,
) -> Answer {
    let op = crate::op::Op::RunningJobs {
        instance: instance.to_string(),
    };
    let mut rows = match perform(twin, &op, read_only).map(|p| p.result) {
        Ok(Ok(v)) => crate::targets::rows(v),
        Ok(Err(OpError::Unreachable { .. })) => return Answer::Vanish,
        Ok(Err(e)) => return not_simulated(e.to_string()),
        Err(e) => return not_simulated(format!("the lab twin could not use its lab file: {e}")),
    };
    if !current_only {
        let stale = twin
            .lab
            .lock()
            .map(|l| l.state.stale_job_activity_of(instance))
            .unwrap_or_default();
        rows.extend(agent_jobs::stale_rows(&stale));
    }
    selected(statement, rows)
}

fn not_simulated(message: String) -> Answer {
    Answer::Error {
        number: NOT_SIMULATED,
        class: 16,
        message,
    }
}

/// A read-only session (ApplicationIntent=ReadOnly: a plan's) is answered
/// without saving the lab, so a plan leaves the twin as it found it.
fn answer(
    twin: &Twin,
    instance: &str,
    spid: i64,
    read_only: bool,
    req: &Request,
    progress: &mut dyn FnMut(u32),
) -> Answer {
    match chatter::recognize(&req.statement) {
        Some(Chatter::Set) => return Answer::Rows(Vec::new()),
        Some(Chatter::Version) => {
            return Answer::Rows(crate::targets::rows(json!([{ "": chatter::VERSION }])))
        }
        Some(Chatter::ExecuteSql(inner)) => {
            return answer(twin, instance, spid, read_only, &inner, progress)
        }
        None => {}
    }
    if let Some(current_only) = agent_jobs::running_jobs_read(&req.statement) {
        return running_jobs(twin, instance, read_only, &req.statement, current_only);
    }
    let major = twin.major(instance);
    if let Some(message) = catalog::invalid_column(major, &req.statement) {
        return Answer::Error {
            number: catalog::INVALID_COLUMN,
            class: 16,
            message,
        };
    }
    match parse(instance, &req.statement, &req.params) {
        Statement::Spid => {
            let login_time = twin.logins.lock().ok().and_then(|m| m.get(&spid).cloned());
            Answer::Rows(crate::targets::rows(
                json!([{ "spid": spid, "login_time": login_time }]),
            ))
        }
        Statement::SessionRunning {
            session_id,
            login_time,
        } => {
            let same = twin
                .logins
                .lock()
                .is_ok_and(|m| m.get(&session_id) == Some(&login_time));
            let busy = twin
                .in_flight
                .lock()
                .is_ok_and(|m| m.contains_key(&session_id));
            let rows = if same && busy {
                json!([{ "cmd": "EXECUTE", "status": "runnable" }])
            } else {
                json!([])
            };
            selected(&req.statement, crate::targets::rows(rows))
        }
        Statement::Progress { session_id } => {
            let in_flight = twin.in_flight.lock().map(|m| m.get(&session_id).copied());
            let rows = match in_flight.ok().flatten() {
                Some((started, expected)) => {
                    let pct = if expected.is_zero() {
                        0.0
                    } else {
                        (started.elapsed().as_secs_f64() / expected.as_secs_f64() * 100.0).min(99.0)
                    };
                    json!([{ "percent_complete": pct }])
                }
                None => json!([]),
            };
            selected(&req.statement, crate::targets::rows(rows))
        }
        Statement::Op(op) => {
            if let Some(d) = stalls(&twin.stall, &req.statement) {
                if let Ok(mut m) = twin.in_flight.lock() {
                    m.insert(spid, (Instant::now(), d));
                }
                // Asked WITH STATS, it says how far it is; otherwise nothing.
                let stats = has_word(&req.statement, "STATS");
                for tenth in 1..=10 {
                    std::thread::sleep(d / 10);
                    if stats && tenth < 10 {
                        progress(tenth * 10);
                    }
                }
            }
            let done = perform(twin, &op, read_only);
            if let Ok(mut m) = twin.in_flight.lock() {
                m.remove(&spid);
            }
            match done.map(|p| p.result) {
                Ok(Ok(v)) => {
                    let mut rows = crate::targets::rows(v);
                    naming::report(&mut rows);
                    selected(&req.statement, rows)
                }
                Ok(Err(OpError::Unreachable { .. })) => Answer::Vanish,
                Ok(Err(OpError::Sql {
                    number,
                    class,
                    message,
                })) => Answer::Error {
                    number,
                    class,
                    message,
                },
                Ok(Err(OpError::NotSimulated { message })) => Answer::Error {
                    number: NOT_SIMULATED,
                    class: 16,
                    message: format!("not simulated by the lab: {message}"),
                },
                Ok(Err(other)) => Answer::Error {
                    number: NOT_SIMULATED,
                    class: 16,
                    message: other.to_string(),
                },
                Err(e) => Answer::Error {
                    number: NOT_SIMULATED,
                    class: 16,
                    message: format!("the lab twin could not use its lab file: {e}"),
                },
            }
        }
    }
}
