//! Benchmarks at the scale of a real outage, each beside what it is compared
//! with, measured in the same run. Numbers are printed, never asserted.
//!
//! Reproduce: `cargo bench --bench outage` (`-- quick` for smaller sizes;
//! name sections to run only those: `-- steps catch-up advance twin copy`).
//!
//! - per-step cost of a run against the lab, against a write + fdatasync
//!   floor of the same journal bytes in this process;
//! - catch-up of 1,000 and 10,000 pending log backups (the Persistent Chat
//!   failover after the secondary was down for days);
//! - `lab advance` of 1, 2, 4 and 8 weeks;
//! - the live copy (in batches of `COPY_BATCH` files, as `copy_pending`
//!   copies) against `cp && sync` of the same files, and against the floors
//!   of a copy durable file by file (fdatasync, rename, fsync dir) and of
//!   the same batches (fdatasync each, rename each, one fsync dir);
//! - `lab serve`'s lab-op throughput at 1, 8 and 32 concurrent TDS clients
//!   (reads, and changes that each wait for their fdatasync).

use drillbook::engine::api::logship::COPY_BATCH;
use drillbook::live::files::Mounts;
use drillbook::op::Op;
use drillbook::targets::ports::FileStore;
use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

fn drillbook(home: &Path, args: &[&str]) -> Duration {
    let t = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_drillbook"))
        .arg("--home")
        .arg(home)
        .args(args)
        .output()
        .expect("run drillbook");
    let took = t.elapsed();
    assert!(
        out.status.success(),
        "drillbook {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    took
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Write `records` lines of `bytes` each to a file in `dir`, with an
/// fdatasync after every `per_sync` of them: the durability floor.
fn floor(dir: &Path, records: usize, bytes: usize, per_sync: usize) -> Duration {
    let path = dir.join("floor.jsonl");
    let mut f = fs::File::create(&path).expect("floor file");
    let line = vec![b'x'; bytes.max(1)];
    let t = Instant::now();
    for i in 0..records {
        f.write_all(&line).expect("write");
        if (i + 1) % per_sync == 0 {
            f.sync_data().expect("fdatasync");
        }
    }
    let took = t.elapsed();
    let _ = fs::remove_file(path);
    took
}

/// A runbook of `n` steps of one kind, written as a loop (see README,
/// "Generated runbooks").
fn steps_runbook(dir: &Path, n: usize, change: bool) -> std::path::PathBuf {
    let body = if change {
        r#"{ try { sql::kill(#{ instance: "pcsql-dub1", database: "mgc" }, 51); } catch {} }"#
    } else {
        r#"sql::reachable("pcsql-dub1")"#
    };
    let text = format!(
        "runbook(#{{ name: \"bench-steps\", version: \"1.0.0\", summary: \"bench\", rto_minutes: 5, source: \"bench\" }});\n\
         for i in 0..{n} {{ step(`s${{i}}`, || {body}); }}\n"
    );
    let path = dir.join(format!(
        "steps-{}.rhai",
        if change { "change" } else { "read" }
    ));
    fs::write(&path, text).expect("write runbook");
    path
}

/// One run of the steps runbook in a fresh lab: the per-step cost (the
/// run's wall time less a one-step run's, the fixed start-up, parse, lab
/// load and checkpoint) and the journal bytes a step wrote.
fn step_run(n: usize, change: bool) -> (Duration, usize) {
    let home = tempfile::tempdir().expect("temp dir");
    drillbook(home.path(), &["lab", "init"]);
    let rb = steps_runbook(home.path(), n, change);
    let wall = drillbook(home.path(), &["run", rb.to_str().unwrap(), "--yes"]);
    let journal: u64 = fs::read_dir(home.path().join("runs"))
        .expect("runs")
        .flatten()
        .map(|e| e.metadata().map(|m| m.len()).unwrap_or(0))
        .max()
        .unwrap_or(0);
    let rb1 = steps_runbook(home.path(), 1, change);
    let fixed = drillbook(home.path(), &["run", rb1.to_str().unwrap(), "--yes"]);
    (
        wall.saturating_sub(fixed) / (n as u32 - 1).max(1),
        journal as usize / n,
    )
}

/// Per-step cost against its floor, side by side: in each of five rounds
/// the floor (write + fdatasync of the step's own journal bytes, in this
/// process) is measured just before and just after the run, so the ratio
/// compares the two at the same moment of a shared disk whose fdatasync
/// latency drifts; the median round's ratio is reported, with the range.
/// The runs are long (2,000 steps) so that the one-step run's start-up,
/// subtracted as the fixed cost, does not move the per-step figure.
fn step_cost(n: usize) {
    for change in [false, true] {
        // A read step needs one fdatasync; a change step two.
        let syncs = if change { 2 } else { 1 };
        let dir = tempfile::tempdir().expect("temp dir");
        let (_, bytes_per_step) = step_run(n, change);
        let floor_now = || floor(dir.path(), n * syncs, bytes_per_step / syncs, 1) / n as u32;
        let mut rounds: Vec<(f64, Duration, Duration)> = (0..5)
            .map(|_| {
                let before = floor_now();
                let (per_step, _) = step_run(n, change);
                let fl = (before + floor_now()) / 2;
                (per_step.as_secs_f64() / fl.as_secs_f64(), per_step, fl)
            })
            .collect();
        rounds.sort_by(|a, b| a.0.total_cmp(&b.0));
        let (ratio, per_step, fl) = rounds[rounds.len() / 2];
        println!(
            "step with one lab {:6}  {:7.3} ms/step   floor ({} fdatasync{} of its {} journal bytes) {:7.3} ms   ratio {:.2} (median of 5 rounds; {:.2}-{:.2})",
            if change { "change" } else { "read" },
            ms(per_step),
            syncs,
            if syncs > 1 { "s" } else { "" },
            bytes_per_step,
            ms(fl),
            ratio,
            rounds[0].0,
            rounds[rounds.len() - 1].0
        );
    }
}

/// The built-in estate with log backups kept for 60 days instead of 72
/// hours, so a month's backups wait in the share for the secondary.
fn long_retention_estate(dir: &Path) -> std::path::PathBuf {
    let mut text = include_str!("../estates/litware.toml").to_string();
    for key in ["backup_retention_minutes", "file_retention_minutes"] {
        let (from, to) = (format!("{key} = 4320\n"), format!("{key} = 86400\n"));
        assert!(text.contains(&from), "the built-in estate's {key}");
        text = text.replacen(&from, &to, 1);
    }
    let path = dir.join("litware-60-day-retention.toml");
    fs::write(&path, text).expect("estate");
    path
}

fn catch_up(pending: u64) -> Duration {
    let home = tempfile::tempdir().expect("temp dir");
    let h = home.path();
    let estate = long_retention_estate(h);
    let estate = estate.to_str().expect("a UTF-8 temp path");
    drillbook(h, &["lab", "init", "--estate", estate]);
    drillbook(h, &["lab", "advance", "44"]);
    // The log-shipping secondary is down while backups go on every 5 minutes.
    drillbook(h, &["lab", "fault", "instance-down:pcsql-dub1"]);
    advance_minutes(h, pending * 5);
    drillbook(
        h,
        &[
            "lab",
            "fault",
            "instance-up:pcsql-dub1",
            "primary-site-down",
        ],
    );
    // The CMS was in the lost site: the chat failover's writes need it back.
    drillbook(h, &["run", "cms-failover", "--yes", "--estate", estate]);
    drillbook(
        h,
        &[
            "run",
            "persistent-chat-failover",
            "--yes",
            "--estate",
            estate,
        ],
    )
}

/// `lab advance` takes at most a week at a time.
const WEEK_MINUTES: u64 = 7 * 24 * 60;

fn advance_minutes(home: &Path, mut minutes: u64) -> Duration {
    let mut took = Duration::ZERO;
    while minutes > 0 {
        let step = minutes.min(WEEK_MINUTES);
        took += drillbook(home, &["lab", "advance", &step.to_string()]);
        minutes -= step;
    }
    took
}

/// The best of three, from a fresh lab each time: the machine is shared,
/// and the least disturbed run says most about the work itself.
/// `lab advance` of 1 to `weeks` weeks from a fresh lab, in weekly calls
/// (the most one call takes): what N weeks cost is the sum of the first N
/// calls. Each call's time is the best of five rounds, so every size has as
/// many samples of each call and a burst of the shared disk's latency does
/// not fall on one size only.
fn advance(weeks: usize) -> Vec<Duration> {
    let mut best = vec![Duration::MAX; weeks];
    for _round in 0..5 {
        let home = tempfile::tempdir().expect("temp dir");
        drillbook(home.path(), &["lab", "init"]);
        for b in best.iter_mut() {
            *b = (*b).min(advance_minutes(home.path(), WEEK_MINUTES));
        }
    }
    best
}

fn sync_all() {
    let _ = Command::new("sync").status();
}

/// The floor of a durable copy, file by file, written the plainest way: a
/// temporary name created, the bytes (already in memory) written,
/// fdatasync, rename, fsync of the directory — what any copy must do so
/// that, when it returns, the file and its name survive a power loss.
fn copy_floor(dir: &Path, names: &[String], data: &[u8]) -> Duration {
    let t = Instant::now();
    for n in names {
        let tmp = dir.join(format!("{n}.partial"));
        let mut f = fs::File::create(&tmp).expect("floor file");
        f.write_all(data).expect("write");
        f.sync_data().expect("fdatasync");
        fs::rename(&tmp, dir.join(n)).expect("rename");
        fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .expect("fsync dir");
    }
    t.elapsed()
}

/// The floor of a durable copy in batches of `COPY_BATCH`, the plainest
/// way: each file created and written under its temporary name, each
/// fdatasynced, each renamed, then one fsync of the directory.
fn batch_floor(dir: &Path, names: &[String], data: &[u8]) -> Duration {
    let t = Instant::now();
    for batch in names.chunks(COPY_BATCH) {
        let mut written = Vec::with_capacity(batch.len());
        for n in batch {
            let tmp = dir.join(format!("{n}.partial"));
            let mut f = fs::File::create(&tmp).expect("floor file");
            f.write_all(data).expect("write");
            written.push((f, tmp));
        }
        for (f, _) in &written {
            f.sync_data().expect("fdatasync");
        }
        for ((_, tmp), n) in written.into_iter().zip(batch) {
            fs::rename(&tmp, dir.join(n)).expect("rename");
        }
        fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .expect("fsync dir");
    }
    t.elapsed()
}

/// The live copy (one `CopyFiles` op per `COPY_BATCH` files), `cp && sync`
/// and the per-file and batch floors, on the same files, each the best of
/// three rounds taken in turn.
fn copies(count: usize, size: usize) {
    let dir = tempfile::tempdir().expect("temp dir");
    let src = dir.path().join("src");
    fs::create_dir_all(&src).expect("dir");
    let data: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
    let names: Vec<String> = (0..count).map(|i| format!("mgc_{i:06}.trn")).collect();
    for n in &names {
        fs::write(src.join(n), &data).expect("source file");
    }
    let (mut ours_took, mut cp_took, mut floor_took, mut batch_took) =
        (Duration::MAX, Duration::MAX, Duration::MAX, Duration::MAX);
    // Each copy goes to an empty directory, removed after it: the disk holds
    // the sources and one copy at a time.
    let timed = |copy: &mut dyn FnMut(&Path) -> Duration| {
        let to = dir.path().join("copy");
        fs::create_dir_all(&to).expect("dir");
        sync_all();
        let took = copy(&to);
        fs::remove_dir_all(&to).expect("remove the copy");
        took
    };
    for _round in 0..3 {
        ours_took = ours_took.min(timed(&mut |to| {
            let mut mounts = Mounts(BTreeMap::from([
                ("\\\\fs\\share".to_string(), src.clone()),
                ("\\\\fs\\copy".to_string(), to.to_path_buf()),
            ]));
            let t = Instant::now();
            for batch in names.chunks(COPY_BATCH) {
                mounts
                    .perform(&Op::CopyFiles {
                        from_folder: "\\\\fs\\share".into(),
                        to_folder: "\\\\fs\\copy".into(),
                        files: batch.to_vec(),
                    })
                    .expect("copy");
            }
            t.elapsed()
        }));
        cp_took = cp_took.min(timed(&mut |to| {
            let t = Instant::now();
            let status = Command::new("sh")
                .arg("-c")
                .arg(format!("cp {}/* {}/ && sync", src.display(), to.display()))
                .status()
                .expect("cp");
            assert!(status.success());
            t.elapsed()
        }));
        floor_took = floor_took.min(timed(&mut |to| copy_floor(to, &names, &data)));
        batch_took = batch_took.min(timed(&mut |to| batch_floor(to, &names, &data)));
    }
    let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64();
    println!(
        "live copy {count} x {:>5} KiB   drillbook {:8.1} ms   cp && sync {:8.1} ms   speed {:.2}x of cp && sync",
        size / 1024,
        ms(ours_took),
        ms(cp_took),
        ratio(cp_took, ours_took)
    );
    println!(
        "  floor (per file: create, write, fdatasync, rename, fsync dir) {:8.1} ms   {:.2}x of cp && sync; drillbook at {:.2}x of the floor's speed",
        ms(floor_took),
        ratio(cp_took, floor_took),
        ratio(floor_took, ours_took)
    );
    println!(
        "  batch floor ({COPY_BATCH} a batch: create, write; fdatasync each; rename each; fsync dir) {:8.1} ms   {:.2}x of cp && sync",
        ms(batch_took),
        ratio(cp_took, batch_took)
    );
}

const TWIN_PASSWORD: &str = "bench-pa55word";

/// `lab serve` on a fresh lab; its child and the port of `instance`.
fn serve(home: &Path, instance: &str) -> (std::process::Child, u16) {
    drillbook(home, &["lab", "init"]);
    let out = home.join("serve.out");
    let estate = home.join("live.toml");
    let mut child = Command::new(env!("CARGO_BIN_EXE_drillbook"))
        .arg("--home")
        .arg(home)
        .args(["lab", "serve", "--for-seconds", "600", "--estate-out"])
        .arg(&estate)
        .env("DRILLBOOK_LAB_SQL_PASSWORD", TWIN_PASSWORD)
        .stdout(fs::File::create(&out).expect("serve.out"))
        .spawn()
        .expect("lab serve");
    for _ in 0..1500 {
        if estate.exists() {
            let text = fs::read_to_string(&out).unwrap_or_default();
            let port = text
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{instance}: 127.0.0.1:")))
                .and_then(|p| p.trim().parse().ok())
                .expect("the instance's port");
            return (child, port);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("lab serve wrote no estate file");
}

/// One TDS client sending `statement` until `until`: how many it sent.
fn client(port: u16, statement: &'static str, until: Instant) -> u64 {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        use tokio_util::compat::TokioAsyncWriteCompatExt;
        let mut config = tiberius::Config::new();
        config.host("127.0.0.1");
        config.port(port);
        config.authentication(tiberius::AuthMethod::sql_server("drillbook", TWIN_PASSWORD));
        config.encryption(tiberius::EncryptionLevel::NotSupported);
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .expect("connect");
        tcp.set_nodelay(true).expect("nodelay");
        let mut client = tiberius::Client::connect(config, tcp.compat_write())
            .await
            .expect("log in");
        let mut n = 0;
        while Instant::now() < until {
            // A failing statement (no such session to KILL) is still an op.
            if let Ok(stream) = client.simple_query(statement).await {
                let _ = stream.into_results().await;
            }
            n += 1;
        }
        n
    })
}

/// CPU seconds (user + system, every thread) a process has used so far,
/// from `/proc` (in USER_HZ ticks, 100 a second on Linux); 0 elsewhere.
fn cpu_seconds(pid: u32) -> f64 {
    let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    // Fields after the command name (which may hold spaces): state is the
    // 3rd field of the line, utime the 14th and stime the 15th.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<f64> = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|v| v.parse().ok())
        .collect();
    f.iter().sum::<f64>() / 100.0
}

/// Throughput at 1, 8 and 32 clients, with the CPU the clients (this
/// process) and the server used per op, and how many of the machine's
/// cores were busy: what bounds the speed-up a CPU-bound op can get from
/// more clients on this machine.
fn twin_throughput(seconds: f64) {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    let home = tempfile::tempdir().expect("temp dir");
    let (mut child, port) = serve(home.path(), "pcsql-dub1");
    for (what, statement) in [
        ("read  ", "SELECT @@SERVERNAME AS server_name;"),
        ("change", "KILL 77;"),
    ] {
        let mut one = 0.0;
        for clients in [1usize, 8, 32] {
            let until = Instant::now() + Duration::from_secs_f64(seconds);
            let cpu0 = cpu_seconds(std::process::id()) + cpu_seconds(child.id());
            let t = Instant::now();
            let threads: Vec<_> = (0..clients)
                .map(|_| std::thread::spawn(move || client(port, statement, until)))
                .collect();
            let ops: u64 = threads.into_iter().map(|t| t.join().expect("client")).sum();
            let wall = t.elapsed().as_secs_f64();
            let cpu = cpu_seconds(std::process::id()) + cpu_seconds(child.id()) - cpu0;
            let rate = ops as f64 / wall;
            let busy = cpu / wall;
            if clients == 1 {
                one = rate;
            }
            println!(
                "twin lab-op throughput ({what}) {clients:2} client(s)  {rate:8.0} ops/s   ({:.2}x 1 client)   CPU {:5.0} us/op, {busy:.2} of {cores} cores busy",
                rate / one,
                cpu / ops.max(1) as f64 * 1e6,
            );
            if clients == 1 {
                println!(
                    "  bound: a CPU-bound op gains at most {:.2}x from more clients here ({cores} cores / {busy:.2} busy at 1 client)",
                    cores / busy.max(1e-9)
                );
            }
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "quick");
    // Sections to run (all when none is named): steps catch-up advance twin copy.
    let sections = ["steps", "catch-up", "advance", "twin", "copy"];
    let named: Vec<&str> = sections
        .into_iter()
        .filter(|s| args.iter().any(|a| a == s))
        .collect();
    let run = |s: &str| named.is_empty() || named.contains(&s);

    if run("steps") {
        step_cost(if quick { 200 } else { 2_000 });
    }

    if run("catch-up") {
        let small = catch_up(1_000);
        println!(
            "catch-up of  1,000 pending log backups  {:8.2} s",
            small.as_secs_f64()
        );
        if !quick {
            let big = catch_up(10_000);
            println!(
                "catch-up of 10,000 pending log backups  {:8.2} s   ({:.1}x the 1,000 case)",
                big.as_secs_f64(),
                big.as_secs_f64() / small.as_secs_f64()
            );
        }
    }

    if run("advance") {
        let mut last: Option<Duration> = None;
        let calls = advance(8);
        for weeks in [1, 2, 4, 8] {
            let took: Duration = calls[..weeks].iter().sum();
            let growth = last.map_or(String::new(), |l| {
                format!(
                    "   ({:.2}x the previous)",
                    took.as_secs_f64() / l.as_secs_f64()
                )
            });
            println!(
                "lab advance {weeks} week(s)  {:8.3} s{growth}",
                took.as_secs_f64()
            );
            last = Some(took);
        }
    }

    if run("twin") {
        twin_throughput(if quick { 1.0 } else { 3.0 });
    }

    if run("copy") {
        if quick {
            copies(20, 4 << 20);
            copies(200, 64 << 10);
        } else {
            copies(200, 4 << 20);
            copies(2_000, 64 << 10);
        }
    }
}
