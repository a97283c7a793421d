//! A track's workflow as a picture (inline SVG, no script): its states in layers from the
//! initial one, its transitions as arrows, the current state marked. Built from the workflow as
//! the API gives it; the text beside it (the current state, the steps that can be taken) says
//! the same for those who do not see it.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt::Write;

/// A state of the track.
pub struct Node<'a> {
    pub key: &'a str,
    pub label: &'a str,
    pub terminal: bool,
}

const W: i64 = 168;
const H: i64 = 40;
const GAP_X: i64 = 16;
const GAP_Y: i64 = 34;
const LABEL_CHARS: usize = 24;

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn short(label: &str) -> String {
    if label.chars().count() <= LABEL_CHARS {
        label.to_string()
    } else {
        let cut: String = label.chars().take(LABEL_CHARS - 1).collect();
        format!("{}…", cut.trim_end())
    }
}

/// The SVG of a track: `nodes` in the workflow's order, `edges` (from, to), the `initial` and
/// `current` states; `id` makes its marker's id unique on the page; `title` is its accessible
/// name.
pub fn track_svg(
    id: &str,
    title: &str,
    nodes: &[Node<'_>],
    edges: &[(&str, &str)],
    initial: &str,
    current: Option<&str>,
) -> String {
    let index: HashMap<&str, usize> = nodes.iter().enumerate().map(|(i, n)| (n.key, i)).collect();
    let mut next: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (from, to) in edges {
        if let (Some(&f), Some(&t)) = (index.get(from), index.get(to)) {
            next.entry(f).or_default().push(t);
        }
    }
    // Layers: breadth-first from the initial state; states it does not reach go last.
    let mut layer = vec![usize::MAX; nodes.len()];
    let mut queue = VecDeque::new();
    if let Some(&start) = index.get(initial) {
        layer[start] = 0;
        queue.push_back(start);
    }
    while let Some(n) = queue.pop_front() {
        for &t in next.get(&n).into_iter().flatten() {
            if layer[t] == usize::MAX {
                layer[t] = layer[n] + 1;
                queue.push_back(t);
            }
        }
    }
    let deepest = layer
        .iter()
        .filter(|l| **l != usize::MAX)
        .max()
        .copied()
        .unwrap_or(0);
    for l in &mut layer {
        if *l == usize::MAX {
            *l = deepest + 1;
        }
    }
    let mut rows: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, l) in layer.iter().enumerate() {
        rows.entry(*l).or_default().push(i);
    }
    let widest = rows.values().map(Vec::len).max().unwrap_or(1) as i64;
    let width = widest * (W + GAP_X) + GAP_X;
    let height = rows.len() as i64 * (H + GAP_Y) + GAP_Y;
    let mut pos = vec![(0i64, 0i64); nodes.len()];
    for (r, members) in rows.values().enumerate() {
        let row_width = members.len() as i64 * (W + GAP_X) - GAP_X;
        let left = (width - row_width) / 2;
        for (c, &n) in members.iter().enumerate() {
            pos[n] = (
                left + c as i64 * (W + GAP_X),
                GAP_Y / 2 + r as i64 * (H + GAP_Y),
            );
        }
    }
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg class=\"workflow\" role=\"img\" aria-labelledby=\"{id}-t\" width=\"{width}\" \
         height=\"{height}\" viewBox=\"0 0 {width} {height}\" xmlns=\"http://www.w3.org/2000/svg\">\
         <title id=\"{id}-t\">{}</title>\
         <defs><marker id=\"{id}-a\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" \
         markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M0,0L10,5L0,10z\" class=\"arrowhead\"/>\
         </marker></defs>",
        escape(title)
    );
    for (&from, targets) in &next {
        for &to in targets {
            let (fx, fy) = pos[from];
            let (tx, ty) = pos[to];
            if from == to {
                continue;
            }
            let forward = layer[to] > layer[from];
            let (x1, y1, x2, y2) = if forward {
                (fx + W / 2, fy + H, tx + W / 2, ty)
            } else {
                (fx + W, fy + H / 2, tx + W, ty + H / 2)
            };
            let path = if forward {
                format!("M{x1},{y1}L{x2},{y2}")
            } else {
                let bend = x1.max(x2) + GAP_X;
                format!("M{x1},{y1}C{bend},{y1} {bend},{y2} {x2},{y2}")
            };
            let class = if forward { "edge" } else { "edge back" };
            let _ = write!(
                svg,
                "<path d=\"{path}\" class=\"{class}\" marker-end=\"url(#{id}-a)\"/>"
            );
        }
    }
    for (i, node) in nodes.iter().enumerate() {
        let (x, y) = pos[i];
        let mut class = String::from("state");
        if node.terminal {
            class.push_str(" terminal");
        }
        if Some(node.key) == current {
            class.push_str(" current");
        }
        let _ = write!(
            svg,
            "<g class=\"{class}\"><title>{}</title><rect x=\"{x}\" y=\"{y}\" width=\"{W}\" \
             height=\"{H}\" rx=\"8\"/><text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text></g>",
            escape(node.label),
            x + W / 2,
            y + H / 2 + 5,
            escape(&short(node.label)),
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_is_drawn_once_and_the_current_one_is_marked() {
        let nodes = [
            Node {
                key: "a",
                label: "Signal received",
                terminal: false,
            },
            Node {
                key: "b",
                label: "Screening <under way>",
                terminal: false,
            },
            Node {
                key: "c",
                label: "Not a victim",
                terminal: true,
            },
        ];
        let svg = track_svg(
            "t1",
            "Identification",
            &nodes,
            &[("a", "b"), ("b", "c"), ("b", "a")],
            "a",
            Some("b"),
        );
        assert_eq!(svg.matches("<rect").count(), 3);
        assert_eq!(svg.matches("class=\"state current\"").count(), 1);
        assert!(
            svg.contains("Screening &lt;under way&gt;"),
            "labels are escaped"
        );
        assert!(
            svg.contains("class=\"edge back\""),
            "a way back is drawn as such"
        );
        assert!(
            !svg.contains("style="),
            "no inline styles (the page's CSP forbids them)"
        );
    }
}
