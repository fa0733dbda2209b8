//! docs/ARCHITECTURE.md's crate table is the dependency picture people read;
//! it must match what cargo resolves (`cargo metadata`), edge for edge.

use std::collections::BTreeMap;
use std::process::Command;

use sealpass_tests::root;

type Graph = BTreeMap<String, Vec<String>>;

/// Workspace crate → its workspace crates among normal dependencies
/// (optional ones marked "(optional)"), from the manifests.
fn from_metadata() -> Graph {
    let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(root())
        .args([
            "metadata",
            "--no-deps",
            "--offline",
            "--format-version",
            "1",
        ])
        .output()
        .expect("run cargo metadata");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let packages = v["packages"].as_array().unwrap();
    let members: Vec<&str> = packages
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    let mut g = Graph::new();
    for p in packages {
        let mut deps: Vec<String> = p["dependencies"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["kind"].is_null() && members.contains(&d["name"].as_str().unwrap()))
            .map(|d| {
                let name = d["name"].as_str().unwrap();
                if d["optional"].as_bool() == Some(true) {
                    format!("{name} (optional)")
                } else {
                    name.to_owned()
                }
            })
            .collect();
        deps.sort();
        deps.dedup();
        g.insert(p["name"].as_str().unwrap().to_owned(), deps);
    }
    g
}

/// The same from the table between the crate-graph markers.
fn from_doc() -> Graph {
    let doc = std::fs::read_to_string(root().join("docs/ARCHITECTURE.md")).unwrap();
    let start = doc
        .find("<!-- crate-graph:begin -->")
        .expect("begin marker");
    let end = doc.find("<!-- crate-graph:end -->").expect("end marker");
    let mut g = Graph::new();
    for line in doc[start..end].lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let name = cells[1].trim_matches('`').to_owned();
        let mut deps: Vec<String> = cells[3]
            .split(',')
            .map(str::trim)
            // "`x` (optional, feature `y`)": a part not starting with a
            // crate name continues the parenthesis before it.
            .filter(|d| d.starts_with('`'))
            .map(|d| {
                let crate_name = d.split('`').nth(1).unwrap_or(d).to_owned();
                if d.contains("(optional") {
                    format!("{crate_name} (optional)")
                } else {
                    crate_name
                }
            })
            .collect();
        deps.sort();
        g.insert(name, deps);
    }
    g
}

#[test]
fn crate_table_matches_cargo_metadata() {
    let meta = from_metadata();
    assert!(meta.len() >= 7, "too few workspace crates: {meta:?}");
    assert_eq!(
        from_doc(),
        meta,
        "docs/ARCHITECTURE.md's crate table vs cargo metadata"
    );
}
