//! `drillbook`: parse, dispatch, report the error, exit with its class's code.

use drillbook::cli;
use drillbook::error::exit;

fn main() {
    quiet_on_closed_pipe();
    let cli = match cli::parse() {
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
            eprintln!("error: {}", drillbook::report::visible(&e.to_string()));
            e.exit_code()
        }
    };
    std::process::exit(code);
}

/// A reader that closed the pipe (`drillbook lab show --json | head -c 10`)
/// is a normal end, as in ripgrep: Rust ignores SIGPIPE, so a write to the
/// closed stdout fails with `BrokenPipe`, which `print!` turns into a panic;
/// this hook ends the process quietly then (exit 0), and leaves every other
/// panic to the default hook.
fn quiet_on_closed_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let text = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if text.contains("Broken pipe") || text.contains("os error 32") {
            std::process::exit(exit::OK);
        }
        default(info);
    }));
}
