//! The printable form of a case file: one self-contained HTML page (no scripts, no external
//! resources) with the case, the checkpoint it is anchored to and whether the file verified
//! when it was exported, the timeline, the disclosures and the access log, laid out for paper.

use super::export::{CaseFile, FileReport};
use serde_json::Value;
use std::fmt::Write;

/// Escapes text for HTML element content and attribute values.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn text_of(v: &Value, key: &str) -> String {
    match v.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

/// What an event did, in one line: the kind, and the transition with its track move or the
/// timer, when there is one.
fn what(content: &Value) -> String {
    let kind = text_of(content, "kind");
    let transition = text_of(content, "transition");
    let (track, from, to) = (
        text_of(content, "track"),
        text_of(content, "from_state"),
        text_of(content, "to_state"),
    );
    let mut line = kind;
    if !transition.is_empty() {
        let _ = write!(line, ": {transition} ({track}: {from} \u{2192} {to})");
    }
    if let Some(timer) = content
        .get("changes")
        .and_then(|c| c.get("timer_elapsed"))
        .and_then(Value::as_str)
    {
        let _ = write!(line, ": timer {timer}");
    }
    line
}

/// What checking the file found when it was exported, in one paragraph. Paper cannot be
/// checked again: it says so, and how to check the JSON file.
fn verification(report: &FileReport) -> String {
    match (&report.first_problem, &report.anchored_to) {
        (None, Some((size, key))) => format!(
            "<p><strong>Verified when exported:</strong> the {events} events form the case's whole \
             chain and each is proven to be in the audit log of {size} entries, whose checkpoint \
             is signed by key <code>{key}</code>, trusted by the exporting service.</p>",
            events = report.events,
            key = esc(key),
        ),
        (Some(problem), _) => format!(
            "<p><strong>NOT VERIFIED when exported:</strong> {}.</p>",
            esc(problem)
        ),
        (None, None) => "<p><strong>NOT VERIFIED when exported.</strong></p>".to_string(),
    }
}

/// The page, with what checking the file found when it was exported (`report`).
pub fn render(file: &CaseFile, report: &FileReport) -> String {
    let c = &file.case;
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>Case file {reference}</title><style>\
         body{{font-family:sans-serif;font-size:10pt;margin:1.5cm}}\
         table{{border-collapse:collapse;width:100%;margin-bottom:1em}}\
         th,td{{border:1px solid #999;padding:3px 5px;text-align:left;vertical-align:top}}\
         th{{background:#eee}} code{{font-size:8pt;word-break:break-all}}\
         tr{{page-break-inside:avoid}} @page{{size:A4 landscape}}\
         </style></head><body>\n<h1>Case file {reference}</h1>\n",
        reference = esc(&c.reference)
    );
    let states = c
        .states
        .iter()
        .map(|(track, state)| format!("{}: {}", esc(track), esc(state)))
        .collect::<Vec<_>>()
        .join("; ");
    let _ = writeln!(
        h,
        "<table><tr><th>Workflow</th><td>{} v{}</td><th>Country</th><td>{}</td></tr>\
         <tr><th>Status</th><td>{}</td><th>Lead agency</th><td>{}</td></tr>\
         <tr><th>Opened</th><td>{}</td><th>Version</th><td>{}</td></tr>\
         <tr><th>States</th><td colspan=\"3\">{states}</td></tr>\
         <tr><th>Exported</th><td colspan=\"3\">{}</td></tr></table>",
        esc(&c.workflow_id),
        c.workflow_version,
        esc(&c.country),
        esc(&c.status),
        esc(&c.lead_agency),
        c.opened_at.to_rfc3339(),
        c.version,
        file.exported_at.to_rfc3339(),
    );
    match &file.checkpoint {
        Some(cp) => {
            let _ = writeln!(
                h,
                "<h2>Anchor</h2><p>Every event below is proven to be in the audit log of \
                 {size} entries whose root <code>{root}</code> was signed on {at} by key \
                 <code>{key}</code>. Check the JSON file with \
                 <code>trm audit verify-file &lt;file&gt;.json --trusted-key &lt;public key&gt;</code>.</p>",
                size = cp.tree_size,
                root = esc(&cp.root_hash),
                at = cp.created_at.to_rfc3339(),
                key = esc(&cp.key_id),
            );
        }
        None => h.push_str(
            "<h2>Anchor</h2><p><strong>Not anchored:</strong> the service had no audit key, \
             so this file carries no signed checkpoint and cannot be verified.</p>\n",
        ),
    }
    h.push_str(&verification(report));
    h.push_str(
        "<h2>Timeline</h2><table><tr><th>#</th><th>When (UTC)</th><th>Agency</th>\
         <th>By</th><th>What</th><th>Workflow</th><th>Reason</th><th>Hash</th></tr>\n",
    );
    for e in &file.events {
        let _ = writeln!(
            h,
            "<tr><td>{seq}</td><td>{at}</td><td>{agency}</td><td>{actor}</td><td>{what}</td>\
             <td>{wf} v{wv}</td><td>{reason}</td><td><code>{hash}</code></td></tr>",
            seq = e.seq,
            at = esc(&text_of(&e.content, "occurred_at")),
            agency = esc(&e.agency),
            actor = esc(&e.actor),
            what = esc(&what(&e.content)),
            wf = esc(&text_of(&e.content, "workflow_id")),
            wv = esc(&text_of(&e.content, "workflow_version")),
            reason = esc(e.reason.as_deref().unwrap_or("")),
            hash = esc(e.hash.get(..16).unwrap_or(&e.hash)),
        );
    }
    h.push_str("</table>\n<h2>Disclosures</h2>\n");
    if file.disclosures.is_empty() {
        h.push_str("<p>None.</p>\n");
    } else {
        h.push_str(
            "<table><tr><th>When</th><th>Kind</th><th>From</th><th>To</th><th>Data groups</th>\
             <th>Ground</th><th>Status</th></tr>\n",
        );
        for d in &file.disclosures {
            let groups = d
                .get("groups")
                .and_then(Value::as_array)
                .map(|g| {
                    g.iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default();
            let ground = match d.get("ground") {
                Some(g) if g.get("consent").is_some() => {
                    format!("consent {}", text_of(g, "consent"))
                }
                Some(g) if g.get("override").is_some() => format!(
                    "override ({}): {}",
                    text_of(g, "override"),
                    text_of(g, "justification")
                ),
                _ => text_of(d, "reason"),
            };
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&text_of(d, "at")),
                esc(&text_of(d, "kind")),
                esc(&text_of(d, "from")),
                esc(&text_of(d, "to")),
                esc(&groups),
                esc(&ground),
                esc(&text_of(d, "status")),
            );
        }
        h.push_str("</table>\n");
    }
    let _ = writeln!(
        h,
        "<h2>Access log</h2><p>{} recorded reads of the person's data (see the JSON file).</p>",
        file.access_log.len()
    );
    h.push_str("</body></html>\n");
    h
}

#[cfg(test)]
mod tests {
    use super::esc;

    #[test]
    fn markup_in_recorded_text_is_escaped() {
        assert_eq!(
            esc("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
    }
}
