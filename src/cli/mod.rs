//! The command line: arguments (clap), one file per subcommand, and the shared
//! settings every subcommand reads.

pub mod api;
pub mod check;
pub mod drill;
pub mod journal;
pub mod lab;
pub mod list;
pub mod new;
pub mod report;
pub mod resume;
pub mod run;
pub mod show;
pub mod target;
mod terminal;
pub mod test;

use crate::error::{Error, Result};
use crate::estate::Estate;
use crate::report::style::{use_colour, ColorChoice, Style};
use crate::report::{Human, Json, Reporter};
use clap::{Args, Parser, Subcommand};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::rc::Rc;

#[derive(Parser, Debug)]
#[command(
    name = "drillbook",
    version,
    about = "Versioned, journaled, resumable runbooks for Lync Server 2013 HA/DR — drilled in a lab before they run for real"
)]
pub struct Cli {
    /// Where journals, lab state and locks live [default: $DRILLBOOK_HOME, else ./.drillbook]
    #[arg(long, global = true, value_name = "DIR")]
    pub home: Option<PathBuf>,
    /// One JSON event per line on stdout instead of human output
    #[arg(long, global = true)]
    pub json: bool,
    /// Answer yes to confirmations and manual steps
    #[arg(long, short = 'y', global = true)]
    pub yes: bool,
    /// Show read ops, step timings, and the full detail of faults and lab answers
    #[arg(long, short = 'v', global = true)]
    pub verbose: bool,
    /// Colour status words: auto (a terminal, unless NO_COLOR is set), always, never
    #[arg(long, global = true, value_name = "WHEN", default_value = "auto")]
    pub color: Color,
    /// A folder of local runbooks (and a stdlib/ folder for their imports)
    #[arg(long, global = true, value_name = "DIR")]
    pub runbooks: Option<PathBuf>,
    /// Use a local runbook that has a shipped runbook's name in its place
    #[arg(long = "override", global = true)]
    pub override_shipped: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Color {
    Auto,
    Always,
    Never,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// List shipped and local runbooks
    List,
    /// The runbook API: every function a runbook can call, and the estate objects' fields
    Api(api::ApiArgs),
    /// Show a runbook's header, parameters, scenarios and steps
    Show {
        runbook: String,
        /// Resolve the scenarios' roles against this estate [default: the built-in litware estate]
        #[arg(long, value_name = "FILE")]
        estate: Option<PathBuf>,
    },
    /// Compile and validate a runbook (errors as file:line:col)
    Check { runbook: String },
    /// Run a runbook (apply)
    Run(RunArgs),
    /// Dry run: show every change the runbook would make, change nothing
    Plan(RunArgs),
    /// Resume a run that stopped (crash, failure, decision, confirmation)
    Resume(ResumeArgs),
    /// List runs, or show one run's steps and ops
    Journal { run_id: Option<String> },
    /// Drill: a fresh lab, a scenario's faults, the runbook, a measured summary
    Drill(DrillArgs),
    /// Write a new runbook to start from (NAME.rhai), and say how to check, plan, drill and test it
    New(new::NewArgs),
    /// A drill's report from its journal: HTML (with a timeline), Markdown, JSON or JUnit
    Report(report::ReportArgs),
    /// Run every drill scenario of the runbooks (all, or those named) as a test
    Test(test::TestArgs),
    /// Print a shell completion script: bash, zsh, fish, powershell (or elvish)
    Completions {
        #[arg(value_name = "SHELL")]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), for `man -l -` or a man directory
    Man,
    /// The lab: create, inspect, inject faults, let time pass
    Lab {
        #[command(subcommand)]
        command: lab::LabCommand,
    },
}

#[derive(Args, Debug)]
pub struct RunArgs {
    /// Shipped runbook id, local runbook id, or path to a .rhai file
    pub runbook: String,
    /// Parameter, as name=value (repeatable)
    #[arg(short = 'p', long = "param", value_name = "NAME=VALUE")]
    pub params: Vec<String>,
    /// Estate file [default: the built-in litware estate]
    #[arg(long, value_name = "FILE")]
    pub estate: Option<PathBuf>,
    /// What to run against: lab (the simulation) or live (the estate file's real servers)
    #[arg(long, default_value = "lab", value_name = "TARGET")]
    pub target: String,
    /// Answer to an operator question, as KEY=CHOICE (repeatable)
    #[arg(long = "decision", value_name = "KEY=CHOICE")]
    pub decisions: Vec<String>,
    /// Take over a lock left by a dead run
    #[arg(long)]
    pub take_over_lock: bool,
}

#[derive(Args, Debug)]
pub struct ResumeArgs {
    pub run_id: String,
    /// Answer to the question the run waits on (CHOICE or KEY=CHOICE)
    #[arg(long = "decision", value_name = "CHOICE")]
    pub decisions: Vec<String>,
    /// Run a step that is in doubt again (you checked the estate)
    #[arg(long)]
    pub rerun_in_doubt: bool,
    /// Resume although the runbook text changed since the run started
    #[arg(long)]
    pub allow_changed: bool,
    /// Take over a lock left by a dead run
    #[arg(long)]
    pub take_over_lock: bool,
}

#[derive(Args, Debug)]
pub struct DrillArgs {
    pub runbook: String,
    /// Scenario name [default: the runbook's `default` scenario]
    #[arg(long)]
    pub scenario: Option<String>,
    #[arg(short = 'p', long = "param", value_name = "NAME=VALUE")]
    pub params: Vec<String>,
    #[arg(long, value_name = "FILE")]
    pub estate: Option<PathBuf>,
    #[arg(long = "decision", value_name = "KEY=CHOICE")]
    pub decisions: Vec<String>,
    #[arg(long)]
    pub take_over_lock: bool,
    /// Only prepare the lab (lead-in, setup, faults); run nothing
    #[arg(long)]
    pub prepare: bool,
    /// Fail the drill (exit 1) when its simulated RTO misses the runbook's target
    #[arg(long)]
    pub strict_rto: bool,
}

/// `0.1.0 (runbooks sha256:0123456789ab)`: the binary's version and the
/// hash of the runbook set it carries.
pub fn version() -> String {
    let hash = crate::runbook::set_hash();
    format!(
        "{} (runbooks sha256:{})",
        env!("CARGO_PKG_VERSION"),
        &hash[..12]
    )
}

/// The command line's definition, with the version that names the runbook set.
pub fn command() -> clap::Command {
    use clap::CommandFactory;
    // clap takes a static version text; this one is made once per process.
    let version: &'static str = Box::leak(version().into_boxed_str());
    Cli::command().version(version)
}

/// Parse the command line (`--version` prints the runbook set's hash too).
pub fn parse() -> std::result::Result<Cli, clap::Error> {
    use clap::FromArgMatches;
    let matches = command().try_get_matches()?;
    Cli::from_arg_matches(&matches)
}

/// Settings shared by the subcommands.
pub struct Env {
    pub home: PathBuf,
    pub json: bool,
    pub yes: bool,
    pub verbose: bool,
    pub runbooks: Option<PathBuf>,
    pub override_shipped: bool,
    pub reporter: Rc<dyn Reporter>,
    pub style: Style,
}

impl Env {
    pub fn from_cli(cli: &Cli) -> Env {
        let home = cli
            .home
            .clone()
            .or_else(|| {
                std::env::var_os("DRILLBOOK_HOME")
                    .filter(|v| !v.is_empty())
                    .map(PathBuf::from)
            })
            .unwrap_or_else(|| PathBuf::from(".drillbook"));
        let choice = match cli.color {
            Color::Auto => ColorChoice::Auto,
            Color::Always => ColorChoice::Always,
            Color::Never => ColorChoice::Never,
        };
        let no_color = std::env::var("NO_COLOR").ok();
        let style = Style {
            on: use_colour(choice, no_color.as_deref(), std::io::stdout().is_terminal()),
        };
        let reporter: Rc<dyn Reporter> = if cli.json {
            Rc::new(Json)
        } else {
            Rc::new(Human::new(cli.verbose, style))
        };
        Env {
            home,
            json: cli.json,
            yes: cli.yes,
            verbose: cli.verbose,
            runbooks: cli.runbooks.clone(),
            override_shipped: cli.override_shipped,
            reporter,
            style,
        }
    }

    /// The runbook a command names, to be run: a local one with a shipped
    /// name is refused unless `--override`.
    pub fn runbook(&self, spec: &str) -> Result<crate::runbook::Runbook> {
        let rb = crate::runbook::Runbook::find(spec, self.runbooks.as_deref())?;
        rb.refuse_shadowing(self.override_shipped)?;
        Ok(rb)
    }

    pub fn run_options(&self) -> crate::run::Options {
        crate::run::Options {
            home: self.home.clone(),
            operator: operator(),
            yes: self.yes,
            step_journal_max_bytes: step_journal_max_bytes(),
            ..Default::default()
        }
    }

    /// What a run talks to: this command's reporter, the operator at the
    /// terminal, and (in test builds) the abort-after-ops hook.
    pub fn frontend(&self) -> crate::run::Frontend {
        crate::run::Frontend {
            reporter: self.reporter.clone(),
            operator: Rc::new(terminal::Terminal {
                reporter: self.reporter.clone(),
                style: self.style,
            }),
            on_op_performed: abort_after_ops(),
            on_locked: abort_before_journal(),
        }
    }

    /// Print a JSON document (for `--json` on inspection commands).
    pub fn print_json(&self, v: &serde_json::Value) {
        println!(
            "{}",
            serde_json::to_string(v).expect("JSON values serialize")
        );
    }
}

/// Who is running this: `$DRILLBOOK_OPERATOR`, else `$USER`.
pub fn operator() -> String {
    ["DRILLBOOK_OPERATOR", "USER", "USERNAME"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
        .unwrap_or_else(|| "unknown".into())
}

/// `DRILLBOOK_ABORT_AFTER_OPS=N`: a testing aid that aborts the process right
/// after the N-th op of an apply run is performed (before its answer is
/// journaled), as a crash would; `DRILLBOOK_OP_DELAY_MS=MS` sleeps that long
/// after every op, so tests can overlap two processes. Compiled in only with
/// the `test-hooks` feature; an operator's build ignores the variables.
#[cfg(feature = "test-hooks")]
fn abort_after_ops() -> Option<crate::run::OpObserver> {
    let var = |name: &str| -> u64 {
        std::env::var(name)
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    };
    let (n, delay) = (
        var("DRILLBOOK_ABORT_AFTER_OPS"),
        var("DRILLBOOK_OP_DELAY_MS"),
    );
    if n == 0 && delay == 0 {
        return None;
    }
    Some(Rc::new(move |performed| {
        if performed == n {
            eprintln!("DRILLBOOK_ABORT_AFTER_OPS: aborting after op {performed}");
            std::process::abort();
        }
        std::thread::sleep(std::time::Duration::from_millis(delay));
    }))
}

/// `DRILLBOOK_STEP_JOURNAL_MAX_BYTES=N`: a testing aid that lowers the
/// most one step may journal (0: the default); `test-hooks` builds only.
#[cfg(feature = "test-hooks")]
fn step_journal_max_bytes() -> u64 {
    std::env::var("DRILLBOOK_STEP_JOURNAL_MAX_BYTES")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

#[cfg(not(feature = "test-hooks"))]
fn step_journal_max_bytes() -> u64 {
    0
}

/// `DRILLBOOK_ABORT_BEFORE_JOURNAL=1`: a testing aid that aborts a new run
/// right after it takes the estate lock under its run id and before it
/// creates its journal, as a crash there would; `test-hooks` builds only.
#[cfg(feature = "test-hooks")]
fn abort_before_journal() -> Option<Rc<dyn Fn()>> {
    std::env::var("DRILLBOOK_ABORT_BEFORE_JOURNAL")
        .is_ok_and(|v| v.trim() == "1")
        .then(|| -> Rc<dyn Fn()> {
            Rc::new(|| {
                eprintln!("DRILLBOOK_ABORT_BEFORE_JOURNAL: aborting with the lock held");
                std::process::abort();
            })
        })
}

#[cfg(not(feature = "test-hooks"))]
fn abort_before_journal() -> Option<Rc<dyn Fn()>> {
    None
}

#[cfg(not(feature = "test-hooks"))]
fn abort_after_ops() -> Option<crate::run::OpObserver> {
    None
}

/// The estate a command names (or the built-in one), its live settings
/// checked too, so a bad one stops every command before it starts.
pub fn load_estate(path: Option<&PathBuf>) -> Result<Estate> {
    let estate = match path {
        Some(p) => Estate::load(p)?,
        None => Estate::builtin()?,
    };
    crate::live::config::LiveConfig::from_estate(&estate)?;
    Ok(estate)
}

pub fn dispatch(cli: Cli) -> Result<i32> {
    let env = Env::from_cli(&cli);
    match cli.command {
        Command::List => list::run(&env),
        Command::Api(args) => api::run(&env, &args),
        Command::Show { runbook, estate } => show::run(&env, &runbook, estate.as_ref()),
        Command::Check { runbook } => check::run(&env, &runbook),
        Command::Run(args) => run::run(&env, args, crate::run::Mode::Apply),
        Command::Plan(args) => run::run(&env, args, crate::run::Mode::Plan),
        Command::Resume(args) => resume::run(&env, args),
        Command::Journal { run_id } => journal::run(&env, run_id.as_deref()),
        Command::Drill(args) => drill::run(&env, args),
        Command::Test(args) => test::run(&env, args),
        Command::Report(args) => report::run(&env, args),
        Command::New(args) => new::run(&env, args),
        Command::Lab { command } => lab::run(&env, command),
        // Written whole through print!, which ends quietly on a closed pipe.
        Command::Completions { shell } => {
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut command(), "drillbook", &mut out);
            print!("{}", String::from_utf8_lossy(&out));
            Ok(0)
        }
        Command::Man => {
            let mut out = Vec::new();
            clap_mangen::Man::new(command())
                .render(&mut out)
                .expect("rendering to memory cannot fail");
            print!("{}", String::from_utf8_lossy(&out));
            Ok(0)
        }
    }
}

/// Turn a run's outcome into the process result.
pub fn finish(outcome: crate::run::Outcome) -> Result<i32> {
    match outcome.error {
        None => Ok(crate::error::exit::OK),
        Some(e) => Err(e),
    }
}

/// A usage error.
pub fn usage(message: impl Into<String>) -> Error {
    Error::Usage {
        message: message.into(),
    }
}
