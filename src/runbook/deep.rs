//! The deep part of `drillbook check`: what a run or a drill would hit,
//! found without running, each with file:line:col. The script's AST is
//! walked against the engine's own registrations (so the check cannot drift
//! from the API): calls to functions that do not exist (with the nearest
//! names), `params.x` where `x` is not declared, imports that do not
//! resolve or import themselves. The header's scenarios are checked against
//! a lab built from the built-in estate: faults whose target does not exist,
//! `run:` setup actions naming no runbook, expectation pointers that do not
//! exist in the lab's state, and decisions that nothing asks.

use super::Runbook;
use crate::estate::Estate;
use crate::lab::LabState;
use rhai::{ASTNode, Expr, Stmt};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

/// Rhai's own functions that are not in the metadata of its packages.
const LANGUAGE: [&str; 9] = [
    "Fn",
    "call",
    "curry",
    "type_of",
    "print",
    "debug",
    "is_def_var",
    "is_def_fn",
    "is_shared",
];

/// Decisions the engine's own functions ask.
const ENGINE_DECISIONS: [&str; 1] = [crate::engine::api::logship::GAP_KEY];

/// Functions known to a script: global names and `module::name`.
struct Known {
    global: BTreeSet<String>,
    modules: BTreeMap<String, BTreeSet<String>>,
}

fn known() -> Known {
    let engine = crate::engine::listing_engine();
    let json: Value = engine
        .gen_fn_metadata_to_json(true)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default();
    let names = |v: Option<&Value>| -> BTreeSet<String> {
        v.and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|f| f["name"].as_str())
            .map(|n| n.trim_start_matches("get$").to_string())
            .collect()
    };
    let mut global = names(json.get("functions"));
    global.extend(LANGUAGE.iter().map(|s| s.to_string()));
    let modules = json
        .get("modules")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(k, m)| (k.clone(), names(m.get("functions"))))
        .collect();
    Known { global, modules }
}

use crate::suggest::did_you_mean;

/// A module an import names: where it lives and its text, or `None`.
fn module_text(rb: &Runbook, name: &str) -> Option<(String, String)> {
    crate::engine::find_module(rb.local_stdlib.as_deref(), name)
}

/// `import "path" as alias` statements of an AST: (path, alias, line, col).
fn imports(ast: &rhai::AST) -> Vec<(String, String, usize, usize)> {
    let mut out = Vec::new();
    ast.walk(&mut |path| {
        if let Some(ASTNode::Stmt(Stmt::Import(x, pos))) = path.last() {
            if let Expr::StringConstant(p, _) = &x.0 {
                out.push((
                    p.to_string(),
                    x.1.name.to_string(),
                    pos.line().unwrap_or(0),
                    pos.position().unwrap_or(0),
                ));
            }
        }
        true
    });
    out
}

impl Runbook {
    /// Everything the deep check finds, as `file:line:col: message` lines.
    pub fn deep_check(&self) -> Vec<String> {
        let Ok(estate) = Estate::builtin() else {
            return Vec::new();
        };
        let estate = Rc::new(estate);
        let known = known();
        let mut problems = Vec::new();
        let at = |line: usize, col: usize, m: String| format!("{}:{line}:{col}: {m}", self.file);

        // Imports: resolve each, and read what it defines.
        let mut aliases: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut asked: BTreeSet<String> = ENGINE_DECISIONS.iter().map(|s| s.to_string()).collect();
        asked.extend(decisions_asked(&self.ast));
        for (path, alias, line, col) in imports(&self.ast) {
            let Some((file, text)) = module_text(self, &path) else {
                let shipped: Vec<&str> = crate::engine::stdlib().iter().map(|(n, _)| *n).collect();
                problems.push(at(
                    line,
                    col,
                    format!(
                        "import \"{path}\" does not resolve: the shipped modules are {}, or put {path}.rhai in a stdlib/ folder beside the runbook{}",
                        shipped.join(", "),
                        did_you_mean(&path, shipped.iter().copied())
                    ),
                ));
                continue;
            };
            let Ok(ast) = crate::engine::sandboxed_engine(None).compile(&text) else {
                continue;
            };
            for (inner, _, l, c) in imports(&ast) {
                if inner == path {
                    problems.push(format!(
                        "{file}:{l}:{c}: module \"{path}\" imports itself (imported at {}:{line}:{col})",
                        self.file
                    ));
                }
            }
            asked.extend(decisions_asked(&ast));
            aliases.insert(
                alias,
                ast.iter_functions().map(|f| f.name.to_string()).collect(),
            );
        }

        // Calls and params.x.
        let script_fns: BTreeSet<String> = self
            .ast
            .iter_functions()
            .map(|f| f.name.to_string())
            .collect();
        let declared: Vec<&str> = self.header.params.iter().map(|p| p.name.as_str()).collect();
        self.ast.walk(&mut |path| {
            match path.last() {
                Some(ASTNode::Expr(Expr::FnCall(call, pos)))
                | Some(ASTNode::Stmt(Stmt::FnCall(call, pos))) => {
                    if let Some(m) = unknown_call(call, &known, &aliases, &script_fns) {
                        problems.push(at(pos.line().unwrap_or(0), pos.position().unwrap_or(0), m));
                    }
                }
                Some(ASTNode::Expr(Expr::Dot(x, _, pos))) => {
                    if let (Expr::Variable(v, ..), Expr::Property(p, ppos)) = (&x.lhs, &x.rhs) {
                        let name = p.2.as_str();
                        if v.1 == "params" && v.2.is_empty() && !declared.contains(&name) {
                            let pos = if ppos.is_none() { pos } else { ppos };
                            problems.push(at(
                                pos.line().unwrap_or(0),
                                pos.position().unwrap_or(0),
                                format!(
                                    "`params.{name}` is not a declared parameter (declared: {}){}",
                                    if declared.is_empty() {
                                        "none".to_string()
                                    } else {
                                        declared.join(", ")
                                    },
                                    did_you_mean(name, declared.iter().copied())
                                ),
                            ));
                        }
                    }
                }
                _ => {}
            }
            true
        });

        problems.extend(self.check_scenarios(&estate, &asked));
        problems
    }

    /// The header's scenarios against a lab of the built-in estate.
    fn check_scenarios(&self, estate: &Estate, asked: &BTreeSet<String>) -> Vec<String> {
        let mut problems = Vec::new();
        let lab = LabState::from_estate(estate);
        let shape = serde_json::to_value(&lab).unwrap_or_default();
        let mut report = |needle: &str, message: String| {
            let (line, col) = self.locate(needle);
            problems.push(format!("{}:{line}:{col}: {message}", self.file));
        };
        for sc in &self.header.scenarios {
            let mut staged = lab.clone();
            staged.advance(sc.lead_in_minutes as u64 * 60);
            // After a `run:` action the lab is what that runbook made of
            // it, which only a drill knows: later faults are not checked.
            let mut known_state = true;
            for setup in &sc.setup {
                match &setup.action {
                    // A role placeholder (`{pool}`) names an object only a
                    // drill's estate resolves: from here the lab is unknown.
                    super::SetupAction::Fault { spec } if spec.contains('{') => {
                        known_state = false;
                    }
                    super::SetupAction::Fault { spec } if known_state => {
                        if let Err(e) = staged.apply_fault(spec) {
                            report(
                                &setup.text,
                                format!("scenario `{}`: setup `{}`: {e}", sc.name, setup.text),
                            );
                        }
                    }
                    super::SetupAction::Run { runbook, .. } => {
                        known_state = false;
                        if let Err(e) = Runbook::find(
                            runbook,
                            self.local_stdlib.as_ref().and_then(|s| s.parent()),
                        ) {
                            report(
                                &setup.text,
                                format!("scenario `{}`: setup `{}`: {e}", sc.name, setup.text),
                            );
                        }
                    }
                    super::SetupAction::Advance { minutes } => staged.advance(minutes * 60),
                    super::SetupAction::Fault { .. } => {}
                }
            }
            let resolved_at_drill = |f: &&String| f.contains('{');
            for f in sc
                .faults
                .iter()
                .filter(|_| known_state)
                .take_while(|f| !resolved_at_drill(f))
            {
                if let Err(e) = staged.apply_fault(f) {
                    report(f, format!("scenario `{}`: {e}", sc.name));
                }
            }
            for pointer in sc.expect.keys() {
                if let Err(m) = pointer_in_schema(&shape, pointer) {
                    report(
                        pointer,
                        format!("scenario `{}`: expect `{pointer}`: {m}", sc.name),
                    );
                }
            }
            let keys = sc.decisions.keys().chain(sc.outcome.decision.iter());
            for key in keys {
                if !asked.contains(key) {
                    report(
                        key,
                        format!(
                            "scenario `{}`: decision `{key}` is never asked (asked: {}){}",
                            sc.name,
                            asked.iter().cloned().collect::<Vec<_>>().join(", "),
                            did_you_mean(key, asked.iter().map(String::as_str))
                        ),
                    );
                }
            }
        }
        problems
    }

    /// Line and column of the first `"needle"` in the text (1, 1 if absent).
    fn locate(&self, needle: &str) -> (usize, usize) {
        let quoted = format!("\"{needle}\"");
        self.text
            .find(&quoted)
            .map_or((1, 1), |i| crate::error::line_col(&self.text, i + 1))
    }
}

/// Whether a call names a function the script can reach; the message if not.
fn unknown_call(
    call: &rhai::FnCallExpr,
    known: &Known,
    aliases: &BTreeMap<String, BTreeSet<String>>,
    script_fns: &BTreeSet<String>,
) -> Option<String> {
    let name = call.name.as_str();
    if call.op_token.is_some() || !name.starts_with(|c: char| c.is_alphabetic() || c == '_') {
        return None;
    }
    if call.namespace.is_empty() {
        if known.global.contains(name) || script_fns.contains(name) {
            return None;
        }
        let all = known.global.iter().chain(script_fns).map(String::as_str);
        return Some(format!("no function `{name}`{}", did_you_mean(name, all)));
    }
    let ns = call.namespace.to_string();
    let fns = known.modules.get(&ns).or_else(|| aliases.get(&ns));
    match fns {
        Some(fns) if fns.contains(name) => None,
        Some(fns) => Some(format!(
            "no function `{ns}::{name}`{}",
            did_you_mean(name, fns.iter().map(String::as_str))
        )),
        None => {
            let spaces = known
                .modules
                .keys()
                .chain(aliases.keys())
                .map(String::as_str);
            Some(format!(
                "no module `{ns}` (call `{ns}::{name}`){}",
                did_you_mean(&ns, spaces)
            ))
        }
    }
}

/// Literal keys of `decide("key", ...)` calls.
fn decisions_asked(ast: &rhai::AST) -> Vec<String> {
    let mut out = Vec::new();
    ast.walk(&mut |path| {
        if let Some(ASTNode::Expr(Expr::FnCall(call, _)) | ASTNode::Stmt(Stmt::FnCall(call, _))) =
            path.last()
        {
            if call.name == "decide" {
                if let Some(Expr::StringConstant(k, _)) = call.args.first() {
                    out.push(k.to_string());
                }
            }
        }
        true
    });
    out
}

/// A JSON pointer against the shape of the lab state: a missing key is an
/// error in an object with fixed fields, and accepted in a collection (an
/// object whose values are all objects of one shape, such as databases by
/// name), whose members the run may create; the rest of the pointer is then
/// checked against a member's shape.
pub fn pointer_in_schema(shape: &Value, pointer: &str) -> Result<(), String> {
    let mut here = shape;
    let mut walked = String::new();
    for raw in pointer.split('/').skip(1) {
        let token = raw.replace("~1", "/").replace("~0", "~");
        match here {
            Value::Object(m) => {
                if let Some(v) = m.get(&token) {
                    here = v;
                } else if let Some(member) = collection_member(m) {
                    here = member;
                } else if m.is_empty() {
                    return Ok(());
                } else {
                    return Err(format!(
                        "`{walked}` has no `{token}`{}",
                        did_you_mean(&token, m.keys().map(String::as_str))
                    ));
                }
            }
            Value::Array(a) => match token.parse::<usize>() {
                Ok(_) => match a.first() {
                    Some(v) => here = v,
                    None => return Ok(()),
                },
                Err(_) => return Err(format!("`{walked}` is a list: `{token}` is not an index")),
            },
            // Null: a value that may be filled in later (a mirroring role).
            Value::Null => return Ok(()),
            _ => return Err(format!("`{walked}` is a value, with no `{token}` inside")),
        }
        walked.push('/');
        walked.push_str(raw);
    }
    Ok(())
}

/// A member of an object that is a collection (values all objects with the
/// same keys); `None` for an object with fixed fields.
fn collection_member(m: &serde_json::Map<String, Value>) -> Option<&Value> {
    let mut values = m.values();
    let first = values.next()?.as_object()?;
    let same = values.all(|v| {
        v.as_object()
            .is_some_and(|o| o.len() == first.len() && o.keys().all(|k| first.contains_key(k)))
    });
    (same && m.len() > 1 || m.keys().any(|k| k.contains('.'))).then(|| m.values().next())?
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pointers_follow_fields_and_collections() {
        let shape = json!({"sql": {"a": {"up": true, "dbs": {"x": {"state": "ONLINE"}, "y": {"state": "RESTORING"}}},
                                    "b": {"up": true, "dbs": {}}}});
        assert!(pointer_in_schema(&shape, "/sql/a/dbs/x/state").is_ok());
        assert!(pointer_in_schema(&shape, "/sql/a/dbs/z/state").is_ok());
        let e = pointer_in_schema(&shape, "/sql/a/dbs/x/stat").unwrap_err();
        assert!(e.contains("did you mean `state`"), "{e}");
        assert!(pointer_in_schema(&shape, "/sql/a/upp").is_err());
    }
}
