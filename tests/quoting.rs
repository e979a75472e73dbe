//! Property test: every op, rendered with hostile identifiers and values
//! (`]`, `'`, `;`, `--`, `$()`, backticks, newlines, non-ASCII, typographic
//! quotes), reads back through the twin's parsers as the same op — T-SQL
//! both inline (`render`) and parameterized (`render_parameterized`),
//! cmdlets as the script the live target feeds the shell. A value that
//! cannot be quoted is refused by both renderings, so it never reaches a
//! target. A seeded xorshift generator keeps failures reproducible.

use drillbook::op::{CmdletArg, Op, PsValue, SqlParam};
use drillbook::quote;
use drillbook::twin::parse::{parse, Statement};
use drillbook::twin::pwsh_script::read_script;
use drillbook::wire::{script, Session};
use serde_json::Value;

const PIECES: &[&str] = &[
    "mgc",
    "]",
    "]]",
    "[",
    "'",
    "''",
    "\"",
    ";",
    "--",
    "/*",
    "*/",
    "$(",
    ")",
    "$x",
    "`",
    "`n",
    "@P1",
    "@@SPID",
    " ",
    "\n",
    "\r\n",
    "\t",
    "N'",
    "é",
    "ß",
    "中文",
    "🦀",
    "\u{2018}",
    "\u{2019}",
    "\u{201A}",
    "\u{201B}",
    "-Name",
    "|",
    "@{",
    "}",
    "=",
    ",",
    "\\\\fs\\share\\",
    "DROP DATABASE x",
    "\u{E000}",
    "0",
    "-1",
];

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn text(&mut self) -> String {
        let n = 1 + self.below(6);
        let mut s = String::new();
        for _ in 0..n {
            match self.below(10) {
                0 => s.push(char::from_u32(self.below(0x3000) as u32 + 32).unwrap_or('x')),
                _ => s.push_str(PIECES[self.below(PIECES.len())]),
            }
        }
        // Now and then a value that cannot be quoted at all.
        if self.below(40) == 0 {
            s.push('\0');
        }
        s
    }

    fn int(&mut self) -> i64 {
        match self.below(4) {
            0 => i64::MIN,
            1 => i64::MAX,
            _ => self.next() as i64 % 100_000,
        }
    }

    fn ps_value(&mut self, depth: u32) -> PsValue {
        match self.below(if depth > 1 { 6 } else { 7 }) {
            0 => PsValue::Bool(self.below(2) == 0),
            1 => PsValue::Str(self.text()),
            2 => PsValue::Int(self.int()),
            3 => PsValue::Null,
            4 | 5 => PsValue::List((0..self.below(4)).map(|_| self.text()).collect()),
            _ => PsValue::Table(
                (0..self.below(3))
                    .map(|i| (format!("Key{i}"), self.ps_value(depth + 1)))
                    .collect(),
            ),
        }
    }
}

/// Every T-SQL op, with generated names and values.
fn sql_ops(r: &mut Rng) -> Vec<Op> {
    let i = "pcsql-dub1".to_string();
    let mut db = || r.text();
    let (d1, d2, d3, d4, d5, d6, d7, d8, d9, d10, d11, d12, d13, d14) = (
        db(),
        db(),
        db(),
        db(),
        db(),
        db(),
        db(),
        db(),
        db(),
        db(),
        db(),
        db(),
        db(),
        db(),
    );
    vec![
        Op::SqlPing {
            instance: i.clone(),
        },
        Op::DatabaseState {
            instance: i.clone(),
            database: d1,
        },
        Op::MirroringState {
            instance: i.clone(),
            database: d2,
        },
        Op::LogShippingSecondary {
            instance: i.clone(),
            database: d3,
        },
        Op::RunningJobs {
            instance: i.clone(),
        },
        Op::RestoreHeaderOnly {
            instance: i.clone(),
            file: d4,
        },
        Op::RedoStartLsn {
            instance: i.clone(),
            database: d5,
        },
        Op::DatabaseSessions {
            instance: i.clone(),
            database: d6,
        },
        Op::DeleteLogShippingSecondary {
            instance: i.clone(),
            database: d7,
        },
        Op::RestoreLog {
            instance: i.clone(),
            database: d8,
            file: d9,
        },
        Op::KillSession {
            instance: i.clone(),
            session_id: r.int(),
        },
        Op::RecoverDatabase {
            instance: i.clone(),
            database: d10,
        },
        Op::MirrorFailover {
            instance: i.clone(),
            database: d11.clone(),
        },
        Op::MirrorForceService {
            instance: i.clone(),
            database: d11,
        },
        Op::MirrorOff {
            instance: i.clone(),
            database: d12.clone(),
        },
        Op::BackupDatabase {
            instance: i.clone(),
            database: d12,
            file: d13.clone(),
        },
        Op::RestoreDatabase {
            instance: i.clone(),
            database: d14,
            file: d13,
        },
        Op::Query {
            instance: i.clone(),
            text: format!("SELECT {}", r.text()),
        },
        Op::Exec {
            instance: i,
            text: format!("EXEC {}", r.text()),
        },
    ]
}

fn as_params(p: Vec<SqlParam>) -> Vec<(String, Value)> {
    p.into_iter()
        .enumerate()
        .map(|(i, SqlParam::Text(s))| (format!("@P{}", i + 1), Value::String(s)))
        .collect()
}

#[test]
fn every_sql_op_reads_back_through_the_twin_or_is_refused_by_both_renderings() {
    let mut r = Rng(0x9E37_79B9_7F4A_7C15);
    let (mut read_back, mut refused) = (0, 0);
    for _ in 0..1500 {
        for op in sql_ops(&mut r) {
            match (op.render(), op.render_parameterized()) {
                (Ok(text), Ok((ptext, params))) => {
                    assert_eq!(
                        parse("pcsql-dub1", &text, &[]),
                        Statement::Op(op.clone()),
                        "inline: {text:?}"
                    );
                    assert_eq!(
                        parse("pcsql-dub1", &ptext, &as_params(params)),
                        Statement::Op(op.clone()),
                        "parameterized: {ptext:?}"
                    );
                    read_back += 1;
                }
                (Err(_), Err(_)) => refused += 1,
                (a, b) => panic!("the renderings disagree on {op:?}: {a:?} vs {b:?}"),
            }
        }
    }
    assert!(
        read_back > 10_000 && refused > 100,
        "{read_back} read back, {refused} refused"
    );
}

/// A switch inside a table prints as `$true`: PowerShell cannot tell them apart.
fn normalize(v: PsValue) -> PsValue {
    match v {
        PsValue::Table(entries) => PsValue::Table(
            entries
                .into_iter()
                .map(|(k, v)| {
                    let v = match v {
                        PsValue::Switch => PsValue::Bool(true),
                        other => normalize(other),
                    };
                    (k, v)
                })
                .collect(),
        ),
        other => other,
    }
}

#[test]
fn every_cmdlet_reads_back_through_the_stand_in_or_is_refused() {
    let mut r = Rng(0xD1B5_4A32_D192_ED03);
    let (mut read_back, mut refused) = (0, 0);
    for _ in 0..4000 {
        let args: Vec<CmdletArg> = (0..r.below(5))
            .map(|i| {
                let v = if r.below(6) == 0 {
                    PsValue::Switch
                } else {
                    r.ps_value(0)
                };
                CmdletArg::new(&format!("Param{i}"), v)
            })
            .collect();
        let op = Op::Cmdlet {
            host: "fe-dub1.litwareinc.com".into(),
            cmdlet: "Set-CsPersistentChatActiveServer".into(),
            args,
        };
        match op.render() {
            Ok(line) => {
                let remote = Session::Remote {
                    uri_literal: quote::ps_connection_uri("fe-dub1.litwareinc.com").unwrap(),
                };
                let back = read_script(&script(&line, &remote), None)
                    .unwrap_or_else(|e| panic!("{line:?}: {e}"))
                    .op;
                let Op::Cmdlet { host, cmdlet, args } = op else {
                    unreachable!()
                };
                let expected = Op::Cmdlet {
                    host,
                    cmdlet,
                    args: args
                        .into_iter()
                        .map(|a| CmdletArg::new(&a.name, normalize(a.value)))
                        .collect(),
                };
                assert_eq!(back, expected, "{line:?}");
                read_back += 1;
            }
            Err(_) => refused += 1,
        }
    }
    assert!(
        read_back > 2000 && refused > 10,
        "{read_back} read back, {refused} refused"
    );
}
