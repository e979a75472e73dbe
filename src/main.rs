//! `drillbook`: parse, dispatch, report the error, exit with its class's code.

use clap::Parser;
use drillbook::cli::{self, Cli};
use drillbook::error::exit;

fn main() {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                exit::BAD_INPUT
            } else {
                exit::OK
            };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    let json = cli.json;
    let code = match cli::dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            if json {
                let v = serde_json::json!({"event": "error", "kind": e.kind(), "message": e.to_string(), "exit_code": e.exit_code()});
                println!("{v}");
            }
            eprintln!("error: {e}");
            e.exit_code()
        }
    };
    std::process::exit(code);
}
