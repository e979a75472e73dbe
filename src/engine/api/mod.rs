//! The Rhai-facing API, one namespace per file. Each function builds ops,
//! sends them through `steps::perform`, and turns the estate's answers into
//! script values. None touches the world directly.

/// Register a module function with its parameter names and one line of doc,
/// which `drillbook api` prints.
macro_rules! reg {
    ($m:ident, $name:expr, [$($p:expr),*], $doc:expr, $f:expr $(,)?) => {{
        // Volatile: these functions talk to the estate, so the optimizer
        // must never fold a call, however constant its arguments.
        rhai::FuncRegistration::new($name)
            .in_internal_namespace()
            .with_volatility(true)
            .with_params_info([$($p),*])
            .with_comments([format!("/// {}", $doc)])
            .set_into_module(&mut $m, $f);
    }};
}

pub mod chat;
pub mod estate;
pub mod fields;
pub mod logship;
pub mod lync;
pub mod sql;

use super::steps::{op_error, perform, script_error, to_dynamic, RhaiResult};
use super::Shared;
use crate::op::Op;
use rhai::{Array, Dynamic, Engine, Map};
use serde_json::Value;

pub fn register(engine: &mut Engine, ctx: &Shared) {
    engine.register_static_module("sql", sql::module(ctx).into());
    engine.register_static_module("logship", logship::module(ctx).into());
    engine.register_static_module("chat", chat::module(ctx).into());
    engine.register_static_module("lync", lync::module(ctx).into());
    estate::register(engine);
}

/// Perform an op; an estate error becomes a catchable script error.
pub(crate) fn call(ctx: &Shared, op: Op) -> RhaiResult<Value> {
    perform(ctx, op)?.map_err(|e| op_error(&e))
}

pub(crate) use crate::targets::rows;

pub(crate) fn row_to_map(row: serde_json::Map<String, Value>) -> Map {
    row.into_iter()
        .map(|(k, v)| (k.into(), to_dynamic(&v)))
        .collect()
}

pub(crate) fn rows_to_array(v: Value) -> Array {
    rows(v)
        .into_iter()
        .map(|r| Dynamic::from(row_to_map(r)))
        .collect()
}

/// A string field of a script map, or a clear error naming it.
pub(crate) fn field(m: &Map, key: &str, what: &str) -> RhaiResult<String> {
    match m.get(key) {
        Some(v) if v.is_string() => Ok(v.to_string()),
        Some(v) => Err(script_error(format!(
            "{what}.{key} must be a string, not {}",
            v.type_name()
        ))),
        None => Err(script_error(format!(
            "{what} has no `{key}` (expected a map from estate.* with `{key}`)"
        ))),
    }
}

/// `(instance, database)` of a database reference `#{instance, database, ...}`.
pub(crate) fn db_ref(m: &Map) -> RhaiResult<(String, String)> {
    Ok((
        field(m, "instance", "database reference")?,
        field(m, "database", "database reference")?,
    ))
}

pub(crate) fn opt_str(v: Option<&Value>) -> Option<String> {
    v.and_then(|v| v.as_str()).map(str::to_string)
}
