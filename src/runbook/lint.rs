//! What can be known of a runbook without running it: the steps it names
//! with string literals (for `show`, progress totals, `check`), and the
//! problems `drillbook check` reports beyond compiling and the header.

use super::Runbook;
use serde::Serialize;
use std::collections::BTreeMap;

/// A step the runbook names with a string literal, in source order.
#[derive(Debug, Clone, Serialize)]
pub struct StaticStep {
    pub name: String,
    pub line: usize,
}

impl Runbook {
    /// The steps named by literal strings, in source order.
    pub fn static_steps(&self) -> Vec<StaticStep> {
        let mut steps = Vec::new();
        self.ast.walk(&mut |path| {
            if let Some(rhai::ASTNode::Expr(rhai::Expr::FnCall(call, pos))) = path.last() {
                collect_step(call, *pos, &mut steps);
            }
            if let Some(rhai::ASTNode::Stmt(rhai::Stmt::FnCall(call, pos))) = path.last() {
                collect_step(call, *pos, &mut steps);
            }
            true
        });
        steps
    }

    /// Everything `drillbook check` verifies beyond compiling and the header.
    pub fn lint(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let mut seen = BTreeMap::new();
        for s in self.static_steps() {
            if let Some(first) = seen.insert(s.name.clone(), s.line) {
                problems.push(format!(
                    "{}:{}: step `{}` is also named at line {first}; step names must be unique",
                    self.file, s.line, s.name
                ));
            }
        }
        if self.origin == "shipped" && self.header.name != self.id {
            problems.push(format!(
                "{}: header name `{}` differs from the file name",
                self.file, self.header.name
            ));
        }
        for sc in &self.header.scenarios {
            for f in &sc.faults {
                if f.trim().is_empty() {
                    problems.push(format!(
                        "{}: scenario `{}` has an empty fault",
                        self.file, sc.name
                    ));
                }
            }
        }
        problems
    }
}

fn collect_step(call: &rhai::FnCallExpr, pos: rhai::Position, steps: &mut Vec<StaticStep>) {
    // Manual steps are steps too: they checkpoint and show in the list.
    if !matches!(call.name.as_str(), "step" | "manual") || !call.namespace.is_empty() {
        return;
    }
    if let Some(rhai::Expr::StringConstant(name, _)) = call.args.first() {
        steps.push(StaticStep {
            name: name.to_string(),
            line: pos.line().unwrap_or(0),
        });
    }
}
