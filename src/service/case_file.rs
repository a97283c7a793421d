//! The case file leaving the service. An export needs a stated purpose (its category and the
//! purpose in words) and may name a recipient. The file is built first (anchored to the latest
//! checkpoint that covers the case, one being signed if none does); then the export is
//! recorded, in one transaction, in the access log (who, purpose, recipient) and as a
//! `CASE_FILE_EXPORTED` event on the case, which holds the purpose's category, the access log
//! entry's id and what the file covers (the case's version and the checkpoint), never free
//! text. The file is handed over only once that record is committed. What the file holds and
//! how it is checked offline: [`crate::audit::export`].

use super::audit::{Disclosure, require_auditor};
use super::person::MAX_PURPOSE_CHARS;
use super::unit_of_work::{CaseWork, Changer};
use super::{App, ServiceError};
use crate::access::{CaseScope, Principal};
use crate::audit::export::{
    CaseFile, CaseSummary, FORMAT, FileCheckpoint, FileEvent, FileReport, verify_file,
};
use crate::audit::merkle;
use crate::domain::{
    AccessKind, CaseRecord, EventDraft, EventKind, ExportPurpose, Ground, PersonalDataRead,
};
use crate::store::audit as log;
use crate::store::cases as case_store;
use crate::store::{access_log, directory, events};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use uuid::Uuid;

/// Longest accepted recipient.
pub const MAX_RECIPIENT_CHARS: usize = 300;

/// What the exporter states about an export.
#[derive(Debug, Clone)]
pub struct ExportRequest {
    /// Why, by category (recorded on the case's event).
    pub category: ExportPurpose,
    /// Why, in words (required; recorded in the access log only).
    pub purpose: String,
    /// Who the file is for, when it goes beyond the exporter (access log only).
    pub recipient: Option<String>,
}

impl ExportRequest {
    /// The purpose and recipient trimmed, or why they cannot be accepted.
    fn checked(&self) -> Result<(String, Option<String>), ServiceError> {
        let purpose = self.purpose.trim();
        if purpose.is_empty() {
            return Err(ServiceError::validation(
                "purpose is required: say why the case file is exported",
            ));
        }
        if purpose.chars().count() > MAX_PURPOSE_CHARS {
            return Err(ServiceError::validation(format!(
                "purpose is longer than {MAX_PURPOSE_CHARS} characters"
            )));
        }
        let recipient = match self.recipient.as_deref().map(str::trim) {
            None => None,
            Some("") => {
                return Err(ServiceError::validation(
                    "recipient, when given, must name who the file is for",
                ));
            }
            Some(r) if r.chars().count() > MAX_RECIPIENT_CHARS => {
                return Err(ServiceError::validation(format!(
                    "recipient is longer than {MAX_RECIPIENT_CHARS} characters"
                )));
            }
            Some(r) => Some(r.to_string()),
        };
        Ok((purpose.to_string(), recipient))
    }
}

/// Who exports.
#[derive(Clone, Copy)]
pub enum Exporter<'a> {
    /// An auditor, through the API (the `read_audit` permission).
    Auditor(&'a Principal),
    /// The operator, on the command line (`trm audit export`): whoever holds the database.
    /// Recorded as the service (the nil user) on behalf of the lead agency.
    Operator,
}

/// What an export produced.
#[derive(Debug, Clone)]
pub struct Exported {
    /// The case after its `CASE_FILE_EXPORTED` event.
    pub case: CaseRecord,
    /// The file, as the case stood just before that event.
    pub file: CaseFile,
    /// The file checked as anyone will check it offline (`trm audit verify-file`), against the
    /// keys this service trusts, before it is handed over.
    pub verification: FileReport,
}

/// Exports the case file of `case_id`: checks the request (a refused one changes nothing),
/// builds the file, records the export in the access log and as an event on the case, and
/// returns the file once the record is committed.
pub async fn export(
    app: &App,
    exporter: Exporter<'_>,
    case_id: Uuid,
    request: &ExportRequest,
) -> Result<Exported, ServiceError> {
    if let Exporter::Auditor(p) = exporter {
        require_auditor(app, p)?;
    }
    let (purpose, recipient) = request.checked()?;
    let (changer, scope) = match exporter {
        Exporter::Auditor(p) => (Changer::Principal(p), p.case_scope(app.now())),
        Exporter::Operator => (Changer::System, CaseScope::All),
    };
    let case = case_store::find(app.store.conn(), scope, case_id)
        .await?
        .ok_or(ServiceError::NotFound("case"))?;
    // Built before the change begins: signing a checkpoint writes, and on SQLite the change
    // holds the one write lock until it commits.
    let file = build(app, &case).await?;
    let verification = verify_file(&file, &app.trusted_audit_keys());
    if file.checkpoint.is_some()
        && let Some(problem) = &verification.first_problem
    {
        tracing::error!(case = %case_id, problem, "an exported case file does not verify");
    }
    let mut work = CaseWork::begin(app, changer, case_id, None).await?;
    let actor = match exporter {
        Exporter::Auditor(p) => (p.user_id, p.agency_id),
        Exporter::Operator => (Uuid::nil(), work.case().lead_agency_id),
    };
    let entry = PersonalDataRead {
        id: Uuid::now_v7(),
        case_id,
        kind: AccessKind::CaseFileExport,
        user_id: actor.0,
        agency_id: actor.1,
        read_at: work.now(),
        purpose: Some(purpose),
        purpose_category: Some(request.category),
        recipient,
        groups: BTreeSet::new(),
    };
    access_log::insert(work.tx(), &entry).await?;
    work.record(
        EventDraft::new(EventKind::CaseFileExported, actor).details(json!({
            "purpose": request.category,
            "accessLogEntry": entry.id,
            "caseVersion": file.case.version,
            "checkpointTreeSize": file.checkpoint.as_ref().map(|c| c.tree_size),
        })),
    )
    .await?;
    let case = work.commit().await?.case;
    tracing::info!(case = %case.id, access_log_entry = %entry.id, "case file exported");
    Ok(Exported {
        case,
        file,
        verification,
    })
}

/// The case file of a case (see [`crate::audit::export`]) as it stands, anchored to the latest
/// checkpoint that covers all its events; one is signed now if none does. Not an export by
/// itself: [`export`] builds it and records the export.
async fn build(app: &App, case: &CaseRecord) -> Result<CaseFile, ServiceError> {
    super::audit_log::settle(&app.store).await?;
    let conn = app.store.conn();
    let events = events::all_of_case(conn, case.id).await?;
    let mut positions = Vec::with_capacity(events.len());
    for e in &events {
        let leaf = log::leaf_of_event(conn, e.id)
            .await?
            .ok_or(ServiceError::NotFound("audit log entry"))?;
        positions.push(leaf.position);
    }
    let needed = positions.iter().max().map_or(0, |m| m + 1);
    let mut checkpoint = log::latest_checkpoint(conn)
        .await?
        .filter(|c| c.tree_size >= needed);
    if checkpoint.is_none()
        && let Some(key) = app.audit_key()
    {
        checkpoint = Some(super::audit_log::create_checkpoint(&app.store, key, app.now()).await?);
    }
    let tree = merkle::Tree::new(match &checkpoint {
        Some(c) => super::audit_log::tree(app, c.tree_size).await?,
        None => Vec::new(),
    });
    let user_ids: Vec<Uuid> = events.iter().map(|e| e.actor_user_id).collect();
    let mut agency_ids: Vec<Uuid> = events.iter().map(|e| e.actor_agency_id).collect();
    agency_ids.push(case.lead_agency_id);
    let agencies = directory::agencies_by_ids(conn, &agency_ids).await?;
    let users = directory::users_by_ids(conn, &user_ids).await?;
    let agency_name = |id: &Uuid| {
        agencies
            .get(id)
            .map_or_else(|| id.to_string(), |a| a.name.clone())
    };
    let user_name = |id: &Uuid| {
        if id.is_nil() {
            return "system".to_string();
        }
        users
            .get(id)
            .map_or_else(|| id.to_string(), |u| u.display_name.clone())
    };
    let file_events = events
        .iter()
        .zip(&positions)
        .map(|(e, position)| FileEvent {
            seq: e.seq,
            content: e.hashed_content(),
            reason: e.reason.clone(),
            prev_hash: e.prev_hash.clone(),
            hash: e.hash.clone(),
            position: *position,
            inclusion_proof: usize::try_from(*position)
                .ok()
                .and_then(|i| tree.inclusion_proof(i))
                .unwrap_or_default()
                .iter()
                .map(hex::encode)
                .collect(),
            agency: agency_name(&e.actor_agency_id),
            actor: user_name(&e.actor_user_id),
        })
        .collect();
    let workflow = app.workflow_of(case)?;
    let states = workflow
        .tracks
        .iter()
        .filter_map(|t| Some((t.id.clone(), case.state.tracks.get(&t.id)?.clone())))
        .collect();
    let disclosures = super::audit::disclosures_of(app, case)
        .await?
        .into_iter()
        .map(|d| disclosure_json(&d, &agency_name))
        .collect();
    let access_log = access_log::of_case(conn, case.id, 10_000)
        .await?
        .into_iter()
        .map(|r| {
            json!({
                "kind": r.kind,
                "readAt": r.read_at,
                "agencyId": r.agency_id,
                "userId": r.user_id,
                "purpose": r.purpose,
                "purposeCategory": r.purpose_category,
                "recipient": r.recipient,
                "groups": r.groups.iter().map(|g| g.as_str()).collect::<Vec<_>>(),
            })
        })
        .collect();
    let same_person_links = crate::store::same_person::links_of_case(conn, case.id)
        .await?
        .into_iter()
        .map(|l| {
            json!({
                "id": l.id,
                "reference": l.case_reference,
                "earlierReference": l.earlier_reference,
                "linkedBy": agency_name(&l.agency_id),
                "linkedAt": l.linked_at,
            })
        })
        .collect();
    Ok(CaseFile {
        format: FORMAT.to_string(),
        exported_at: app.now(),
        case: CaseSummary {
            id: case.id,
            reference: case.reference.clone(),
            workflow_id: case.workflow_id.clone(),
            workflow_version: case.workflow_version,
            country: case.country.clone(),
            status: case.status.as_str().to_string(),
            version: case.version,
            lead_agency: agency_name(&case.lead_agency_id),
            opened_at: case.opened_at,
            states,
        },
        events: file_events,
        checkpoint: checkpoint.map(FileCheckpoint::from),
        disclosures,
        access_log,
        same_person_links,
    })
}

fn disclosure_json(d: &Disclosure, agency_name: &dyn Fn(&Uuid) -> String) -> Value {
    let ground = match &d.ground {
        Some(Ground::Consent(id)) => json!({ "consent": id }),
        Some(Ground::Override {
            basis,
            justification,
        }) => json!({ "override": basis.as_str(), "justification": justification }),
        None => Value::Null,
    };
    json!({
        "kind": format!("{:?}", d.kind).to_uppercase(),
        "id": d.id,
        "at": d.at,
        "from": d.from_agency_id.map(|a| agency_name(&a)),
        "to": agency_name(&d.to_agency_id),
        "groups": d.groups.iter().map(|g| g.as_str()).collect::<Vec<_>>(),
        "ground": ground,
        "status": d.status,
        "reason": d.reason,
    })
}
