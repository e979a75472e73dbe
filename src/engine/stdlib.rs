//! Where `import "name"` finds modules: the shipped stdlib (embedded at
//! build) or `name.rhai` in a local runbook folder's `stdlib/`; nothing
//! else, so a runbook cannot read arbitrary files through imports. A module
//! that imports itself, directly or through others, is an error naming the
//! cycle (`a -> b -> a`), not an endless descent.

use rhai::{Engine, EvalAltResult, Module, ModuleResolver, Position, Scope, Shared};
use std::path::{Path, PathBuf};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/stdlib.rs"));
}

/// Shipped stdlib modules as (name, text).
pub fn stdlib() -> &'static [(&'static str, &'static str)] {
    embedded::STDLIB
}

/// The module `import "name"` loads, as (where it lives, its text): a
/// shipped stdlib module, else `name.rhai` in the local stdlib folder. A
/// name that is not a plain word (a path, `..`) finds nothing. The one rule
/// both running and `drillbook check` follow.
pub fn find_module(local: Option<&Path>, name: &str) -> Option<(String, String)> {
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return None;
    }
    if let Some((_, text)) = stdlib().iter().find(|(n, _)| *n == name) {
        return Some((format!("stdlib/{name}.rhai"), text.to_string()));
    }
    let file = local?.join(format!("{name}.rhai"));
    let text = std::fs::read_to_string(&file).ok()?;
    Some((file.display().to_string(), text))
}

/// Resolves `import "name"` to a shipped stdlib module, or to `name.rhai` in
/// the local stdlib folder; nothing else.
pub(super) struct StdlibResolver {
    pub(super) local: Option<PathBuf>,
    /// The modules being loaded, outermost first.
    pub(super) loading: std::cell::RefCell<Vec<String>>,
}

impl StdlibResolver {
    pub(super) fn new(local: Option<PathBuf>) -> StdlibResolver {
        StdlibResolver {
            local,
            loading: Default::default(),
        }
    }
}

impl ModuleResolver for StdlibResolver {
    fn resolve(
        &self,
        engine: &Engine,
        _source: Option<&str>,
        path: &str,
        pos: Position,
    ) -> Result<Shared<Module>, Box<EvalAltResult>> {
        let not_found = || Box::new(EvalAltResult::ErrorModuleNotFound(path.to_string(), pos));
        let (_, text) = find_module(self.local.as_deref(), path).ok_or_else(not_found)?;
        let mut ast = engine.compile(&text).map_err(|e| {
            Box::new(EvalAltResult::ErrorInModule(
                path.to_string(),
                e.into(),
                pos,
            ))
        })?;
        ast.set_source(format!("stdlib/{path}.rhai"));
        let cycle = {
            let mut loading = self.loading.borrow_mut();
            let cycle = loading.iter().any(|m| m == path).then(|| {
                let from = loading.iter().position(|m| m == path).unwrap_or(0);
                let mut names = loading[from..].to_vec();
                names.push(path.to_string());
                names.join(" -> ")
            });
            if cycle.is_none() {
                loading.push(path.to_string());
            }
            cycle
        };
        if let Some(cycle) = cycle {
            return Err(Box::new(EvalAltResult::ErrorInModule(
                path.to_string(),
                format!("import cycle: {cycle}").into(),
                pos,
            )));
        }
        let module = Module::eval_ast_as_new(Scope::new(), &ast, engine);
        self.loading.borrow_mut().pop();
        let module =
            module.map_err(|e| Box::new(EvalAltResult::ErrorInModule(path.to_string(), e, pos)))?;
        Ok(module.into())
    }
}
