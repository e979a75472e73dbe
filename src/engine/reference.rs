//! The API reference, read from the engine's own registrations (names,
//! parameters, doc lines), the stdlib sources and the estate objects'
//! field table, so what `drillbook api` prints cannot drift from what a
//! runbook can call. Also the Rhai definitions file editors read.

use super::api::estate::EstateView;
use rhai::{Engine, Scope};
use std::rc::Rc;

/// One function a runbook can call.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct FnDoc {
    /// `""` for a global function, else the module (`sql`, or a stdlib module).
    pub namespace: String,
    pub name: String,
    /// `name: type` (or just a name, for stdlib functions).
    pub params: Vec<String>,
    /// The return type, or `""` when not declared.
    pub returns: String,
    /// One line.
    pub doc: String,
}

impl FnDoc {
    /// `sql::backup(db: map, file: string)`, `estate.pool(fqdn: string) -> map`.
    pub fn signature(&self) -> String {
        let ret = if self.returns.is_empty() || self.returns == "()" {
            String::new()
        } else {
            format!(" -> {}", self.returns)
        };
        if let Some(prop) = self.name.strip_prefix("get$") {
            return format!("estate.{prop}{ret}");
        }
        if self.is_estate_method() {
            let rest = self.params[1..].join(", ");
            return format!("estate.{}({rest}){ret}", self.name);
        }
        let ns = if self.namespace.is_empty() {
            String::new()
        } else {
            format!("{}::", self.namespace)
        };
        format!("{ns}{}({}){ret}", self.name, self.params.join(", "))
    }

    /// A method of the `estate` value (its first parameter is the estate).
    pub fn is_estate_method(&self) -> bool {
        self.params.first().is_some_and(|p| p.ends_with(": Estate"))
    }
}

/// Doc comments (`/// ...` lines) as one line.
fn one_line<S: AsRef<str>>(comments: &[S]) -> String {
    comments
        .iter()
        .flat_map(|c| c.as_ref().lines())
        .map(|l| l.trim().trim_start_matches('/').trim())
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Every native function registered in `engine` (primitives, estate
/// methods, the `sql::`, `logship::`, `chat::`, `lync::` modules), Rhai's
/// own standard packages left out.
pub fn natives(engine: &Engine) -> Vec<FnDoc> {
    let mut out = engine.collect_fn_metadata(
        None,
        |info| {
            let m = info.metadata;
            Some(FnDoc {
                namespace: info.namespace.to_string(),
                name: m.name.to_string(),
                params: m
                    .params_info
                    .iter()
                    .map(|p| p.trim_start_matches("_: ").to_string())
                    .collect(),
                returns: m.return_type.to_string(),
                doc: one_line(&m.comments),
            })
        },
        false,
    );
    out.sort();
    out.dedup();
    out
}

/// Every function of the shipped stdlib modules, from their sources.
pub fn stdlib(engine: &Engine) -> Result<Vec<FnDoc>, (String, rhai::ParseError)> {
    let mut out = Vec::new();
    for (module, text) in super::stdlib() {
        let ast = engine
            .compile(text)
            .map_err(|e| (format!("stdlib/{module}.rhai"), e))?;
        for f in ast.iter_functions() {
            out.push(FnDoc {
                namespace: module.to_string(),
                name: f.name.to_string(),
                params: f.params.iter().map(|p| p.to_string()).collect(),
                returns: String::new(),
                doc: one_line(&f.comments),
            });
        }
    }
    Ok(out)
}

/// A scope with what every runbook has: `params` and `estate`.
fn runbook_scope(estate: Rc<crate::estate::Estate>) -> Scope<'static> {
    let mut scope = Scope::new();
    scope.push_constant("params", rhai::Map::new());
    scope.push_constant("estate", EstateView(estate));
    scope
}

/// The Rhai definitions file (`module static;` and one `module NAME` block
/// per registered module), for editors with the Rhai language server.
pub fn definitions(engine: &Engine, estate: Rc<crate::estate::Estate>) -> String {
    let scope = runbook_scope(estate);
    // Module functions registered with parameter names but no return
    // type come out as `-> ;`, which is not Rhai: declare them without one.
    engine
        .definitions_with_scope(&scope)
        .include_standard_packages(false)
        .single_file()
        .replace(") -> ;", ");")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::api::fields::OBJECTS;

    #[test]
    fn every_registered_function_has_a_doc_line() {
        let engine = crate::engine::listing_engine();
        let natives = natives(&engine);
        assert!(natives.iter().any(|f| f.name == "wait_until"));
        assert!(natives.iter().any(|f| f.namespace == "sql"));
        let undocumented: Vec<String> = natives
            .iter()
            .chain(&stdlib(&engine).expect("the stdlib compiles"))
            .filter(|f| f.doc.is_empty())
            .map(FnDoc::signature)
            .collect();
        assert!(undocumented.is_empty(), "no doc line: {undocumented:#?}");
    }

    #[test]
    fn every_estate_object_has_exactly_the_documented_fields() {
        let engine = crate::engine::listing_engine();
        let estate = Rc::new(crate::estate::Estate::builtin().unwrap());
        let mut scope = runbook_scope(estate);
        for o in OBJECTS {
            let Some(example) = o.example else { continue };
            let map: rhai::Map = engine
                .eval_with_scope(&mut scope, example)
                .unwrap_or_else(|e| panic!("{}: {e}", o.name));
            let mut got: Vec<&str> = map.keys().map(|k| k.as_str()).collect();
            let mut want: Vec<&str> = o.fields.iter().map(|f| f.name).collect();
            got.sort();
            want.sort();
            assert_eq!(got, want, "fields of {}", o.name);
        }
    }
}
