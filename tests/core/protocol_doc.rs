//! docs/PROTOCOL.md §13 must list every error code with its exact name, and
//! nothing else — the doc is normative for other implementations.

use sealpass::Code;

#[test]
fn error_table_matches_the_code() {
    let doc = std::fs::read_to_string(sealpass_tests::root().join("docs/PROTOCOL.md")).unwrap();
    let section = doc.split("## 13. Error codes").nth(1).expect("section 13");
    let section = section.split("\n## ").next().unwrap();
    let mut rows = Vec::new();
    for line in section.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if cells.len() >= 4 {
            if let Ok(n) = cells[1].parse::<u16>() {
                rows.push((n, cells[2].to_string()));
            }
        }
    }
    let want: Vec<(u16, String)> = Code::ALL
        .iter()
        .map(|c| (c.number(), c.name().to_string()))
        .collect();
    assert_eq!(
        rows, want,
        "regenerate the table in docs/PROTOCOL.md §13 from src/error.rs"
    );
}
