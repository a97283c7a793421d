//! The console's static files, compiled into the binary: its stylesheet, its small script,
//! htmx (vendored, with its SSE extension; BSD-0 licence, see `assets/console/LICENSE.*`) and
//! the icon. Pages name them by content (`/assets/console.<hash>.js`, [`url`]), so a browser
//! keeps each for a year and never keeps one past an upgrade that changed it; under its plain
//! name a file is always revalidated. The `ETag` is the content's hash either way.

use super::Console;
use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

const ASSETS: &[Asset] = &[
    Asset {
        name: "console.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("../../assets/console/console.css"),
    },
    Asset {
        name: "console.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../assets/console/console.js"),
    },
    Asset {
        name: "htmx.min.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../assets/console/htmx.min.js"),
    },
    Asset {
        name: "htmx-sse.min.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../assets/console/htmx-sse.min.js"),
    },
    Asset {
        name: "favicon.svg",
        content_type: "image/svg+xml",
        body: include_bytes!("../../assets/console/favicon.svg"),
    },
];

/// The first 16 hex digits of each asset's SHA-256, in the order of [`ASSETS`], worked out once.
static HASHES: LazyLock<Vec<String>> = LazyLock::new(|| {
    ASSETS
        .iter()
        .map(|a| {
            let digest = hex::encode(Sha256::digest(a.body));
            digest.get(..16).unwrap_or(&digest).to_string()
        })
        .collect()
});

/// `console.js` with hash `h` → `console.h.js`.
fn hashed_name(name: &str, hash: &str) -> String {
    match name.rsplit_once('.') {
        Some((stem, extension)) => format!("{stem}.{hash}.{extension}"),
        None => format!("{name}.{hash}"),
    }
}

/// The URL pages use for the asset `name`: named by its content.
pub fn url(name: &str) -> String {
    match ASSETS.iter().position(|a| a.name == name) {
        Some(i) => match HASHES.get(i) {
            Some(hash) => format!("/assets/{}", hashed_name(name, hash)),
            None => format!("/assets/{name}"),
        },
        None => format!("/assets/{name}"),
    }
}

/// The asset called `name` (plain or hashed), its hash, and whether the name was hashed.
fn find(name: &str) -> Option<(&'static Asset, &'static str, bool)> {
    ASSETS.iter().zip(HASHES.iter()).find_map(|(a, hash)| {
        if a.name == name {
            Some((a, hash.as_str(), false))
        } else if hashed_name(a.name, hash) == name {
            Some((a, hash.as_str(), true))
        } else {
            None
        }
    })
}

pub fn routes() -> Router<Console> {
    Router::new().route("/assets/{name}", get(asset))
}

async fn asset(Path(name): Path<String>, headers: HeaderMap) -> Response {
    let Some((asset, hash, hashed)) = find(&name) else {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    };
    let etag = format!("\"{hash}\"");
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|tag| tag.trim() == etag));
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        asset.body.into_response()
    };
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    if let Ok(etag) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, etag);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(if hashed {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        }),
    );
    response
}
