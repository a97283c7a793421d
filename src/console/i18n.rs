//! The console's languages: English and French, its messages in Project Fluent files
//! (`locales/<lang>/console.ftl`, compiled into the binary). Workflow labels come from the
//! workflows themselves, in the language asked of the API.

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use std::sync::OnceLock;

/// A language of the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Fr,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Fr];

    /// The code used in HTML, forms and the API (`language` arguments).
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Fr => "fr",
        }
    }

    /// The language's own name.
    pub fn name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Fr => "Français",
        }
    }

    pub fn from_code(code: &str) -> Option<Lang> {
        match code.trim().get(..2).map(str::to_ascii_lowercase).as_deref() {
            Some("en") => Some(Lang::En),
            Some("fr") => Some(Lang::Fr),
            _ => None,
        }
    }

    /// The first supported language of an `Accept-Language` header (q-values in order), else
    /// English.
    pub fn from_accept_language(header: Option<&str>) -> Lang {
        let Some(header) = header else {
            return Lang::En;
        };
        let mut ranked: Vec<(f32, Lang)> = header
            .split(',')
            .filter_map(|part| {
                let mut pieces = part.split(';');
                let lang = Lang::from_code(pieces.next()?)?;
                let q = pieces
                    .find_map(|p| p.trim().strip_prefix("q="))
                    .and_then(|q| q.parse::<f32>().ok())
                    .unwrap_or(1.0);
                Some((q, lang))
            })
            .collect();
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
        ranked.first().map_or(Lang::En, |(_, l)| *l)
    }

    fn index(self) -> usize {
        match self {
            Lang::En => 0,
            Lang::Fr => 1,
        }
    }
}

const SOURCES: [&str; 2] = [
    include_str!("../../locales/en/console.ftl"),
    include_str!("../../locales/fr/console.ftl"),
];

struct Bundles([FluentBundle<FluentResource>; 2]);

fn bundles() -> &'static Bundles {
    static BUNDLES: OnceLock<Bundles> = OnceLock::new();
    BUNDLES.get_or_init(|| {
        let make = |lang: Lang| {
            let id = match lang {
                Lang::En => unic_langid::langid!("en"),
                Lang::Fr => unic_langid::langid!("fr"),
            };
            let mut bundle = FluentBundle::new_concurrent(vec![id]);
            // Markup is escaped by the templates; isolation marks would show up in forms.
            bundle.set_use_isolating(false);
            // The files are part of the binary and checked by the tests below: a syntax error
            // cannot reach a running server (the resource keeps what parsed).
            let resource = match FluentResource::try_new(SOURCES[lang.index()].to_string()) {
                Ok(r) | Err((r, _)) => r,
            };
            let _ = bundle.add_resource(resource);
            bundle
        };
        Bundles([make(Lang::En), make(Lang::Fr)])
    })
}

/// The messages of one language, as the templates use them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tr {
    pub lang: Lang,
}

impl Tr {
    pub fn new(lang: Lang) -> Tr {
        Tr { lang }
    }

    /// The language code, for `<html lang>` and API calls.
    pub fn code(&self) -> &'static str {
        self.lang.code()
    }

    /// Message `id`; the id itself when missing (the tests keep that from happening).
    pub fn t(&self, id: &str) -> String {
        self.format(id, None)
    }

    /// Message `id` with one argument.
    pub fn t1(&self, id: &str, name: &str, value: &str) -> String {
        let mut args = FluentArgs::new();
        args.set(name, FluentValue::from(value.to_string()));
        self.format(id, Some(&args))
    }

    /// Message `id` with named arguments.
    pub fn t_args(&self, id: &str, values: &[(&str, &str)]) -> String {
        let mut args = FluentArgs::new();
        for (name, value) in values {
            args.set(*name, FluentValue::from(value.to_string()));
        }
        self.format(id, Some(&args))
    }

    /// Message `id` with a number (plural forms).
    pub fn tn(&self, id: &str, name: &str, value: i64) -> String {
        let mut args = FluentArgs::new();
        args.set(name, FluentValue::from(value));
        self.format(id, Some(&args))
    }

    fn format(&self, id: &str, args: Option<&FluentArgs>) -> String {
        let bundle = &bundles().0[self.lang.index()];
        let Some(pattern) = bundle.get_message(id).and_then(|m| m.value()) else {
            return id.to_string();
        };
        let mut errors = Vec::new();
        bundle
            .format_pattern(pattern, args, &mut errors)
            .into_owned()
    }

    /// The label of an agency kind (`AgencyKind` of the API): its own messages, since the same
    /// word names other things (`CHILD_PROTECTION` is also a legal basis).
    pub fn agency_kind(&self, kind: &str) -> String {
        self.t(&format!(
            "agency-kind-{}",
            kind.to_ascii_lowercase().replace('_', "-")
        ))
    }

    /// The label of a role (`Role` of the API).
    pub fn role(&self, role: &str) -> String {
        self.t(&format!(
            "role-{}",
            role.to_ascii_lowercase().replace('_', "-")
        ))
    }

    /// The label of an enum value of the API (`AgencyKind`, `DataGroup`, ...): message
    /// `enum-<VALUE>` (lower case, `_` as `-`), else the value made readable.
    pub fn value(&self, value: &str) -> String {
        let id = format!("enum-{}", value.to_ascii_lowercase().replace('_', "-"));
        let text = self.t(&id);
        if text == id {
            let readable = value.to_ascii_lowercase().replace('_', " ");
            let mut chars = readable.chars();
            chars
                .next()
                .map(|c| c.to_uppercase().chain(chars).collect())
                .unwrap_or_default()
        } else {
            text
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn ids(source: &str) -> BTreeSet<String> {
        source
            .lines()
            .filter(|l| !l.starts_with([' ', '#', '\t']) && l.contains(" ="))
            .filter_map(|l| l.split(" =").next())
            .map(|id| id.trim().to_string())
            .collect()
    }

    #[test]
    fn both_languages_parse_and_have_the_same_messages() {
        for source in SOURCES {
            assert!(
                FluentResource::try_new(source.to_string()).is_ok(),
                "a console.ftl does not parse"
            );
        }
        let (en, fr) = (ids(SOURCES[0]), ids(SOURCES[1]));
        assert!(en.len() > 50);
        assert_eq!(
            en.symmetric_difference(&fr).collect::<Vec<_>>(),
            Vec::<&String>::new(),
            "messages in one language only"
        );
    }

    #[test]
    fn every_message_used_by_a_template_or_the_code_exists() {
        let en = ids(SOURCES[0]);
        let dirs = [
            concat!(env!("CARGO_MANIFEST_DIR"), "/templates/console"),
            concat!(env!("CARGO_MANIFEST_DIR"), "/src/console"),
        ];
        let mut missing = BTreeSet::new();
        // Every file below the directories (the pages are in sub-folders).
        let mut files = Vec::new();
        let mut folders: Vec<std::path::PathBuf> = dirs.iter().map(Into::into).collect();
        while let Some(folder) = folders.pop() {
            for entry in std::fs::read_dir(folder).into_iter().flatten().flatten() {
                if entry.path().is_dir() {
                    folders.push(entry.path());
                } else {
                    files.push(entry.path());
                }
            }
        }
        assert!(files.len() > 20, "the console's sources were not found");
        for file in files {
            let text = std::fs::read_to_string(file).unwrap_or_default();
            for call in [".t(\"", ".t1(\"", ".tn(\""] {
                for piece in text.split(call).skip(1) {
                    if let Some(id) = piece.split('"').next()
                        && !id.is_empty()
                        && !en.contains(id)
                    {
                        missing.insert(id.to_string());
                    }
                }
            }
        }
        assert!(
            missing.is_empty(),
            "messages used but not defined: {missing:?}"
        );
    }

    #[test]
    fn the_browser_language_is_followed_when_supported() {
        assert_eq!(
            Lang::from_accept_language(Some("fr-FR,fr;q=0.9,en;q=0.8")),
            Lang::Fr
        );
        assert_eq!(
            Lang::from_accept_language(Some("de-DE,en;q=0.5,fr;q=0.7")),
            Lang::Fr
        );
        assert_eq!(Lang::from_accept_language(Some("de-DE")), Lang::En);
        assert_eq!(Lang::from_accept_language(None), Lang::En);
        assert_eq!(
            Tr::new(Lang::Fr).tn("cases-count", "count", 2),
            "2 dossiers"
        );
    }
}
