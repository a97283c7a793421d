//! The Markdown report: the transition tables with their baselines and ratios, the reads,
//! and issue 18's targets (reported as met or not; nothing here asserts a time).

use crate::load::Stats;
use crate::{Args, CEILING_CLIENTS, READ_CLIENTS, Results, physical, physical_name};

/// The measurement at `clients` clients, if the run had that client count.
fn at_clients(runs: &[(usize, Stats)], clients: usize) -> Option<&Stats> {
    runs.iter().find(|(c, _)| *c == clients).map(|(_, s)| s)
}

/// The transition targets of issue 18 for one database: (database, target, measured, wanted,
/// met). Reported, never asserted: a smoke run on a busy machine must not fail on its times.
pub(crate) fn target_rows(db: &str, r: &Results) -> Vec<[String; 5]> {
    let phys = physical_name(db);
    let ratio_to = |baseline: &[(usize, Stats)], clients: usize| -> Option<f64> {
        Some(
            at_clients(&r.transitions, clients)?.per_second()
                / at_clients(baseline, clients)?.per_second(),
        )
    };
    let ratio = |clients: usize| ratio_to(&r.physical, clients);
    let row =
        |target: String, measured: Option<(f64, String)>, wanted: String, met: fn(f64) -> bool| {
            let (measured, verdict) = match measured {
                Some((v, shown)) => (
                    shown,
                    if met(v) { "met" } else { "**not met**" }.to_string(),
                ),
                None => (
                    "–".to_string(),
                    "not measured (no such client count in this run)".to_string(),
                ),
            };
            [db.to_string(), target, measured, wanted, verdict]
        };
    let mut rows = Vec::new();
    if r.transitions.is_empty() {
        return rows;
    }
    rows.push(row(
        format!("TRM / {phys} baseline, 32 clients"),
        ratio(32).map(|v| (v, format!("{v:.2}"))),
        "≥ 0.50".into(),
        |v| v >= 0.5,
    ));
    if db == "sqlite" {
        rows.push(row(
            format!("TRM / {phys} baseline queued for one connection, 32 clients (stricter)"),
            ratio_to(&r.physical_queued, 32).map(|v| (v, format!("{v:.2}"))),
            "≥ 0.50".into(),
            |v| v >= 0.5,
        ));
        rows.push(row(
            format!("TRM / {phys} baseline, 1 client"),
            ratio(1).map(|v| (v, format!("{v:.2}"))),
            "≥ 0.35".into(),
            |v| v >= 0.35,
        ));
        rows.push(row(
            "TRM p99, 32 clients".into(),
            at_clients(&r.transitions, 32).map(|t| {
                let v = t.p99 as f64 / 1000.0;
                (v, format!("{v:.1} ms"))
            }),
            "≤ 40 ms".into(),
            |v| v <= 40.0,
        ));
    }
    rows
}

pub(crate) fn render_targets(rows: &[[String; 5]]) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    if rows.is_empty() {
        return s;
    }
    let _ = writeln!(
        s,
        "\n### Targets (issue 18: transitions at the speed of the disk)\n\nMeasured in this run against the physical baselines of the same run; reported, not asserted.\n"
    );
    if cfg!(debug_assertions) {
        let _ = writeln!(
            s,
            "This run is a debug build of trm-bench (and, unless `--trm` says otherwise, of `trm`): its times mean nothing.\n"
        );
    }
    let _ = writeln!(s, "| database | target | measured | wanted | |");
    let _ = writeln!(s, "|---|---|---:|---:|---|");
    for [db, target, measured, wanted, verdict] in rows {
        let _ = writeln!(s, "| {db} | {target} | {measured} | {wanted} | {verdict} |");
    }
    s
}

pub(crate) fn render(db: &str, args: &Args, r: &Results) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(s, "\n### {db}\n");
    if !r.transitions.is_empty() {
        render_transitions(&mut s, db, r);
    }
    if !r.reads.is_empty() {
        render_reads(&mut s, args, r);
    }
    s
}

fn render_transitions(s: &mut String, db: &str, r: &Results) {
    use std::fmt::Write;
    let phys = physical_name(db);
    let how = if db == "sqlite" {
        "SQLite's C API (rusqlite, cached prepared statements): one connection and thread per client, contending on the write lock with a busy timeout; `BEGIN IMMEDIATE`, read the case and the log's last leaf, `UPDATE` the case, `INSERT` the event and its leaf, `COMMIT`; WAL, `synchronous = FULL`"
    } else {
        "tokio-postgres with prepared statements, one connection per client: `BEGIN`, `SELECT … FOR UPDATE` of the case, `UPDATE` it, `INSERT` the event and its log leaf (its position from a sequence: no lock on the log), `COMMIT`; like TRM and the store baseline, over TCP without TLS"
    };
    let store_how = if db == "sqlite" {
        "sea-orm; the writes on the service's writing connection, SQLite's C API, in groups"
    } else {
        "sea-orm; the writes on the service's writing connections, tokio-postgres with prepared statements"
    };
    let _ = writeln!(
        s,
        "Transitions (`fireTransition` of a repeatable step over GraphQL/HTTP, each client on its own case) against two baselines doing a transition's transaction on a database of their own, without engine, policies, GraphQL or HTTP: **store**, through the same store code and connections as the service ({store_how}); **{phys}**, the physical limit, through {how}. TRM / {phys} is what the service makes of the disk; store / {phys} is the store's share of the loss (its driver and code); TRM / store the rest. Latencies in ms.\n"
    );
    let _ = writeln!(
        s,
        "| clients | TRM tx/s | p50 | p99 | max | store tx/s | store p99 | {phys} tx/s | {phys} p99 | TRM / {phys} | store / {phys} | TRM / store |"
    );
    let _ = writeln!(
        s,
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    let ms = |us: u64| us as f64 / 1000.0;
    for (c, t) in &r.transitions {
        let store = at_clients(&r.raw, *c);
        let physical = at_clients(&r.physical, *c);
        let cell = |st: Option<&Stats>| {
            st.map_or("–".to_string(), |st| {
                format!("{:.0} | {:.2}", st.per_second(), ms(st.p99))
            })
        };
        let ratio = |a: Option<&Stats>, b: Option<&Stats>| match (a, b) {
            (Some(a), Some(b)) => format!("{:.2}", a.per_second() / b.per_second()),
            _ => "–".to_string(),
        };
        let _ = writeln!(
            s,
            "| {c} | {t} | {} | {} | {} | {} | {} |",
            cell(store),
            cell(physical),
            ratio(Some(t), physical),
            ratio(store, physical),
            ratio(Some(t), store)
        );
    }
    // The second way of running the physical baseline: SQLite's clients queued for one
    // connection, PostgreSQL's log locked as TRM locks it.
    let (variant, label, what) = if db == "sqlite" {
        (
            &r.physical_queued,
            "queued",
            format!(
                "The {phys} baseline again with its clients' threads taking one connection in turn (a FIFO lock, as TRM's writers queue for its one writer connection) instead of each polling SQLite's lock on the busy timeout, whose sleeps (up to 100 ms a retry) leave the lock idle and starve some clients, and whose connections each read their pages again after another one wrote: the one-writer limit of the disk at N clients."
            ),
        )
    } else {
        (
            &r.physical_locked,
            "locked",
            format!(
                "The {phys} baseline again with the audit-log leaf appended as TRM's store appends it: after the event, `pg_advisory_xact_lock` on the log (held to the commit, fsync included), the log's size, the leaf at that position. What that lock costs is {phys} / locked; TRM / locked is what the rest of the service makes of it."
            ),
        )
    };
    let rounds = r.transitions.first().map_or(1, |(_, t)| t.rounds.len());
    if rounds > 1 {
        let _ = writeln!(
            s,
            "\nEach number above adds up {rounds} rounds, run one after the other at each client count; tx/s of each round, in order:\n"
        );
        let mut header = format!("| clients | TRM | store | {phys} |");
        let mut rule = "|---:|---|---|---|".to_string();
        if !variant.is_empty() {
            header.push_str(&format!(" {phys} {label} |"));
            rule.push_str("---|");
        }
        let _ = writeln!(s, "{header}\n{rule}");
        let each = |st: Option<&Stats>| {
            st.map_or("–".to_string(), |st| {
                st.rounds
                    .iter()
                    .map(|v| format!("{v:.0}"))
                    .collect::<Vec<_>>()
                    .join(" / ")
            })
        };
        for (c, t) in &r.transitions {
            let _ = write!(
                s,
                "| {c} | {} | {} | {} |",
                each(Some(t)),
                each(at_clients(&r.raw, *c)),
                each(at_clients(&r.physical, *c))
            );
            if !variant.is_empty() {
                let _ = write!(s, " {} |", each(at_clients(variant, *c)));
            }
            let _ = writeln!(s);
        }
    }
    if !variant.is_empty() {
        let _ = writeln!(s, "\n{what}\n");
        let _ = writeln!(
            s,
            "| clients | {label} tx/s | p50 | p99 | max | TRM / {label} | store / {label} | {phys} / {label} |"
        );
        let _ = writeln!(s, "|---:|---:|---:|---:|---:|---:|---:|---:|");
        for (c, q) in variant {
            let ratio = |st: Option<&Stats>| {
                st.map_or("–".to_string(), |st| {
                    format!("{:.2}", st.per_second() / q.per_second())
                })
            };
            let _ = writeln!(
                s,
                "| {c} | {q} | {} | {} | {} |",
                ratio(at_clients(&r.transitions, *c)),
                ratio(at_clients(&r.raw, *c)),
                ratio(at_clients(&r.physical, *c))
            );
        }
    }
    let _ = writeln!(
        s,
        "\nThe {phys} baseline's event row carries about {} bytes of values (the same `changes` JSON, hashes, ids and timestamps TRM writes for this step), on TRM's own schema (its migrations: the same indexes and foreign keys).",
        physical::event_row_bytes()
    );
    if !r.pgbench.is_empty() {
        let _ = writeln!(
            s,
            "\nThe same transaction as a `pgbench -M prepared` script (each transaction preceded by one indexed read of the client's case id; hash and ids computed in SQL):\n"
        );
        let _ = writeln!(
            s,
            "| clients | pgbench tx/s | p50 | p99 | max | pgbench / {phys} |"
        );
        let _ = writeln!(s, "|---:|---:|---:|---:|---:|---:|");
        for (c, p) in &r.pgbench {
            let ratio = at_clients(&r.physical, *c).map_or("–".to_string(), |b| {
                format!("{:.2}", p.per_second() / b.per_second())
            });
            let _ = writeln!(s, "| {c} | {p} | {ratio} |");
        }
    }
    let _ = writeln!(
        s,
        "\nLoad average (1 min) when the transition workloads started and ended: {} and {}, on {} CPUs: above the CPU count, other work shared the machine, and each workload got the CPU in proportion to its runnable threads.",
        r.load.0,
        r.load.1,
        std::thread::available_parallelism().map_or(0, usize::from)
    );
    if let Some(c) = &r.ceiling {
        let _ = writeln!(
            s,
            "\nFramework ceiling, `{{ __typename }}` with authentication, {CEILING_CLIENTS} clients: {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms. Peak server memory after the transitions: {:.0} MiB.",
            c.per_second(),
            c.p50 as f64 / 1000.0,
            c.p99 as f64 / 1000.0,
            r.peak_after_transitions
        );
    }
    if let Some((events, h)) = &r.history {
        let _ = writeln!(
            s,
            "\n`history(first: 100)` of a case of {events} events, {READ_CLIENTS} clients: {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms.",
            h.per_second(),
            h.p50 as f64 / 1000.0,
            h.p99 as f64 / 1000.0
        );
    }
}

fn render_reads(s: &mut String, args: &Args, r: &Results) {
    use std::fmt::Write;
    let _ = writeln!(
        s,
        "\nReads, {READ_CLIENTS} clients unless a row says otherwise (latencies in ms):\n"
    );
    let _ = write!(s, "| query |");
    for size in &args.sizes {
        let _ = write!(s, " {size}: req/s | p50 | p99 | max |");
    }
    let _ = writeln!(s, " p50 largest / smallest |");
    let _ = writeln!(s, "|---|{}---:|", "---:|".repeat(4 * args.sizes.len()));
    // The API's reads, then the console's pages in the order they ran (those marked "1 client"
    // alone: the server time a user waits for).
    let mut labels: Vec<&str> = vec!["case(id)", "cases(filter)", "worklist"];
    for (_, label, _) in &r.reads {
        if !labels.contains(label) {
            labels.push(label);
        }
    }
    for label in labels {
        let row: Vec<&Stats> = r
            .reads
            .iter()
            .filter(|(_, l, _)| *l == label)
            .map(|(_, _, st)| st)
            .collect();
        let _ = write!(s, "| `{label}` |");
        for st in &row {
            let _ = write!(s, " {st} |");
        }
        let ratio = match (row.first(), row.last()) {
            (Some(a), Some(b)) => b.p50 as f64 / a.p50.max(1) as f64,
            _ => f64::NAN,
        };
        let _ = writeln!(s, " {ratio:.2} |");
    }
    let _ = writeln!(
        s,
        "\nStart-up (to `/readyz`), peak server memory (VmHWM) after the reads, audit verification:\n"
    );
    let _ = writeln!(
        s,
        "| cases | start-up s | peak MiB | events verified | verify MB/s | raw SHA-256 MB/s | verify / SHA-256 |"
    );
    let _ = writeln!(s, "|---:|---:|---:|---:|---:|---:|---:|");
    for ((size, startup, peak), (_, events, v, sha)) in r.startup.iter().zip(&r.verify) {
        let _ = writeln!(
            s,
            "| {size} | {:.2} | {peak:.0} | {events} | {v:.1} | {sha:.1} | {:.3} |",
            startup.as_secs_f64(),
            v / sha
        );
    }
}
