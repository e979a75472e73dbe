//! The Rhai host: a sandboxed engine with drillbook's API registered.
//!
//! Sandbox: bounded operations, call depth, expression depth and data sizes;
//! no `eval`; `import` resolves only shipped stdlib modules (and a local
//! `stdlib/` folder next to local runbooks). The API is registered as static
//! modules (`sql::`, `logship::`, `chat::`, `lync::`) plus the step
//! primitives, and the reference `drillbook api` prints is generated from
//! these registrations. Everything a script asks of the world goes through a
//! [`Host`]: the run implements it, so the engine does no I/O of its own.

/// Register a global function (a primitive, an estate method) with its
/// parameters (`name: type`, the return type last) and one line of doc,
/// which `drillbook api` prints and the definitions file carries.
macro_rules! global {
    ($engine:expr, $name:expr, [$($p:expr),*], $doc:expr, $f:expr $(,)?) => {{
        // Volatile: these talk to the run or the estate; never folded.
        rhai::FuncRegistration::new($name)
            .with_volatility(true)
            .with_params_info([$($p),*])
            .with_comments([format!("/// {}", $doc)])
            .register_into_engine($engine, $f);
    }};
}

pub mod api;
pub mod host;
pub mod reference;
mod stdlib;
pub mod steps;

pub use host::{Begun, Halt, Host, HostResult};
pub use stdlib::{find_module, stdlib};

use crate::estate::Estate;
use rhai::{Engine, AST};
use serde_json::Value;
use std::path::PathBuf;
use std::rc::Rc;

/// The run, as the script's functions hold it.
pub type Shared = Rc<dyn Host>;

/// Operations a run may take before it is stopped as runaway.
pub const MAX_OPERATIONS: u64 = 20_000_000;

/// An engine with the sandbox limits and the stdlib resolver, but no API:
/// enough to compile runbooks and read their headers.
pub fn sandboxed_engine(local_stdlib: Option<PathBuf>) -> Engine {
    let mut engine = Engine::new();
    engine.set_max_operations(MAX_OPERATIONS);
    engine.set_max_call_levels(48);
    engine.set_max_expr_depths(64, 48);
    engine.set_max_string_size(1 << 20);
    engine.set_max_array_size(100_000);
    engine.set_max_map_size(10_000);
    engine.set_max_modules(32);
    engine.disable_symbol("eval");
    engine.set_module_resolver(stdlib::StdlibResolver::new(local_stdlib));
    // Only an engine that runs a script has someone to print to (`run_engine`).
    engine.on_print(|_| {});
    engine.on_debug(|_, _, _| {});
    // Registered so the header statement compiles; at run time it does nothing.
    global!(
        &mut engine,
        "runbook",
        ["header: map", "()"],
        "The runbook's header: #{id, version, title, ...}, the first statement of every runbook (read by drillbook, nothing at run time).",
        |_header: rhai::Map| {}
    );
    engine
}

/// An engine ready to run a runbook for `host`.
pub fn run_engine(host: &Shared, local_stdlib: Option<PathBuf>) -> Engine {
    let mut engine = sandboxed_engine(local_stdlib);
    let h = host.clone();
    engine.on_print(move |s| h.print(s));
    let h = host.clone();
    engine.on_debug(move |s, _, _| h.print(s));
    steps::register(&mut engine, host);
    api::register(&mut engine, host);
    engine
}

/// An engine with the whole API registered and nothing to run against: for
/// listing the API (`drillbook api`).
pub fn listing_engine() -> Engine {
    let host: Shared = Rc::new(host::Inert);
    run_engine(&host, None)
}

/// A script that ended with its own error (not stopped by the host).
#[derive(Debug)]
pub struct ScriptFailure {
    pub line: usize,
    pub message: String,
}

/// Run a compiled runbook for `host`, with `params` and `estate` in scope.
/// When the host stopped the script, the error returned is only the
/// symptom: the host holds the reason.
pub fn run(
    host: &Shared,
    estate: Rc<Estate>,
    ast: &AST,
    local_stdlib: Option<PathBuf>,
    params: &serde_json::Map<String, Value>,
) -> Result<(), ScriptFailure> {
    let engine = run_engine(host, local_stdlib);
    let mut scope = rhai::Scope::new();
    scope.push_constant("params", steps::to_dynamic(&Value::Object(params.clone())));
    scope.push_constant("estate", api::estate::EstateView(estate));
    engine
        .run_ast_with_scope(&mut scope, ast)
        .map_err(|e| ScriptFailure {
            line: e.position().line().unwrap_or(0),
            message: steps::describe(&e),
        })
}
