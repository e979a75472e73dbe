//! Where a key sits in the estate file, so a refused estate names the line
//! and column of each value it refuses (`file:line:col`), as the TOML
//! reader's own errors do.
//!
//! The file is read a second time into a tree of spans (`Node`); a rule's
//! message starts with the key path it concerns (`sql.pcsql-dub1.instance`,
//! `persistent_chat."pchat.litwareinc.com".log_shipping.share`, `dns[2]`),
//! and `locate` finds the deepest part of that path the file holds.

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use std::fmt;
use toml::Spanned;

/// The estate file as a tree of keys and spans; string leaves keep their text.
#[derive(Debug)]
pub enum Node {
    Table(Vec<(String, Spanned<Node>)>),
    Array(Vec<Spanned<Node>>),
    Text(String),
    Other,
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Node, D::Error> {
        struct Any;
        impl<'de> Visitor<'de> for Any {
            type Value = Node;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a TOML value")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
                let mut out = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    out.push((key, map.next_value()?));
                }
                Ok(Node::Table(out))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
                let mut out = Vec::new();
                while let Some(item) = seq.next_element()? {
                    out.push(item);
                }
                Ok(Node::Array(out))
            }

            fn visit_str<E>(self, v: &str) -> Result<Node, E> {
                Ok(Node::Text(v.to_string()))
            }

            fn visit_bool<E>(self, _: bool) -> Result<Node, E> {
                Ok(Node::Other)
            }

            fn visit_i64<E>(self, _: i64) -> Result<Node, E> {
                Ok(Node::Other)
            }

            fn visit_u64<E>(self, _: u64) -> Result<Node, E> {
                Ok(Node::Other)
            }

            fn visit_f64<E>(self, _: f64) -> Result<Node, E> {
                Ok(Node::Other)
            }
        }
        d.deserialize_any(Any)
    }
}

/// One step of a key path: a table key or an array index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Key(String),
    Index(usize),
}

/// A key path written as messages write it, `a."b.c"[2].d`, for display.
pub fn show_path(path: &[Step]) -> String {
    let mut out = String::new();
    for step in path {
        match step {
            Step::Index(i) => out.push_str(&format!("[{i}]")),
            Step::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                if !k.is_empty()
                    && k.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                {
                    out.push_str(k);
                } else {
                    out.push_str(&format!("{k:?}"));
                }
            }
        }
    }
    out
}

/// The key path a message starts with (as `show_path` writes it), if any.
pub fn leading_path(message: &str) -> Vec<Step> {
    let mut steps = Vec::new();
    let mut rest = message;
    loop {
        if let Some(after) = rest.strip_prefix('[') {
            let digits = after.len() - after.trim_start_matches(|c: char| c.is_ascii_digit()).len();
            match (after[..digits].parse(), after[digits..].strip_prefix(']')) {
                (Ok(i), Some(tail)) => {
                    steps.push(Step::Index(i));
                    rest = tail;
                    continue;
                }
                _ => break,
            }
        }
        if !steps.is_empty() {
            match rest.strip_prefix('.') {
                Some(tail) => rest = tail,
                None => break,
            }
        }
        let Some((key, tail)) = leading_key(rest) else {
            break;
        };
        steps.push(Step::Key(key));
        rest = tail;
    }
    steps
}

/// A bare key or a Rust-quoted one at the start of `text`, and what follows.
fn leading_key(text: &str) -> Option<(String, &str)> {
    if let Some(body) = text.strip_prefix('"') {
        let mut key = String::new();
        let mut chars = body.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => return Some((key, &body[i + 1..])),
                '\\' => match chars.next()?.1 {
                    'n' => key.push('\n'),
                    't' => key.push('\t'),
                    'r' => key.push('\r'),
                    '0' => key.push('\0'),
                    other => key.push(other),
                },
                c => key.push(c),
            }
        }
        return None;
    }
    let len = text.len()
        - text
            .trim_start_matches(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            .len();
    (len > 0).then(|| (text[..len].to_string(), &text[len..]))
}

/// The byte offset of the deepest part of `path` the tree holds.
pub fn locate(root: &Node, path: &[Step]) -> Option<usize> {
    let mut node = root;
    let mut found = None;
    for step in path {
        let next = match (node, step) {
            (Node::Table(entries), Step::Key(k)) => {
                entries.iter().find(|(key, _)| key == k).map(|(_, v)| v)
            }
            (Node::Array(items), Step::Index(i)) => items.get(*i),
            _ => None,
        };
        let Some(next) = next else { break };
        found = Some(next.span().start);
        node = next.get_ref();
    }
    found
}

/// Every string of the tree (keys and values) with its path and offset.
pub fn strings(root: &Node) -> Vec<(Vec<Step>, usize, &str)> {
    fn walk<'a>(
        node: &'a Node,
        at: usize,
        path: &mut Vec<Step>,
        out: &mut Vec<(Vec<Step>, usize, &'a str)>,
    ) {
        match node {
            Node::Table(entries) => {
                for (key, value) in entries {
                    path.push(Step::Key(key.clone()));
                    out.push((path.clone(), value.span().start, key));
                    walk(value.get_ref(), value.span().start, path, out);
                    path.pop();
                }
            }
            Node::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    path.push(Step::Index(i));
                    walk(item.get_ref(), item.span().start, path, out);
                    path.pop();
                }
            }
            Node::Text(text) => out.push((path.clone(), at, text)),
            Node::Other => {}
        }
    }
    let mut out = Vec::new();
    walk(root, 0, &mut Vec::new(), &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_path_is_found_in_the_file() {
        let text = "[sites.a]\nx = 1\n\n[persistent_chat.\"p.example.com\".log_shipping]\nshare = 'x'\n\n[[dns]]\nname = \"a\"\n\n[[dns]]\nname = \"b\"\n";
        let root: Node = toml::from_str(text).unwrap();
        let at = |m: &str| locate(&root, &leading_path(m)).map(|o| crate::error::line_col(text, o));
        assert_eq!(
            at("persistent_chat.\"p.example.com\".log_shipping.share = \"x\" is bad"),
            Some((5, 9))
        );
        assert_eq!(at("dns[1].name = \"b\" is bad"), Some((11, 8)));
        assert!(at("dns[1].port is required").is_some_and(|(line, _)| line >= 10));
        assert_eq!(at("nothing here"), None);
        assert_eq!(
            leading_path("sql.pcsql-dub1.instance = \"a\""),
            vec![
                Step::Key("sql".into()),
                Step::Key("pcsql-dub1".into()),
                Step::Key("instance".into())
            ]
        );
        assert_eq!(
            show_path(&leading_path("pools.\"a.b\".back_end: x")),
            "pools.\"a.b\".back_end"
        );
    }
}
