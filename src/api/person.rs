//! The person behind a case: personal data by group, the access log of its reads, the route,
//! and recording personal data, the country of origin and movements.

use super::case::operations::seen;
use super::context::{app, loaders, principal, uuid_of};
use super::error::IntoGql;
use super::ids;
use super::nodes::CaseNode;
use crate::domain::{
    AccessKind, Agency, DataGroup, ExportPurpose, Movement, MovementSource, PersonalDataRead, User,
};
use crate::service::person::{self, GroupRead, NewMovement};
use async_graphql::{ComplexObject, Context, ID, InputObject, Json, Object, Result, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;

/// One read of a case's personal data, or one export of its case file.
pub struct AccessLogEntry(pub PersonalDataRead);

/// One read of a case's personal data, or one export of its case file.
#[Object]
impl AccessLogEntry {
    /// A read, or an export of the case file.
    async fn kind(&self) -> AccessKind {
        self.0.kind
    }
    /// Who read or exported; null for an export by the operator (`trm audit export`).
    async fn reader(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        if self.0.user_id.is_nil() {
            return Ok(None);
        }
        loaders(ctx)?.user(self.0.user_id).await
    }
    /// The reader's agency; for an export by the operator, the lead agency.
    async fn agency(&self, ctx: &Context<'_>) -> Result<Option<Agency>> {
        loaders(ctx)?.agency(self.0.agency_id).await.map(Some)
    }
    async fn read_at(&self) -> DateTime<Utc> {
        self.0.read_at
    }
    /// Why, as the reader stated it (required for sensitive groups and for an export).
    async fn purpose(&self) -> Option<&str> {
        self.0.purpose.as_deref()
    }
    /// The category of an export's purpose.
    async fn purpose_category(&self) -> Option<ExportPurpose> {
        self.0.purpose_category
    }
    /// Who an exported case file was for, as stated by the exporter (null for a read: the
    /// reader received it).
    async fn recipient(&self) -> Option<&str> {
        self.0.recipient.as_deref()
    }
    /// The personal-data groups that were returned (none for an export: the case file holds
    /// the events, disclosures and this log, not the person's data).
    async fn groups(&self) -> Vec<DataGroup> {
        self.0.groups.iter().copied().collect()
    }
}

/// One sensitivity group of the person's data.
#[derive(SimpleObject)]
pub struct PersonalDataGroup {
    pub group: DataGroup,
    /// The latest version the caller may read (a JSON object); null when redacted or never recorded.
    pub value: Option<Json<Value>>,
    /// True when the caller may not read this group.
    pub redacted: bool,
    /// True when the caller may read this sensitive group but gave no `purpose`.
    pub purpose_required: bool,
    pub recorded_at: Option<DateTime<Utc>>,
}

impl From<(DataGroup, GroupRead)> for PersonalDataGroup {
    fn from((group, read): (DataGroup, GroupRead)) -> Self {
        PersonalDataGroup {
            group,
            redacted: read.redacted,
            purpose_required: read.withheld_for_purpose,
            recorded_at: read.version.as_ref().map(|v| v.recorded_at),
            value: read.version.map(|v| Json(v.value)),
        }
    }
}

#[ComplexObject]
impl Movement {
    async fn id(&self) -> ID {
        ids::encode("Movement", &self.id.to_string())
    }
}

/// Input of `recordPersonalData`.
#[derive(InputObject)]
pub struct RecordPersonalDataInput {
    pub case_id: ID,
    pub group: DataGroup,
    /// The group's content as a JSON object, e.g. for IDENTITY
    /// `{"names": ..., "dateOfBirth": ..., "sex": ..., "nationality": ..., "languages": [...]}`.
    pub value: Json<Value>,
}

/// Input of `setOriginCountry`.
#[derive(InputObject)]
pub struct SetOriginCountryInput {
    pub case_id: ID,
    /// ISO 3166-1 alpha-2.
    pub country: String,
}

/// Result of mutations that change a case's own record.
#[derive(SimpleObject)]
pub struct CasePayload {
    pub case: CaseNode,
}

/// Input of `recordMovement`.
#[derive(InputObject)]
pub struct RecordMovementInput {
    pub case_id: ID,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    /// Town, border post, camp ... (shown only to agencies that may read CONTACT).
    pub place: Option<String>,
    pub moved_on: NaiveDate,
    pub source: MovementSource,
}

/// Result of `recordMovement`.
#[derive(SimpleObject)]
pub struct RecordMovementPayload {
    pub movement: Movement,
    pub case: Option<CaseNode>,
}

/// Changes to the person's record (merged into the `Mutation` root).
#[derive(Default)]
pub struct PersonMutation;

#[Object]
impl PersonMutation {
    /// Records a new version of one group of the person's data (lead agency only). Earlier
    /// versions are kept: an agency that saw a version keeps seeing what it was shown.
    async fn record_personal_data(
        &self,
        ctx: &Context<'_>,
        input: RecordPersonalDataInput,
    ) -> Result<CasePayload> {
        let case_id = uuid_of(&input.case_id, "Case", "caseId")?;
        let case = person::record_personal_data(
            app(ctx)?,
            principal(ctx)?,
            case_id,
            input.group,
            input.value.0,
        )
        .await
        .gql()?;
        Ok(CasePayload {
            case: seen(app(ctx)?, principal(ctx)?, case).await?,
        })
    }

    /// Records the person's country of origin (lead agency only).
    async fn set_origin_country(
        &self,
        ctx: &Context<'_>,
        input: SetOriginCountryInput,
    ) -> Result<CasePayload> {
        let case_id = uuid_of(&input.case_id, "Case", "caseId")?;
        let case = person::set_origin_country(app(ctx)?, principal(ctx)?, case_id, &input.country)
            .await
            .gql()?;
        Ok(CasePayload {
            case: seen(app(ctx)?, principal(ctx)?, case).await?,
        })
    }

    /// Records a movement of the person (a country on the route; lead agency only).
    async fn record_movement(
        &self,
        ctx: &Context<'_>,
        input: RecordMovementInput,
    ) -> Result<RecordMovementPayload> {
        let case_id = uuid_of(&input.case_id, "Case", "caseId")?;
        let movement = person::record_movement(
            app(ctx)?,
            principal(ctx)?,
            NewMovement {
                case_id,
                country: input.country,
                place: input.place,
                moved_on: input.moved_on,
                source: input.source,
            },
        )
        .await
        .gql()?;
        Ok(RecordMovementPayload {
            movement,
            case: loaders(ctx)?.case(case_id).await?.map(CaseNode),
        })
    }
}
