//! The documentation's walk-throughs, run as pasted: the README's first session, the user
//! guide's return from Italy to Nigeria and its test-clock session, and the auditor's
//! walkthrough, against the built `trm` binary with fresh databases.
//!
//! A walk-through is a section of a page (its heading and everything under it, up to the next
//! heading of the same or a higher level), listed in [`PAGES`]; its blocks are the section's
//! fenced `sh` blocks, in order. Each page's blocks run in order in one `bash` (`set -e`) in a
//! temporary directory, after the walk-throughs of other pages it continues from. In the text
//! of a block:
//! - a line `cargo run ... -- serve FLAGS` switches to a server this test started with the
//!   same FLAGS (its own port, its own token file, a fresh database for each `--database-url`);
//! - any other `cargo run ... -- ARGS` line runs the built binary with ARGS;
//! - `http://127.0.0.1:8080` is the current server, and `demo-tokens.json` (in the temporary
//!   directory) holds its demo users' tokens.
//!
//! Outcomes: after every `gql` call the answer must have no `errors`, unless the Markdown marks
//! the block with `<!-- expect: CODE -->` (or `<!-- expect: CODE, CODE -->`) on the line after
//! its closing fence: then the block's calls return exactly those errors (`extensions.code`), one
//! call per code, in that order, and no others.

use crate::harness::{TestDatabase, workflows_dir};
use crate::process;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A page with walk-throughs.
struct Page {
    path: &'static str,
    /// What runs first, in the same shell: walk-throughs of other pages this one continues.
    before: &'static [Before],
    /// Its walk-throughs, by heading, in the order they run.
    sections: &'static [&'static str],
}

/// A walk-through of another page that a page continues.
enum Before {
    /// The first session's block that defines `gql` and `pick` (README, step 2).
    Helpers,
    /// Every block of a section of another page.
    Section(&'static str, &'static str),
}

const FIRST_SESSION: &str = "A first session with the API";
const RETURN_TO_NIGERIA: &str = "A return from Italy to Nigeria, step by step";
const TEST_CLOCK: &str = "Playing a case through time with the test clock";
const AUDITOR: &str = "An auditor's walkthrough";

const README: Page = Page {
    path: "README.md",
    before: &[],
    sections: &[FIRST_SESSION],
};
const USER_GUIDE: Page = Page {
    path: "docs/user-guide.md",
    before: &[Before::Helpers],
    sections: &[RETURN_TO_NIGERIA, TEST_CLOCK],
};
const AUDIT: Page = Page {
    path: "docs/audit.md",
    before: &[
        Before::Helpers,
        Before::Section("docs/user-guide.md", RETURN_TO_NIGERIA),
    ],
    sections: &[AUDITOR],
};

/// Every page with walk-throughs.
const PAGES: &[&Page] = &[&README, &USER_GUIDE, &AUDIT];

/// A fenced `sh` block of a walk-through.
struct Block {
    page: &'static str,
    section: &'static str,
    /// Its place in the section, from 1.
    number: usize,
    /// The line of its opening fence in the page.
    line: usize,
    text: String,
    /// The error codes its marker expects, in order.
    expect: Vec<String>,
}

impl Block {
    fn place(&self) -> String {
        format!(
            "{} § \"{}\", block {} (line {})",
            self.page, self.section, self.number, self.line
        )
    }
}

fn read_page(page: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(page);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// A heading line outside fences: its level and title.
fn heading(line: &str) -> Option<(usize, &str)> {
    let level = line.chars().take_while(|c| *c == '#').count();
    let title = line[level..].strip_prefix(' ')?;
    (level > 0).then(|| (level, title.trim()))
}

/// The `<!-- expect: ... -->` marker on the first non-blank line after `lines[from]`.
fn marker(lines: &[&str], from: usize) -> Vec<String> {
    let Some(next) = lines[from..].iter().find(|l| !l.trim().is_empty()) else {
        return Vec::new();
    };
    let Some(codes) = next
        .trim()
        .strip_prefix("<!-- expect:")
        .and_then(|rest| rest.strip_suffix("-->"))
    else {
        return Vec::new();
    };
    codes
        .split([',', ' '])
        .filter(|c| !c.is_empty())
        .map(str::to_string)
        .collect()
}

/// A fenced block of a page.
struct Fenced {
    /// The headings it sits under, outermost first: (level, title).
    headings: Vec<(usize, String)>,
    /// Its info string (`sh`, `toml` ...).
    info: String,
    /// The line of its opening fence, from 1.
    line: usize,
    text: String,
    /// Its `<!-- expect: ... -->` marker's codes.
    expect: Vec<String>,
}

/// Every fenced block of `text`.
fn fenced_blocks(text: &str) -> Vec<Fenced> {
    let lines: Vec<&str> = text.lines().collect();
    let mut headings: Vec<(usize, String)> = Vec::new();
    let mut blocks = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if let Some(info) = line.trim_start().strip_prefix("```") {
            let start = i;
            let mut body = Vec::new();
            i += 1;
            while i < lines.len() && !lines[i].trim_start().starts_with("```") {
                body.push(lines[i]);
                i += 1;
            }
            blocks.push(Fenced {
                headings: headings.clone(),
                info: info.trim().to_string(),
                line: start + 1,
                text: body.join("\n") + "\n",
                expect: marker(&lines, i + 1),
            });
        } else if let Some((level, title)) = heading(line) {
            headings.retain(|(l, _)| *l < level);
            headings.push((level, title.to_string()));
        }
        i += 1;
    }
    blocks
}

fn is_shell(info: &str) -> bool {
    matches!(info, "sh" | "bash")
}

/// The `sh` blocks of the section headed `section` on `page`.
fn section_blocks(page: &'static str, section: &'static str) -> Vec<Block> {
    let text = read_page(page);
    assert!(
        text.lines()
            .any(|l| heading(l).is_some_and(|(_, t)| t == section)),
        "{page} has no section headed \"{section}\" (tests/api/docs.rs lists the walk-throughs by heading)"
    );
    let blocks: Vec<Block> = fenced_blocks(&text)
        .into_iter()
        .filter(|b| b.headings.iter().any(|(_, t)| t == section) && is_shell(&b.info))
        .enumerate()
        .map(|(n, b)| Block {
            page,
            section,
            number: n + 1,
            line: b.line,
            text: b.text,
            expect: b.expect,
        })
        .collect();
    assert!(!blocks.is_empty(), "{page} § \"{section}\" has no sh block");
    blocks
}

/// Every block a page's shell runs, in order.
fn page_blocks(page: &Page) -> Vec<Block> {
    let mut blocks = Vec::new();
    for before in page.before {
        match before {
            Before::Helpers => blocks.push(
                section_blocks(README.path, FIRST_SESSION)
                    .into_iter()
                    .find(|b| b.text.contains("gql() {"))
                    .expect("the README's first session defines gql()"),
            ),
            Before::Section(other, section) => blocks.extend(section_blocks(other, section)),
        }
    }
    for section in page.sections {
        blocks.extend(section_blocks(page.path, section));
    }
    blocks
}

/// The arguments after `--` of a `cargo run ... -- ARGS` line.
fn cargo_run_args(line: &str) -> Option<&str> {
    let rest = line.trim_start().strip_prefix("cargo run")?;
    rest.split_once(" -- ").map(|(_, args)| args.trim())
}

/// How a walk-through starts the server: the database it names and its other flags.
#[derive(PartialEq)]
struct ServerSpec {
    database: String,
    flags: Vec<String>,
}

impl ServerSpec {
    fn parse(args: &str, block: &Block) -> ServerSpec {
        let mut words = args.split_whitespace().skip(1);
        let mut spec = ServerSpec {
            database: "trm.db".to_string(),
            flags: Vec::new(),
        };
        while let Some(word) = words.next() {
            match word {
                // This test's own: a token file per server, a free port.
                "--demo-tokens" | "--bind" => {
                    words.next();
                }
                "--database-url" => {
                    spec.database = words.next().unwrap_or_default().to_string();
                }
                _ => spec.flags.push(word.to_string()),
            }
        }
        assert!(
            spec.flags.iter().any(|f| f == "--demo"),
            "{}: the walk-through starts the server without --demo, so it has no demo tokens",
            block.place()
        );
        spec
    }
}

/// The script a page's shell runs, and the servers it switches between.
fn script(blocks: &[Block]) -> (String, Vec<ServerSpec>) {
    let mut servers: Vec<ServerSpec> = Vec::new();
    let mut out = String::from(PRELUDE);
    let mut body = String::new();
    for block in blocks {
        body.push_str(&format!(
            "doc_block {} '{}'\n",
            shell_quote(&block.place()),
            block.expect.join(" ")
        ));
        for line in block.text.lines() {
            match cargo_run_args(line) {
                Some(args) if args.starts_with("serve") => {
                    let spec = ServerSpec::parse(args, block);
                    let n = servers.iter().position(|s| *s == spec).unwrap_or_else(|| {
                        servers.push(spec);
                        servers.len() - 1
                    });
                    body.push_str(&format!("doc_switch_server {n}\n"));
                }
                Some(args) => body.push_str(&format!("\"$DOC_TRM_BIN\" {args}\n")),
                None => {
                    body.push_str(&line.replace("http://127.0.0.1:8080", "${DOC_BASE}"));
                    body.push('\n');
                }
            }
        }
        if block.text.contains("gql() {") {
            body.push_str(WRAP_GQL);
        }
        body.push_str("doc_block_end\n");
    }
    // The first server is up before the first block, so that a page continuing another one
    // can define its helpers first (as a reader would in an open terminal).
    if !servers.is_empty() {
        out.push_str("doc_switch_server 0\n");
    }
    out.push_str(&body);
    out.push_str("doc_where='(after the last block)'\n");
    (out, servers)
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// Runs before the blocks: how to switch servers, and how to check each `gql` answer.
const PRELUDE: &str = r#"set -e
doc_where='(before the first block)'
doc_command=''
doc_expect=''
# The walk-through's command running now (the test's own doc_* steps aside).
trap '[[ $BASH_COMMAND == doc_* ]] || doc_command=$BASH_COMMAND' DEBUG
doc_on_exit() {
  [ "$1" -eq 0 ] || printf '\nDOC-TEST FAILED in %s\n  command: %s\n  exit status: %s\n' "$doc_where" "$doc_command" "$1" >&2
}
trap 'doc_on_exit "$?"' EXIT
doc_fail() {
  trap - EXIT
  printf '\nDOC-TEST FAILED in %s\n  command: %s\n  %s\n' "$doc_where" "$doc_command" "$1" >&2
  exit 97
}
doc_switch_server() {
  cp "$DOC_SERVERS/$1.tokens.json" demo-tokens.json
  DOC_BASE=$(cat "$DOC_SERVERS/$1.url")
  TRM=$DOC_BASE/graphql
}
doc_block() { doc_where=$1; doc_expect=$2; }
doc_block_end() {
  [ -z "$doc_expect" ] || doc_fail "expected error(s) not returned: $doc_expect (the block's <!-- expect: --> marker)"
}
doc_check() {
  local codes want
  codes=$(printf '%s\n' "$LAST" | python3 -c 'import json, sys
d = json.load(sys.stdin)
print(" ".join(sorted({(e.get("extensions") or {}).get("code", "NO_CODE") for e in d.get("errors") or []})))') ||
    doc_fail "the answer is not JSON: $LAST"
  [ -n "$codes" ] || return 0
  want=${doc_expect%% *}
  if [ -n "$want" ] && [ "$codes" = "$want" ]; then
    doc_expect=${doc_expect#"$want"}
    doc_expect=${doc_expect# }
    return 0
  fi
  doc_fail "unexpected error $codes (expected next: ${want:-none}); the answer: $LAST"
}
"#;

/// Runs after the block that defines `gql`: every call's answer is then checked.
const WRAP_GQL: &str = r#"eval "doc_gql_unchecked() $(declare -f gql | tail -n +2)"
gql() { doc_gql_unchecked "$@"; doc_check; }
"#;

/// Servers started for a page; killed if the test fails before stopping them.
struct Servers(Vec<Child>);

impl Drop for Servers {
    fn drop(&mut self) {
        for mut child in self.0.drain(..) {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

async fn wait_ready(url: &str) {
    let http = crate::harness::http();
    for _ in 0..300 {
        if let Ok(r) = http.get(format!("{url}/readyz")).send().await
            && r.status() == 200
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{url}/readyz never answered 200");
}

/// Runs a page's walk-throughs and panics naming the page, block and command that failed.
async fn run_page(page: &Page) {
    let blocks = page_blocks(page);
    let (script, specs) = script(&blocks);
    let work = tempfile::tempdir().unwrap();
    let servers_dir = tempfile::tempdir().unwrap();
    let postgres = std::env::var("TRM_TEST_DATABASE_URL").is_ok_and(|u| !u.is_empty());

    let mut databases: BTreeMap<String, TestDatabase> = BTreeMap::new();
    let mut servers = Servers(Vec::new());
    for (n, spec) in specs.iter().enumerate() {
        if !databases.contains_key(&spec.database) {
            databases.insert(spec.database.clone(), TestDatabase::new().await);
        }
        let db = &databases[&spec.database];
        let tokens = servers_dir.path().join(format!("{n}.tokens.json"));
        let mut args: Vec<String> = spec.flags.clone();
        args.push("--demo-tokens".into());
        args.push(tokens.to_str().unwrap().into());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (child, printed) = process::serve_url(&db.url, &args, None);
        servers.0.push(child);
        let url = printed.lines().next().unwrap().to_string();
        wait_ready(&url).await;
        std::fs::write(servers_dir.path().join(format!("{n}.url")), &url).unwrap();
    }

    let script_path = servers_dir.path().join("walkthrough.sh");
    std::fs::write(&script_path, &script).unwrap();
    let output_path = servers_dir.path().join("output.txt");
    let output = std::fs::File::create(&output_path).unwrap();
    let mut shell = Command::new("bash")
        .arg(&script_path)
        .current_dir(work.path())
        .env_remove("DATABASE_URL")
        .env_remove("TRM_AUDIT_KEY_FILE")
        .env("TRM_DATA_DIR", crate::harness::data_dir())
        .env("DOC_TRM_BIN", env!("CARGO_BIN_EXE_trm"))
        .env("DOC_SERVERS", servers_dir.path())
        .stdin(Stdio::null())
        .stdout(output.try_clone().unwrap())
        .stderr(output)
        .spawn()
        .expect("run bash");
    let status = tokio::task::spawn_blocking(move || {
        let status = process::wait_exit(&mut shell, Duration::from_secs(900));
        if status.is_none() {
            let _ = shell.kill();
            let _ = shell.wait();
        }
        status
    })
    .await
    .unwrap();
    if status.is_none_or(|s| !s.success()) {
        let printed = std::fs::read_to_string(&output_path).unwrap_or_default();
        let failure = printed
            .find("DOC-TEST FAILED")
            .map(|i| printed[i..].to_string())
            .unwrap_or_else(|| match status {
                None => "the walk-through did not finish within 15 minutes".to_string(),
                Some(s) => format!("bash exited with {s}"),
            });
        let lines: Vec<&str> = printed.lines().collect();
        let tail = lines[lines.len().saturating_sub(60)..].join("\n");
        panic!(
            "a walk-through of {} failed ({}):\n{failure}\n--- the shell's last output ---\n{tail}",
            page.path,
            if postgres { "PostgreSQL" } else { "SQLite" }
        );
    }

    for child in servers.0.drain(..) {
        process::stop(child);
    }
    for (name, db) in &databases {
        let out = crate::harness::trm_command()
            .args(["audit", "verify", "--database-url", &db.url, "--workflows"])
            .arg(workflows_dir())
            .output()
            .expect("run trm audit verify");
        let text = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && text.contains("OK"),
            "{}: the database `{name}` left by the walk-through does not verify: {text}",
            page.path
        );
    }
}

#[tokio::test]
async fn the_readme_first_session_runs_as_pasted() {
    run_page(&README).await;
}

#[tokio::test]
async fn the_user_guide_walkthroughs_run_as_pasted() {
    run_page(&USER_GUIDE).await;
}

#[tokio::test]
async fn the_auditors_walkthrough_runs_as_pasted() {
    run_page(&AUDIT).await;
}

/// The pages with walk-throughs: the README and every page of `docs/`.
fn documentation_pages() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut pages = vec![root.join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    docs.sort();
    pages.extend(docs);
    pages
}

#[test]
fn every_expect_marker_belongs_to_a_block_the_walkthroughs_run() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let run: Vec<(String, usize)> = PAGES
        .iter()
        .flat_map(|p| page_blocks(p))
        .map(|b| (b.page.to_string(), b.line))
        .collect();
    for path in documentation_pages() {
        let page = path
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .to_string();
        let text = std::fs::read_to_string(&path).unwrap();
        let blocks = fenced_blocks(&text);
        let attached = blocks.iter().filter(|b| !b.expect.is_empty()).count();
        assert_eq!(
            attached,
            text.lines()
                .filter(|l| l.trim_start().starts_with("<!-- expect:"))
                .count(),
            "{page}: an <!-- expect: --> marker that does not follow a block's closing fence"
        );
        for b in blocks.iter().filter(|b| !b.expect.is_empty()) {
            assert!(
                is_shell(&b.info) && run.contains(&(page.clone(), b.line)),
                "{page}, line {}: <!-- expect: {} --> on a block no walk-through runs \
                 (tests/api/docs.rs lists them)",
                b.line,
                b.expect.join(", ")
            );
        }
    }
}
