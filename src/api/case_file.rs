//! Exporting a case's file: the `exportCaseFile` mutation (auditors). An export is a
//! disclosure: it needs a purpose and is recorded in the case's access log and as an event on
//! the case (see [`crate::service::case_file`]).

use super::audit_log::Checkpoint;
use super::case::operations::seen;
use super::context::{app, principal, uuid_of};
use super::error::IntoGql;
use super::nodes::CaseNode;
use crate::audit;
use crate::audit::export::FileReport;
use crate::domain::ExportPurpose;
use crate::service::audit::StoredCheckpoint;
use crate::service::case_file::{self, ExportRequest, Exporter};
use async_graphql::{Context, ID, InputObject, Json, Object, Result, SimpleObject};
use serde_json::Value;

/// A case's machine-readable file and its printable timeline.
#[derive(SimpleObject)]
pub struct CaseFileExport {
    /// The case file (format `trm-case-file/v1`): save it as JSON and check it anywhere with
    /// `trm audit verify-file case.json --trusted-key <public key>`.
    pub document: Json<Value>,
    /// The same as one printable HTML page.
    pub printable: String,
    /// The checkpoint it is anchored to (null only on an instance without an audit key, which
    /// `trm serve` never is).
    pub checkpoint: Option<Checkpoint>,
    /// The file checked by the service before it was handed over, exactly as `trm audit
    /// verify-file` checks it, against the keys the service trusts. The printable page states
    /// the same. Check the JSON again wherever it is relied on: this says only that it left
    /// the service whole.
    pub verification: CaseFileVerification,
}

/// What checking a case file found.
#[derive(SimpleObject)]
pub struct CaseFileVerification {
    /// Every event is the case's, in a whole chain, proven in the log under a checkpoint signed
    /// by a trusted key.
    pub ok: bool,
    /// The first problem, naming the event (`seq`) or the checkpoint.
    pub first_problem: Option<String>,
    /// How many events the file holds.
    pub events: i64,
    /// The size of the log the checkpoint signs.
    pub anchored_tree_size: Option<i64>,
    /// The key the checkpoint is signed by.
    pub key_id: Option<String>,
}

impl From<&FileReport> for CaseFileVerification {
    fn from(r: &FileReport) -> Self {
        CaseFileVerification {
            ok: r.ok(),
            first_problem: r.first_problem.clone(),
            events: i64::try_from(r.events).unwrap_or(i64::MAX),
            anchored_tree_size: r.anchored_to.as_ref().map(|(size, _)| *size),
            key_id: r.anchored_to.as_ref().map(|(_, key)| key.clone()),
        }
    }
}

/// Input of `exportCaseFile`.
#[derive(InputObject)]
pub struct ExportCaseFileInput {
    pub case_id: ID,
    /// Why the file is exported, by category (recorded on the case's event).
    pub purpose_category: ExportPurpose,
    /// Why, in words (required; recorded in the case's access log, not on its event).
    pub purpose: String,
    /// Who the file is for, when it goes beyond the auditor (e.g. a court or an inspection
    /// body; recorded in the access log).
    pub recipient: Option<String>,
}

/// Result of `exportCaseFile`.
#[derive(SimpleObject)]
pub struct ExportCaseFilePayload {
    /// The file, which shows its own export as the case's last event.
    pub case_file: CaseFileExport,
    /// The case after its `CASE_FILE_EXPORTED` event.
    pub case: CaseNode,
}

/// Exporting case files (merged into the `Mutation` root).
#[derive(Default)]
pub struct CaseFileMutation;

#[Object]
impl CaseFileMutation {
    /// Exports a case's file for auditors (the `read_audit` permission): every event with its
    /// inclusion proof and the signed checkpoint they lead to (signed now if none covers the
    /// case yet). A purpose is required; the export is recorded in the access log (auditor,
    /// purpose, recipient) and as a `CASE_FILE_EXPORTED` event. It takes no `expectedVersion`:
    /// it changes nothing the caller decides on, and two exports are two disclosures, both
    /// recorded.
    async fn export_case_file(
        &self,
        ctx: &Context<'_>,
        input: ExportCaseFileInput,
    ) -> Result<ExportCaseFilePayload> {
        let app = app(ctx)?;
        let p = principal(ctx)?;
        let case_id = uuid_of(&input.case_id, "Case", "caseId")?;
        let request = ExportRequest {
            category: input.purpose_category,
            purpose: input.purpose,
            recipient: input.recipient,
        };
        let exported = case_file::export(app, Exporter::Auditor(p), case_id, &request)
            .await
            .gql()?;
        let file = exported.file;
        Ok(ExportCaseFilePayload {
            case_file: CaseFileExport {
                printable: audit::printable::render(&file, &exported.verification),
                verification: CaseFileVerification::from(&exported.verification),
                checkpoint: file
                    .checkpoint
                    .as_ref()
                    .map(|c| Checkpoint::from(StoredCheckpoint::from(c))),
                document: Json(serde_json::to_value(&file).unwrap_or_default()),
            },
            case: seen(app, p, exported.case).await?,
        })
    }
}
