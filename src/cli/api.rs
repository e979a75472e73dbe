//! `drillbook api`: the reference of what runbooks can call, generated from
//! the engine's own registrations, the stdlib sources and the estate
//! objects' field table (`engine::reference`), so it cannot drift. As text,
//! JSON (`--json` or `--format json`) or a Rhai definitions file.

use super::Env;
use crate::engine::api::fields::OBJECTS;
use crate::engine::reference::{self, FnDoc};
use crate::error::{Error, Result};
use std::rc::Rc;

#[derive(clap::Args, Debug)]
pub struct ApiArgs {
    /// text, json, or rhai-definitions (a file for the Rhai language server)
    #[arg(long, default_value = "text", value_name = "FORMAT")]
    pub format: Format,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    RhaiDefinitions,
}

fn fn_json(f: &FnDoc) -> serde_json::Value {
    serde_json::json!({
        "namespace": f.namespace,
        "name": f.name,
        "signature": f.signature(),
        "params": f.params,
        "returns": f.returns,
        "doc": f.doc,
    })
}

fn print_fns(title: &str, fns: &[&FnDoc]) {
    println!("{title}");
    for f in fns {
        println!("  {}\n      {}", f.signature(), f.doc);
    }
    println!();
}

pub fn run(env: &Env, args: &ApiArgs) -> Result<i32> {
    let engine = crate::engine::listing_engine();
    let natives = reference::natives(&engine);
    let stdlib = reference::stdlib(&engine).map_err(|(file, e)| Error::RunbookSyntax {
        file,
        line: e.position().line().unwrap_or(1),
        col: e.position().position().unwrap_or(1),
        message: e.err_type().to_string(),
    })?;
    let format = if env.json { Format::Json } else { args.format };
    match format {
        Format::RhaiDefinitions => {
            let estate = Rc::new(crate::estate::Estate::builtin()?);
            print!("{}", reference::definitions(&engine, estate));
        }
        Format::Json => env.print_json(&serde_json::json!({
            "native": natives.iter().map(fn_json).collect::<Vec<_>>(),
            "stdlib": stdlib.iter().map(fn_json).collect::<Vec<_>>(),
            "objects": OBJECTS.iter().map(|o| serde_json::json!({
                "name": o.name,
                "doc": o.doc,
                "fields": o.fields.iter().map(|f| serde_json::json!({
                    "name": f.name, "type": f.ty, "doc": f.doc,
                })).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        })),
        Format::Text => {
            let is_estate = |f: &&FnDoc| f.is_estate_method();
            let global: Vec<&FnDoc> = natives.iter().filter(|f| f.namespace.is_empty()).collect();
            print_fns(
                "Primitives:",
                &global
                    .iter()
                    .copied()
                    .filter(|f| !is_estate(f))
                    .collect::<Vec<_>>(),
            );
            print_fns(
                "Estate methods (estate.NAME(...)):",
                &global.iter().copied().filter(is_estate).collect::<Vec<_>>(),
            );
            print_fns(
                "Native modules (sql::, logship::, chat::, lync::):",
                &natives
                    .iter()
                    .filter(|f| !f.namespace.is_empty())
                    .collect::<Vec<_>>(),
            );
            print_fns(
                "Stdlib modules (import \"NAME\" as NAME;):",
                &stdlib.iter().collect::<Vec<_>>(),
            );
            println!("Estate objects (maps the estate methods return):");
            for o in OBJECTS {
                println!("  {}: {}", o.name, o.doc);
                for f in o.fields {
                    println!("      .{:<22} {:<28} {}", f.name, f.ty, f.doc);
                }
            }
        }
    }
    Ok(0)
}
