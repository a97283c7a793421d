//! The same person again (issue 16): an agency that finds a person again links its case to her
//! earlier case by reference (verified, on both cases, notified, no access given), and can
//! first learn that an earlier case exists, and who leads it, by a keyed match on her identity
//! that reveals nothing about her.

use crate::harness::{TestServer, error_code};
use serde_json::{Value, json};

const RECORD: &str = "mutation($input: RecordPersonalDataInput!) { recordPersonalData(input: $input) { case { version } } }";

const LINK: &str = "mutation($input: LinkSamePersonInput!) { linkSamePerson(input: $input) {
    replayed
    case { id version }
    link { id reference earlierReference linkedAt linkedBy { name } case { id } earlierCase { id } }
} }";

const FIND: &str = "mutation($input: FindEarlierCasesInput!) { findEarlierCases(input: $input) {
    case { id version }
    found { leadAgency { id name country } }
} }";

const LINKS: &str = "query($id: ID!) { case(id: $id) { version
    samePersonLinks { reference earlierReference linkedBy { name } case { id } earlierCase { id } }
    history(first: 100) { edges { node { kind reason details agency { name } } } }
} }";

const INBOX: &str = "{ inbox(first: 100) { edges { node { kind case { id reference }
    fromAgency { name } samePersonLink { reference earlierReference } } } } }";

async fn record_identity(s: &TestServer, user: &str, case_id: &str, value: Value) {
    let body = s
        .gql(
            user,
            RECORD,
            json!({"input": {"caseId": case_id, "group": "IDENTITY", "value": value}}),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
}

async fn link(s: &TestServer, user: &str, case_id: &str, reference: &str) -> Value {
    s.gql(
        user,
        LINK,
        json!({"input": {"caseId": case_id, "earlierReference": reference}}),
    )
    .await
}

/// Searches as `user` from `case_id`; `birth` is merged into the input (`dateOfBirth`, or
/// `bornFrom` and `bornTo`).
async fn find(s: &TestServer, user: &str, case_id: &str, names: &str, birth: Value) -> Value {
    let mut input = json!({"caseId": case_id, "names": names,
        "purpose": "She says she was assisted before, in another country"});
    if let (Some(i), Some(b)) = (input.as_object_mut(), birth.as_object()) {
        i.extend(b.clone());
    }
    s.gql(user, FIND, json!({"input": input})).await
}

/// The names of the lead agencies a search found.
fn leads(body: &Value) -> Vec<String> {
    assert!(body.get("errors").is_none(), "{body}");
    body["data"]["findEarlierCases"]["found"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["leadAgency"]["name"].as_str().unwrap().to_string())
        .collect()
}

async fn inbox(s: &TestServer, user: &str) -> Vec<Value> {
    s.data(user, INBOX, json!({})).await["inbox"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

fn of_kind<'a>(entries: &'a [Value], kind: &str) -> Vec<&'a Value> {
    entries.iter().filter(|e| e["kind"] == kind).collect()
}

async fn case_view(s: &TestServer, user: &str, id: &str) -> Value {
    s.data(user, LINKS, json!({"id": id})).await["case"].clone()
}

fn event_kinds(case: &Value) -> Vec<String> {
    case["history"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["kind"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a_link_by_reference_is_verified_shown_on_both_cases_and_gives_no_access() {
    let s = TestServer::start().await;
    let (earlier, earlier_ref) = s.open_case("it.shelter").await;
    record_identity(
        &s,
        "it.shelter",
        &earlier,
        json!({"names": "Aïssatou Diallo", "dateOfBirth": "1999-03-02"}),
    )
    .await;
    let finder = "ne.childprotection";
    let (case, reference) = s.open_case(finder).await;
    let version = |v: &Value| v["version"].as_i64().unwrap();
    let before = (
        version(&case_view(&s, finder, &case).await),
        version(&case_view(&s, "it.shelter", &earlier).await),
    );

    // Refused, with nothing recorded: an unknown reference, the case itself, a stranger, an
    // auditor.
    let body = link(&s, finder, &case, "IT-2099-999999").await;
    assert_eq!(error_code(&body), "NOT_FOUND", "{body}");
    let body = link(&s, finder, &case, &reference).await;
    assert_eq!(error_code(&body), "VALIDATION", "{body}");
    assert!(body.to_string().contains("itself"), "{body}");
    let body = link(&s, "it.police", &case, &earlier_ref).await;
    assert_eq!(
        error_code(&body),
        "NOT_FOUND",
        "a stranger to the case: {body}"
    );
    let body = link(&s, "auditor", &case, &earlier_ref).await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    assert_eq!(
        (
            version(&case_view(&s, finder, &case).await),
            version(&case_view(&s, "it.shelter", &earlier).await),
        ),
        before,
        "a refused link records nothing"
    );

    // Linked, verified, retried safely.
    let input =
        json!({"caseId": case, "earlierReference": earlier_ref, "idempotencyKey": "link-1"});
    let body = s.gql(finder, LINK, json!({"input": input.clone()})).await;
    assert!(body.get("errors").is_none(), "{body}");
    let linked = &body["data"]["linkSamePerson"];
    assert_eq!(linked["replayed"], false);
    assert_eq!(linked["link"]["reference"], reference);
    assert_eq!(linked["link"]["earlierReference"], earlier_ref);
    assert_eq!(linked["link"]["case"]["id"], case);
    assert!(
        linked["link"]["earlierCase"].is_null(),
        "the finder is not given the earlier case: {body}"
    );
    let retried = s.gql(finder, LINK, json!({"input": input})).await;
    assert_eq!(
        retried["data"]["linkSamePerson"]["replayed"], true,
        "{retried}"
    );
    assert_eq!(
        retried["data"]["linkSamePerson"]["link"]["id"],
        linked["link"]["id"]
    );
    // Twice, either way round: refused.
    let body = link(&s, finder, &case, &earlier_ref).await;
    assert_eq!(error_code(&body), "VALIDATION", "{body}");
    assert!(body.to_string().contains("already linked"), "{body}");
    let body = link(&s, "it.shelter", &earlier, &reference).await;
    assert_eq!(error_code(&body), "VALIDATION", "{body}");

    // The finder still cannot read the earlier case on any path.
    let data = s
        .data(
            finder,
            "query($id: ID!, $r: String!) { case(id: $id) { id personalData { value } } caseByReference(reference: $r) { id } cases(first: 100) { edges { node { id } } } }",
            json!({"id": earlier, "r": earlier_ref}),
        )
        .await;
    assert!(
        data["case"].is_null() && data["caseByReference"].is_null(),
        "{data}"
    );
    assert!(!data["cases"].to_string().contains(&earlier), "{data}");
    let ne = s.agency_id(finder).await;
    let ne_uuid = trm::api::ids::decode_uuid(&ne, "Agency").unwrap();
    let earlier_uuid = trm::api::ids::decode_uuid(&earlier, "Case").unwrap();
    let rows = trm::store::cases::access_rows(s.app.store.conn(), earlier_uuid)
        .await
        .unwrap();
    assert!(!rows.contains(&ne_uuid), "the link gives no access row");

    // On both cases, for each lead (the other case given only where it can be seen) and for
    // auditors; the event is in both histories, made by the finder.
    let seen = case_view(&s, finder, &case).await;
    let links = &seen["samePersonLinks"];
    assert_eq!(links.as_array().unwrap().len(), 1, "{seen}");
    assert_eq!(links[0]["earlierReference"], earlier_ref);
    assert!(links[0]["earlierCase"].is_null());
    assert!(event_kinds(&seen).contains(&"SAME_PERSON_LINKED".to_string()));
    let seen = case_view(&s, "it.shelter", &earlier).await;
    let links = &seen["samePersonLinks"];
    assert_eq!(links[0]["reference"], reference, "{seen}");
    assert_eq!(links[0]["earlierCase"]["id"], earlier);
    assert!(
        links[0]["case"].is_null(),
        "the earlier lead does not see the new case either"
    );
    assert_eq!(
        links[0]["linkedBy"]["name"],
        "Demo Direction de la Protection de l'Enfant (Niger)"
    );
    let event = seen["history"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["node"])
        .find(|e| e["kind"] == "SAME_PERSON_LINKED")
        .unwrap_or_else(|| panic!("no link event on the earlier case: {seen}"));
    assert_eq!(event["agency"]["name"], links[0]["linkedBy"]["name"]);
    assert_eq!(event["details"]["earlierCase"], earlier_ref);
    assert_eq!(event["details"]["case"], reference);
    for id in [&case, &earlier] {
        let audited = case_view(&s, "auditor", id).await;
        let links = &audited["samePersonLinks"];
        assert_eq!(links[0]["case"]["id"], case, "{audited}");
        assert_eq!(links[0]["earlierCase"]["id"], earlier, "{audited}");
        assert!(event_kinds(&audited).contains(&"SAME_PERSON_LINKED".to_string()));
    }

    // Told: the earlier lead and the focal points of both countries, not the finder; ids and
    // references only.
    for user in ["it.shelter", "it.focal", "ne.focal"] {
        let entries = inbox(&s, user).await;
        let told = of_kind(&entries, "SAME_PERSON_LINKED");
        assert_eq!(told.len(), 1, "{user}: {entries:?}");
        assert_eq!(told[0]["samePersonLink"]["reference"], reference, "{user}");
        assert_eq!(told[0]["samePersonLink"]["earlierReference"], earlier_ref);
        assert_eq!(
            told[0]["fromAgency"]["name"],
            "Demo Direction de la Protection de l'Enfant (Niger)"
        );
        let text = Value::Array(entries.clone()).to_string();
        assert!(
            !text.contains("Diallo") && !text.contains("1999"),
            "{user}: {text}"
        );
    }
    let told = inbox(&s, "it.shelter").await;
    assert_eq!(
        of_kind(&told, "SAME_PERSON_LINKED")[0]["case"]["id"],
        earlier
    );
    assert!(of_kind(&inbox(&s, finder).await, "SAME_PERSON_LINKED").is_empty());
    // Others see no link on the case they share.
    assert!(
        s.data(
            "it.police",
            "query($id: ID!) { case(id: $id) { id } }",
            json!({"id": earlier})
        )
        .await["case"]
            .is_null()
    );
    s.stop().await;
}

#[tokio::test]
async fn a_case_of_the_linking_agency_or_its_follow_on_is_not_linked() {
    let s = TestServer::start().await;
    let (first, first_ref) = s.open_case("it.shelter").await;
    let (second, _) = s.open_case("it.shelter").await;
    let body = link(&s, "it.shelter", &second, &first_ref).await;
    assert_eq!(error_code(&body), "VALIDATION", "{body}");
    assert!(body.to_string().contains("followsCaseId"), "{body}");
    let _ = first;
    s.stop().await;
}

#[tokio::test]
async fn the_same_person_is_found_across_countries_and_nothing_about_her_is_revealed() {
    let s = TestServer::start().await;
    // Recorded in Italy; a different person of the same name born nine years earlier; a
    // person recorded in Cyrillic in Bulgaria with an estimated birth year.
    let (italy, italy_ref) = s.open_case("it.shelter").await;
    record_identity(
        &s,
        "it.shelter",
        &italy,
        json!({"names": "Aïssatou Diallo", "dateOfBirth": "1999-03-02", "nationality": "GN"}),
    )
    .await;
    let (namesake, _) = s.open_case("it.police").await;
    record_identity(
        &s,
        "it.police",
        &namesake,
        json!({"names": "Aissatou Diallo", "dateOfBirth": "1990-07-14"}),
    )
    .await;
    let (bulgaria, _) = s.open_case("bg.shelter").await;
    record_identity(
        &s,
        "bg.shelter",
        &bulgaria,
        json!({"names": "Мария Иванова", "dateOfBirthEstimate": {"from": 1994, "to": 1996}}),
    )
    .await;

    // Found from Niger: family name first, no diacritics, an estimated birth range.
    let finder = "ne.childprotection";
    let (case, _) = s.open_case(finder).await;
    let body = find(
        &s,
        finder,
        &case,
        "DIALLO Aissatou",
        json!({"bornFrom": 1998, "bornTo": 2000}),
    )
    .await;
    assert_eq!(leads(&body), ["Demo Casa Rifugio (NGO shelter)"], "{body}");
    // The answer names the lead agency and nothing about her or her case.
    let found = &body["data"]["findEarlierCases"]["found"][0];
    assert_eq!(found["leadAgency"]["country"], "IT");
    // Ids are opaque base64 that may hold any two letters: they are left out of the search for
    // the nationality code.
    let mut without_ids = body.clone();
    without_ids["data"]["findEarlierCases"]["case"]["id"] = json!(null);
    without_ids["data"]["findEarlierCases"]["found"][0]["leadAgency"]["id"] = json!(null);
    let text = body.to_string();
    assert!(
        !without_ids.to_string().contains("GN"),
        "the answer reveals her nationality: {text}"
    );
    for secret in [italy_ref.as_str(), italy.as_str(), "1999", "Aïssatou"] {
        assert!(
            !text.contains(secret),
            "the answer reveals {secret}: {text}"
        );
    }
    // A different person with the same name, born outside the range: not found.
    let body = find(
        &s,
        finder,
        &case,
        "Aissatou Diallo",
        json!({"bornFrom": 1980, "bornTo": 1988}),
    )
    .await;
    assert!(leads(&body).is_empty(), "{body}");
    // Latin from Cyrillic, an exact date inside the Bulgarian estimate.
    let (vienna, _) = s.open_case("at.shelter").await;
    let body = find(
        &s,
        "at.shelter",
        &vienna,
        "Mariya IVANOVA",
        json!({"dateOfBirth": "1995-05-01"}),
    )
    .await;
    assert_eq!(leads(&body), ["Demo Sofia Crisis Centre (NGO)"], "{body}");
    let body = find(
        &s,
        "at.shelter",
        &vienna,
        "Maria Petrova",
        json!({"dateOfBirth": "1995-05-01"}),
    )
    .await;
    assert!(leads(&body).is_empty(), "{body}");

    // The search is a disclosure: in the access log of the case found (and its disclosures),
    // not of the namesake's; in the searcher's history, with its purpose.
    let log = "query($id: ID!) { case(id: $id) { accessLog { kind purpose agency { name } reader { username } groups } disclosures { kind toAgency { name } reason sharedGroups } } }";
    let audited = s.data("auditor", log, json!({"id": italy})).await;
    let matches: Vec<&Value> = audited["case"]["accessLog"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "MATCH")
        .collect();
    assert_eq!(matches.len(), 1, "{audited}");
    assert_eq!(matches[0]["reader"]["username"], finder);
    assert_eq!(
        matches[0]["purpose"],
        "She says she was assisted before, in another country"
    );
    assert_eq!(matches[0]["groups"], json!([]));
    let disclosed = &audited["case"]["disclosures"];
    assert!(
        disclosed
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["kind"] == "MATCH"
                && d["toAgency"]["name"] == "Demo Direction de la Protection de l'Enfant (Niger)"),
        "{audited}"
    );
    let audited = s.data("auditor", log, json!({"id": namesake})).await;
    assert!(!audited.to_string().contains("MATCH"), "{audited}");
    let searched = case_view(&s, finder, &case).await;
    let events: Vec<&Value> = searched["history"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["node"])
        .filter(|e| e["kind"] == "SAME_PERSON_SEARCHED")
        .collect();
    assert_eq!(events.len(), 2, "{searched}");
    assert_eq!(
        events[0]["details"]["leadAgencies"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(events[1]["details"]["leadAgencies"], json!([]));

    // The earlier lead is told who searched, and nothing personal.
    let entries = inbox(&s, "it.shelter").await;
    let told = of_kind(&entries, "SAME_PERSON_MATCHED");
    assert_eq!(told.len(), 1, "{entries:?}");
    assert_eq!(told[0]["case"]["id"], italy);
    assert_eq!(
        told[0]["fromAgency"]["name"],
        "Demo Direction de la Protection de l'Enfant (Niger)"
    );
    let text = Value::Array(entries).to_string();
    assert!(!text.contains("Diallo") && !text.contains("1999"), "{text}");
    assert!(of_kind(&inbox(&s, "it.police").await, "SAME_PERSON_MATCHED").is_empty());

    // Then the lead shares its reference, and the finder links by it.
    let body = link(&s, finder, &case, &italy_ref).await;
    assert!(body.get("errors").is_none(), "{body}");

    // Recorded again under another name, the identity's earlier keys are gone.
    record_identity(
        &s,
        "it.shelter",
        &italy,
        json!({"names": "Fatoumata Bah", "dateOfBirth": "1999-03-02"}),
    )
    .await;
    let body = find(
        &s,
        finder,
        &case,
        "Diallo Aissatou",
        json!({"bornFrom": 1998, "bornTo": 2000}),
    )
    .await;
    assert!(leads(&body).is_empty(), "{body}");
    let body = find(
        &s,
        finder,
        &case,
        "Bah Fatoumata",
        json!({"dateOfBirth": "1999-01-01"}),
    )
    .await;
    assert_eq!(leads(&body), ["Demo Casa Rifugio (NGO shelter)"], "{body}");
    s.stop().await;
}

#[tokio::test]
async fn a_search_needs_the_lead_a_purpose_two_names_and_narrow_years_and_is_rate_limited() {
    let s = TestServer::start().await;
    let (case, _) = s.open_case("it.shelter").await;
    let refused = [
        ("one name", "Aissatou", json!({"dateOfBirth": "1999-03-02"})),
        ("no birth", "Aissatou Diallo", json!({})),
        (
            "both",
            "Aissatou Diallo",
            json!({"dateOfBirth": "1999-03-02", "bornFrom": 1998, "bornTo": 2000}),
        ),
        (
            "too wide",
            "Aissatou Diallo",
            json!({"bornFrom": 1980, "bornTo": 2000}),
        ),
        (
            "backwards",
            "Aissatou Diallo",
            json!({"bornFrom": 2000, "bornTo": 1998}),
        ),
        (
            "future",
            "Aissatou Diallo",
            json!({"bornFrom": 2990, "bornTo": 2991}),
        ),
    ];
    for (what, names, birth) in refused {
        let body = find(&s, "it.shelter", &case, names, birth).await;
        assert_eq!(error_code(&body), "VALIDATION", "{what}: {body}");
    }
    let body = s
        .gql(
            "it.shelter",
            FIND,
            json!({"input": {"caseId": case, "names": "Aissatou Diallo", "dateOfBirth": "1999-03-02", "purpose": "  "}}),
        )
        .await;
    assert_eq!(error_code(&body), "VALIDATION", "{body}");
    let birth = json!({"dateOfBirth": "1999-03-02"});
    let body = find(&s, "it.police", &case, "Aissatou Diallo", birth.clone()).await;
    assert_eq!(error_code(&body), "NOT_FOUND", "a stranger: {body}");
    let body = find(&s, "auditor", &case, "Aissatou Diallo", birth.clone()).await;
    assert_eq!(
        error_code(&body),
        "FORBIDDEN",
        "auditors see all, they do not search: {body}"
    );
    for n in 0..5 {
        let body = find(&s, "it.shelter", &case, "Aissatou Diallo", birth.clone()).await;
        assert!(body.get("errors").is_none(), "search {n}: {body}");
    }
    let body = find(&s, "it.shelter", &case, "Aissatou Diallo", birth.clone()).await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    assert!(body.to_string().contains("24 hours"), "{body}");
    s.clock.advance(chrono::Duration::hours(25));
    let body = find(&s, "it.shelter", &case, "Aissatou Diallo", birth).await;
    assert!(body.get("errors").is_none(), "a day later: {body}");
    s.stop().await;
}

#[tokio::test]
async fn an_asylum_seekers_case_is_not_disclosed_to_her_origin_countrys_authorities() {
    let s = TestServer::start().await;
    let lead = "it.shelter";
    let (italy, _) = s.open_workflow(lead, "trm-adult", None).await;
    crate::harness::to_crisis_intervention(&s, lead, &italy).await;
    let body = s
        .gql(
            lead,
            "mutation($input: SetOriginCountryInput!) { setOriginCountry(input: $input) { case { version } } }",
            json!({"input": {"caseId": italy, "country": "NG"}}),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    let version = body["data"]["setOriginCountry"]["case"]["version"]
        .as_i64()
        .unwrap();
    let body = s
        .fire(
            lead,
            &italy,
            "record_asylum_application",
            version,
            json!({}),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    record_identity(
        &s,
        lead,
        &italy,
        json!({"names": "Blessing Okafor", "dateOfBirth": "2001-11-20"}),
    )
    .await;
    let birth = json!({"bornFrom": 2000, "bornTo": 2002});
    // Nigeria's focal point is an authority of her country of origin: nothing is found, and
    // nothing is logged or told.
    let (focal_case, _) = s.open_case("ng.focal").await;
    let body = find(
        &s,
        "ng.focal",
        &focal_case,
        "OKAFOR Blessing",
        birth.clone(),
    )
    .await;
    assert!(leads(&body).is_empty(), "{body}");
    assert!(of_kind(&inbox(&s, lead).await, "SAME_PERSON_MATCHED").is_empty());
    // A Nigerian NGO is not: it learns that a case exists, and who leads it.
    let (ngo_case, _) = s.open_case("ng.shelter").await;
    let body = find(&s, "ng.shelter", &ngo_case, "Okafor Blessing", birth).await;
    assert_eq!(leads(&body), ["Demo Casa Rifugio (NGO shelter)"], "{body}");
    s.stop().await;
}
