//! The configuration reference in `docs/configuration.md` is the one the command line gives.

use std::path::Path;

#[test]
fn the_configuration_reference_in_docs_is_the_one_the_cli_gives() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/configuration.md");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    let generated = trm::cli::reference::markdown();
    let first_difference = committed
        .lines()
        .zip(generated.lines())
        .position(|(a, b)| a != b)
        .map_or_else(|| "its length".to_string(), |i| format!("line {}", i + 1));
    assert!(
        committed == generated,
        "docs/configuration.md is out of date (first difference: {first_difference}): \
         regenerate it with `{}`",
        trm::cli::reference::REGENERATE
    );
}
