//! The Rhai host: a sandboxed engine with drillbook's API registered.
//!
//! Sandbox: bounded operations, call depth, expression depth and data sizes;
//! no `eval`; `import` resolves only shipped stdlib modules (and a local
//! `stdlib/` folder next to local runbooks). The API is registered as static
//! modules (`sql::`, `logship::`, `chat::`) plus the step primitives, and the
//! reference `drillbook api` prints is generated from these registrations.

pub mod api;
pub mod context;
pub mod steps;

use crate::estate::Estate;
use context::Ctx;
use rhai::{Engine, EvalAltResult, Module, ModuleResolver, Position, Scope, Shared as RhaiShared};
use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;

pub type Shared = Rc<RefCell<Ctx>>;

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
    engine.set_module_resolver(StdlibResolver {
        local: local_stdlib,
    });
    engine.on_print(|s| eprintln!("{s}"));
    engine.on_debug(|s, _, _| eprintln!("{s}"));
    // Registered so the header statement compiles; at run time it does nothing.
    engine.register_fn("runbook", |_header: rhai::Map| {});
    engine
}

/// An engine ready to run a runbook against `ctx`.
pub fn run_engine(ctx: &Shared, estate: Rc<Estate>, local_stdlib: Option<PathBuf>) -> Engine {
    let mut engine = sandboxed_engine(local_stdlib);
    steps::register(&mut engine, ctx);
    api::register(&mut engine, ctx, estate);
    engine
}

/// Resolves `import "name"` to a shipped stdlib module, or to `name.rhai` in
/// the local stdlib folder; nothing else.
struct StdlibResolver {
    local: Option<PathBuf>,
}

impl ModuleResolver for StdlibResolver {
    fn resolve(
        &self,
        engine: &Engine,
        _source: Option<&str>,
        path: &str,
        pos: Position,
    ) -> Result<RhaiShared<Module>, Box<EvalAltResult>> {
        let not_found = || Box::new(EvalAltResult::ErrorModuleNotFound(path.to_string(), pos));
        if !path
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(not_found());
        }
        let text = match crate::runbook::stdlib()
            .iter()
            .find(|(name, _)| *name == path)
        {
            Some((_, text)) => text.to_string(),
            None => {
                let file = self
                    .local
                    .as_ref()
                    .map(|d| d.join(format!("{path}.rhai")))
                    .filter(|p| p.is_file())
                    .ok_or_else(not_found)?;
                std::fs::read_to_string(&file).map_err(|_| not_found())?
            }
        };
        let mut ast = engine.compile(&text).map_err(|e| {
            Box::new(EvalAltResult::ErrorInModule(
                path.to_string(),
                e.into(),
                pos,
            ))
        })?;
        ast.set_source(format!("stdlib/{path}.rhai"));
        let module = Module::eval_ast_as_new(Scope::new(), &ast, engine)
            .map_err(|e| Box::new(EvalAltResult::ErrorInModule(path.to_string(), e, pos)))?;
        Ok(module.into())
    }
}
