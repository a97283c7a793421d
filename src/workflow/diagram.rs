//! Workflow definitions drawn for people: Mermaid state diagrams, one composite state per track.

use super::definition::Workflow;
use std::fmt::Write;

/// Renders `workflow` as a Mermaid `stateDiagram-v2`, labels in `language` (English fallback).
pub fn mermaid(workflow: &Workflow, language: &str) -> String {
    let mut out = String::from("stateDiagram-v2\n");
    let _ = writeln!(out, "    %% {} v{}", workflow.id, workflow.version);
    for track in &workflow.tracks {
        let _ = writeln!(
            out,
            "    state \"{}\" as {} {{",
            escape(track.label.get(language)),
            track.id
        );
        for state in workflow.states.values().filter(|s| s.track == track.id) {
            let _ = writeln!(
                out,
                "        state \"{}\" as {}",
                escape(state.label.get(language)),
                state.id
            );
        }
        let _ = writeln!(out, "        [*] --> {}", track.initial);
        for t in workflow.transitions.iter().filter(|t| t.track == track.id) {
            for from in &t.from {
                let _ = writeln!(
                    out,
                    "        {from} --> {} : {}",
                    t.to,
                    escape(t.label.get(language))
                );
            }
        }
        for state in workflow
            .states
            .values()
            .filter(|s| s.track == track.id && s.terminal)
        {
            let _ = writeln!(out, "        {} --> [*]", state.id);
        }
        let _ = writeln!(out, "    }}");
    }
    for t in &workflow.transitions {
        for started in &t.effects.start_tracks {
            let _ = writeln!(out, "    {} --> {started} : starts", t.to);
        }
    }
    out
}

fn escape(label: &str) -> String {
    label
        .replace('"', "'")
        .replace(':', " -")
        .replace(['\n', ';'], " ")
}
