//! Taking a case's file away: the auditor states why (a category, the purpose in words, who it
//! is for) and gets the file the API exports, as JSON (to check anywhere with `trm audit
//! verify-file`) or as the printable page. The export is a disclosure: the API records it in
//! the case's access log and history before handing the file over, and checks the file as
//! `verify-file` does; the printable page states the result, and both answers carry it in
//! `Case-File-Verification` (`verified` or `not verified`).

use super::case::{CaseQuery, Refused, render};
use super::hidden;
use crate::console::Console;
use crate::console::pages::{Fields, api_error_page};
use crate::console::session::Signed;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

const EXPORT: &str = "mutation($input: ExportCaseFileInput!) { exportCaseFile(input: $input) {
  caseFile { document printable verification { ok } }
  case { reference } } }";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Data {
    export_case_file: Exported,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Exported {
    case_file: CaseFile,
    case: Reference,
}

#[derive(Deserialize)]
struct CaseFile {
    document: Value,
    printable: String,
    verification: Verified,
}

#[derive(Deserialize)]
struct Verified {
    ok: bool,
}

#[derive(Deserialize)]
struct Reference {
    reference: String,
}

/// A file name from a case's reference: its letters, digits and hyphens only.
fn file_name(reference: &str, extension: &str) -> String {
    let safe: String = reference
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("case-file-{safe}.{extension}")
}

/// The file as an attachment, never cached.
fn attachment(body: String, content_type: &'static str, name: &str, verified: bool) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(disposition) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, disposition);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        "case-file-verification",
        HeaderValue::from_static(if verified { "verified" } else { "not verified" }),
    );
    response
}

/// `POST /audit/cases/{id}/export`: `format` = `json` or `html`; `purposeCategory`, `purpose`,
/// `recipient` as the API takes them. A refused export (no purpose ...) shows the case page
/// again with the form as it was sent.
pub async fn download(
    State(console): State<Console>,
    signed: Signed,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<Fields>,
) -> Response {
    if let Err(refused) = form.check(&signed, &headers) {
        return refused.into_response();
    }
    let category = form.get("purposeCategory").unwrap_or("AUDIT");
    let input = json!({
        "caseId": id,
        "purposeCategory": category,
        "purpose": form.get("purpose").unwrap_or_default(),
        "recipient": form.get("recipient"),
    });
    match console
        .gql::<Data>(&signed, EXPORT, json!({ "input": input }))
        .await
    {
        Ok(data) => {
            let exported = data.export_case_file;
            let reference = &exported.case.reference;
            let verified = exported.case_file.verification.ok;
            if form.get("format") == Some("html") {
                attachment(
                    exported.case_file.printable,
                    "text/html; charset=utf-8",
                    &file_name(reference, "html"),
                    verified,
                )
            } else {
                let json =
                    serde_json::to_string_pretty(&exported.case_file.document).unwrap_or_default();
                attachment(
                    json,
                    "application/json",
                    &file_name(reference, "json"),
                    verified,
                )
            }
        }
        Err(e) if e.code == "VALIDATION" => {
            let refused = Refused {
                category: Some(category.to_string()),
                purpose: form.get("purpose").unwrap_or_default().to_string(),
                recipient: form.get("recipient").unwrap_or_default().to_string(),
                error: Some(e),
            };
            render(&console, &signed, &id, &CaseQuery::default(), refused).await
        }
        Err(e) if matches!(e.code.as_str(), "FORBIDDEN" | "NOT_FOUND") => hidden(&signed, &e),
        Err(e) => api_error_page(&signed, &e),
    }
}
