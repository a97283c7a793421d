//! One way to drive a case over GraphQL: open it, fire transitions that must be accepted or
//! refused, read it back. Every accepted step is checked to add exactly one version and to record
//! the transition it names; every refusal to change nothing, and to explain each unmet guard in
//! English and French.

use crate::harness::{TestServer, error_code};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// What [`CaseDriver::view`] reads: everything the scenarios look at.
pub const CASE_VIEW: &str = "query($id: ID!) { case(id: $id) {
    version status country facts
    states { track state stage }
    timers { timer kind status startedAt dueAt stoppedAt citation }
    deadlines { timer status dueAt }
    availableTransitions { key allowed unmetGuards { name reason } }
} }";

/// A case under test: its id, the version last seen, and the user who reads it.
pub struct CaseDriver<'a> {
    pub s: &'a TestServer,
    pub id: String,
    pub reference: String,
    /// The version after the last change made through the driver (or [`CaseDriver::sync`]).
    pub version: i64,
    /// The user who reads the case (a user of its lead agency, usually).
    pub reader: String,
    /// The workflow it was opened under.
    pub workflow: String,
}

impl<'a> CaseDriver<'a> {
    /// Opens a case under `workflow` (its latest version when `version` is `None`) as `user`,
    /// who reads it from then on.
    pub async fn open(
        s: &'a TestServer,
        user: &str,
        workflow: &str,
        version: Option<u32>,
    ) -> CaseDriver<'a> {
        let (id, reference) = s.open_workflow(user, workflow, version).await;
        CaseDriver {
            s,
            id,
            reference,
            version: 1,
            reader: user.to_string(),
            workflow: workflow.to_string(),
        }
    }

    /// Reads the case as `user` from now on.
    pub fn read_as(&mut self, user: &str) {
        self.reader = user.to_string();
    }

    /// The case as its reader sees it now ([`CASE_VIEW`]).
    pub async fn view(&self) -> Value {
        self.query(CASE_VIEW).await
    }

    /// Runs `query` (with the case's id as `$id`) as the reader; returns its `case`.
    pub async fn query(&self, query: &str) -> Value {
        self.s
            .data(&self.reader, query, json!({"id": self.id}))
            .await["case"]
            .clone()
    }

    /// The case's version as the reader sees it now.
    pub async fn current_version(&self) -> i64 {
        self.query("query($id: ID!) { case(id: $id) { version } }")
            .await["version"]
            .as_i64()
            .unwrap_or_else(|| panic!("no version for case {}", self.id))
    }

    /// Reads the version again after changes made outside [`CaseDriver::ok`] (consents,
    /// transfers, the scheduler); returns it.
    pub async fn sync(&mut self) -> i64 {
        self.version = self.current_version().await;
        self.version
    }

    /// Fires `transition` as `user` at the version last seen; returns the whole response body.
    pub async fn fire(&self, user: &str, transition: &str, data: Value) -> Value {
        self.s
            .fire(user, &self.id, transition, self.version, data)
            .await
    }

    /// Fires `transition`, which must be accepted: the version moves on by exactly one and the
    /// event names the transition. Returns the case as the mutation returns it.
    pub async fn ok(&mut self, user: &str, transition: &str, data: Value) -> Value {
        self.accepted(user, transition, data, &[]).await
    }

    /// Fires `transition`, which must be accepted and alert the focal points along the person's
    /// route: the transition's event, then exactly one `ROUTE_ALERTED` event (two versions).
    pub async fn ok_alerting(&mut self, user: &str, transition: &str, data: Value) -> Value {
        self.accepted(user, transition, data, &["ROUTE_ALERTED"])
            .await
    }

    /// Fires `transition`, which must be accepted; its event must be the next one, followed by
    /// exactly the events of the kinds `then` (e.g. what a protection did in the same change).
    pub async fn ok_then(
        &mut self,
        user: &str,
        transition: &str,
        data: Value,
        then: &[&str],
    ) -> Value {
        self.accepted(user, transition, data, then).await
    }

    async fn accepted(
        &mut self,
        user: &str,
        transition: &str,
        data: Value,
        then: &[&str],
    ) -> Value {
        let body = self.fire(user, transition, data).await;
        assert!(body.get("errors").is_none(), "{transition}: {body}");
        let fired = &body["data"]["fireTransition"];
        let next = self.version + 1;
        assert_eq!(fired["event"]["transition"], transition, "{body}");
        assert_eq!(fired["event"]["sequence"].as_i64(), Some(next), "{body}");
        let version = next + i64::try_from(then.len()).unwrap();
        assert_eq!(
            fired["case"]["version"].as_i64(),
            Some(version),
            "{transition} adds exactly {} version(s): {body}",
            version - self.version
        );
        if !then.is_empty() {
            let after = self
                .s
                .data(
                    &self.reader,
                    "query($id: ID!, $after: String) { case(id: $id) {
                        history(first: 10, after: $after) { edges { node { kind } } } } }",
                    json!({"id": self.id, "after": trm::api::ids::cursor(&format!("seq:{next}"))}),
                )
                .await;
            let kinds: Vec<&str> = after["case"]["history"]["edges"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["node"]["kind"].as_str().unwrap())
                .collect();
            assert_eq!(kinds, then, "what {transition} recorded after its event");
        }
        self.version = version;
        fired["case"].clone()
    }

    /// Fires `transition`, which must be refused: no data, each unmet guard explained in English
    /// and French, the version unchanged. Returns the whole body.
    async fn refusal(&self, user: &str, transition: &str, data: Value) -> Value {
        let body = self.fire(user, transition, data).await;
        assert!(body["data"].is_null(), "{transition} was accepted: {body}");
        for u in unmet_guards(&body) {
            assert!(
                u["reason"].as_str().is_some_and(|r| !r.is_empty())
                    && u["reasonFr"].as_str().is_some_and(|r| !r.is_empty()),
                "{transition}: every refusal has an English and a French reason: {u}"
            );
        }
        assert_eq!(
            self.current_version().await,
            self.version,
            "{transition}: a refusal changes nothing"
        );
        body
    }

    /// Fires `transition`, which must be refused with the error `code`; returns the whole body.
    pub async fn fails(&self, user: &str, transition: &str, data: Value, code: &str) -> Value {
        let body = self.refusal(user, transition, data).await;
        assert_eq!(error_code(&body), code, "{transition}: {body}");
        body
    }

    /// Fires `transition`, which must be refused; returns the error code and the names of the
    /// unmet guards (none unless the code is `GUARD_FAILED`).
    pub async fn refused(
        &self,
        user: &str,
        transition: &str,
        data: Value,
    ) -> (String, Vec<String>) {
        let body = self.refusal(user, transition, data).await;
        (error_code(&body).to_string(), guard_names(&body))
    }

    /// Fires `transition`, which must be refused for unmet guards; returns their names.
    pub async fn unmet(&self, user: &str, transition: &str, data: Value) -> Vec<String> {
        let body = self.fails(user, transition, data, "GUARD_FAILED").await;
        let names = guard_names(&body);
        assert!(!names.is_empty(), "{transition}: no unmet guard in {body}");
        names
    }

    /// Asserts that `transition` is refused by exactly the guards `names`, in that order.
    pub async fn refused_by(&self, user: &str, transition: &str, data: Value, names: &[&str]) {
        assert_eq!(
            self.unmet(user, transition, data).await,
            names,
            "{transition}"
        );
    }

    /// The current state of every started track.
    pub async fn states(&self) -> BTreeMap<String, String> {
        self.query("query($id: ID!) { case(id: $id) { states { track state } } }")
            .await["states"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["track"].as_str().unwrap().to_string(),
                    s["state"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }

    /// The current state of `track` (panics when it has not started).
    pub async fn state(&self, track: &str) -> String {
        self.states()
            .await
            .remove(track)
            .unwrap_or_else(|| panic!("track {track} not started"))
    }

    /// The case's status (ACTIVE, CLOSED).
    pub async fn status(&self) -> String {
        self.query("query($id: ID!) { case(id: $id) { status } }")
            .await["status"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Each started timer: (status, dueAt).
    pub async fn timers(&self) -> BTreeMap<String, (String, String)> {
        self.query("query($id: ID!) { case(id: $id) { timers { timer status dueAt } } }")
            .await["timers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                (
                    t["timer"].as_str().unwrap().to_string(),
                    (
                        t["status"].as_str().unwrap().to_string(),
                        t["dueAt"].as_str().unwrap().to_string(),
                    ),
                )
            })
            .collect()
    }

    /// The status of `timer` (panics when it has not started).
    pub async fn timer_status(&self, timer: &str) -> String {
        self.timers()
            .await
            .remove(timer)
            .map(|t| t.0)
            .unwrap_or_else(|| panic!("timer {timer} not started"))
    }

    /// The keys of the transitions out of the case's current states.
    pub async fn keys(&self) -> BTreeSet<String> {
        available_keys(&self.view().await)
    }

    /// Hands the lead to `to`'s agency as its return goes: the person's consent to share identity
    /// and legal status, the offer by `lead` (with `data` for the workflow's transfer step), the
    /// acceptance by `to`, who leads and reads the case from then on. Returns the case as the
    /// acceptance returns it.
    pub async fn transfer_to(&mut self, lead: &str, to: &str, data: Value) -> Value {
        let groups = ["IDENTITY", "LEGAL_STATUS"];
        // A child's consent is the guardian's, with the child's assent.
        if self.workflow == "trm-child" {
            self.s
                .guardian_consent_for(lead, &self.id, to, &groups)
                .await;
        } else {
            self.s.consent_for(lead, &self.id, to, &groups).await;
        }
        let body = self
            .s
            .offer_transfer(lead, &self.id, to, &groups, data)
            .await;
        assert!(body.get("errors").is_none(), "offerTransfer: {body}");
        let transfer = body["data"]["offerTransfer"]["transfer"]["id"]
            .as_str()
            .unwrap()
            .to_string();
        let body = self.s.accept_transfer(to, &transfer).await;
        assert!(body.get("errors").is_none(), "acceptTransfer: {body}");
        let case = body["data"]["acceptTransfer"]["case"].clone();
        assert_eq!(case["access"], "LEAD", "{body}");
        self.read_as(to);
        assert_eq!(
            Some(self.sync().await),
            case["version"].as_i64(),
            "the new lead reads the case as the acceptance left it"
        );
        case
    }
}

/// The unmet guards of a refusal (empty when there are none).
pub fn unmet_guards(body: &Value) -> Vec<Value> {
    body["errors"][0]["extensions"]["unmetGuards"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// The names of the unmet guards of a refusal.
pub fn guard_names(body: &Value) -> Vec<String> {
    unmet_guards(body)
        .iter()
        .map(|u| u["name"].as_str().unwrap().to_string())
        .collect()
}

/// The keys of the `availableTransitions` of a case read with [`CASE_VIEW`].
pub fn available_keys(case: &Value) -> BTreeSet<String> {
    case["availableTransitions"]
        .as_array()
        .unwrap_or_else(|| panic!("no availableTransitions in {case}"))
        .iter()
        .map(|t| t["key"].as_str().unwrap().to_string())
        .collect()
}

/// The available transition `key` of a case read with [`CASE_VIEW`].
pub fn available<'v>(case: &'v Value, key: &str) -> &'v Value {
    case["availableTransitions"]
        .as_array()
        .and_then(|list| list.iter().find(|t| t["key"] == key))
        .unwrap_or_else(|| panic!("{key} not available in {case}"))
}
