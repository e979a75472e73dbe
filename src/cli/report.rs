//! `drillbook report RUN_ID --format html|md|json|junit [-o FILE]`: a
//! drill's summary, read back from its journal (the last `drill_summary`
//! record), rendered for people (HTML, Markdown) or programs (JSON, JUnit).

use super::Env;
use crate::error::{Error, Result};
use crate::journal::{self, Journal, Record};
use crate::report::{html, junit, markdown, DrillSummary};
use clap::{Args, ValueEnum};
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct ReportArgs {
    /// The drill's run id (`drillbook journal` lists them)
    pub run_id: String,
    #[arg(long, value_enum, default_value = "md")]
    pub format: Format,
    /// Write to FILE instead of stdout
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Format {
    Html,
    Md,
    Json,
    Junit,
}

pub fn run(env: &Env, args: ReportArgs) -> Result<i32> {
    let summary = summary(env, &args.run_id)?;
    let text = match args.format {
        Format::Html => html::render(&summary),
        Format::Md => markdown::render(&summary),
        Format::Json => serde_json::to_string_pretty(&summary).expect("summaries serialize") + "\n",
        Format::Junit => junit::render(
            &format!("drill {} {}", summary.runbook, summary.scenario),
            &junit::drill_cases(&summary),
        ),
    };
    match &args.output {
        Some(path) => {
            std::fs::write(path, text).map_err(|e| Error::io(path, e))?;
            if !env.json {
                eprintln!("report written to {}", path.display());
            }
        }
        None => print!("{text}"),
    }
    Ok(0)
}

/// The last drill summary the run's journal holds.
fn summary(env: &Env, run_id: &str) -> Result<DrillSummary> {
    let path = Journal::existing(&env.home, run_id)?;
    let loaded = journal::read(&path)?;
    loaded
        .records
        .into_iter()
        .rev()
        .find_map(|r| match r {
            Record::DrillSummary(s) => Some(*s),
            _ => None,
        })
        .ok_or_else(|| {
            super::usage(format!(
                "run {run_id} has no drill summary: it is not a drill, or it has not ended \
                 (`drillbook journal {run_id}` shows what it did)"
            ))
        })
}
