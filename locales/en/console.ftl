# TRM console, English. Keep the same message ids in every language (a test checks it).

## Frame
skip-to-content = Skip to content
nav-label = Main menu
nav-work = My work
nav-cases = Cases
nav-inbox = Inbox
nav-referrals = Referrals
nav-focal = Focal point
nav-audit = Audit
nav-admin = Directory
language = Language
language-apply = Apply
sign-out = Sign out
go-home = Back to my work

## Sign-in
sign-in-title = Sign in
sign-in-demo-intro = This is a demonstration service with invented agencies and people. Choose who you want to be.
sign-in-demo-choose = Demo users
sign-in-none = Sign-in is not configured on this service. Ask your administrator.

## Errors and codes
error-title = This could not be done
not-found = This does not exist, or you may not see it.
form-expired-title = Please try again
form-expired = This form has expired or did not come from this service. Nothing was changed. Go back, reload the page and send it again.
code-other = The service refused this. Nothing was changed.
code-forbidden = You may not do this on this case. Nothing was changed.
code-not-found = This does not exist, or you may not see it.
code-guard-failed = This step cannot be taken yet: its conditions are not met. Nothing was changed.
code-version-conflict = Someone else changed this case while you were working on it, so your step was not recorded. Reload the case to see what changed, then try again.
code-validation = Some of what was entered is not valid. Nothing was changed.
code-consent-required = A consent that covers this sharing is missing (or an override on a legal basis). Nothing was shared.
code-legal-ban = The law forbids this, whoever asks. Nothing was shared.
code-invalid-transition = This step is not possible from where the case is now.
code-case-still-active = The person already has an active case with your agency.
code-idempotency-mismatch = This form was already sent with different contents. Reload the page.
code-service-unavailable = The service cannot reach its database. Try again in a moment.
code-rate-limited = Too many requests in a short time. Wait a minute and try again.
code-unauthenticated = Your session has ended. Sign in again.
code-internal = Something went wrong on the service. Nothing was changed.
field-not-a-number = “{ $field }” must be a whole number.

## Worklist and inbox
work-title = My work
worklist = Worklist
worklist-empty = Nothing waits for you now.
work-transfer = Transfer of lead to decide
inbox-unread = New in the inbox
inbox-title = Inbox
inbox-empty = No notifications.
inbox-open = Open the inbox
inbox-show-all = Show all notifications
inbox-show-unread = Show unread only
mark-read = Mark as read
from = from
due-overdue = { $days ->
    [one] 1 day overdue
   *[other] { $days } days overdue
}
due-hours = { $hours ->
    [0] due within the hour
    [one] due in 1 hour
   *[other] due in { $hours } hours
}
due-in = { $days ->
    [one] due in 1 day
   *[other] due in { $days } days
}
col-case = Case
col-why = Why
col-what = What
col-due = Due
col-where = Where it stands
col-lead = Lead agency
col-access = Your access
col-updated = Last change
col-service = Service
col-to = To
col-from = From
col-status = Status
col-shared = Data shared

## Cases
cases-title = Cases
cases-reference = Case reference
cases-status = Status
cases-stage = Stage
cases-deadline = Deadline
cases-none = No case matches.
cases-reference-not-found = No case with this reference is visible to you.
cases-count = { $count ->
    [one] 1 case
   *[other] { $count } cases
}
any = Any
search = Search
next-page = Next page
open-case = Open a new case
open-case-procedure = Procedure
open-case-choose = Choose the procedure to open the case under.

## Case page
case-lead = Lead
case-your-access = Your access
case-opened = Opened
case-origin = origin
case-version = Version
case-sections = Sections of the case
case-tracks = Where the case stands
case-steps = Next steps
case-deadlines = Deadlines
case-personal = Personal data
case-referrals = Referrals and transfers
case-transfers = Transfers of lead
case-history = History
case-route = Route
track-picture = Procedure of { $track }
since = since
steps-none = No step can be taken now.
step-not-yours = Not for your role or agency
step-conditions = Conditions not met yet
step-forbidden = Your role or agency may not take this step.
step-unmet = Not possible yet:
step-recorded = Recorded: { $step }.
required = required
choose = Choose…
yes = Yes
no = No
reason = Reason (optional)
reason-help = Kept in the history. Without a choice below, only your agency and the auditors can read it.
reason-shared-as = This reason reveals personal data of these groups (it is then shown to agencies that may read them)
reload-case = Reload the case
floor-ends-in = { $days ->
    [0] ends today
    [one] runs 1 more day
   *[other] runs { $days } more days
}
step-transfer = This step is taken by offering a transfer of lead to another agency; it happens when that agency accepts.
transfer-offer = Offer the transfer of lead
deadlines-none = No deadline runs.
personal-help = Personal data is shown only when you ask, and every reading is recorded with its purpose. Health, the account of the exploitation and the perpetrators need a purpose.
purpose = Purpose of this reading
purpose-help = For example: preparing the medical referral. Needed for sensitive groups.
personal-show = Show personal data
group-withheld = Withheld: not shared with your agency
group-purpose = Give a purpose to see this group
group-empty = Nothing recorded
history-none = No event visible to you.
referrals-none = No referral or transfer.
transfer-of-lead = Transfer of lead
refer = Refer to another agency

## Referrals
refer-title = Refer case { $reference }
refer-lead-only = Only the agency leading the case can refer it.
refer-to = Receiving agency
refer-service = Service asked for
refer-groups = Personal data to share
refer-groups-help = Share only what the receiver needs for this service. Everything else stays withheld.
refer-ground = Ground for sharing
refer-no-consent = No consent in force is recorded on this case. Record the person's consent first, or use an override if the law allows it.
refer-override = Share without consent, on a legal basis
refer-basis = Legal basis
refer-justification = Justification
refer-purpose = Purpose of the referral
refer-purpose-help = Shown to the receiver. Do not write more personal data than the groups you share.
refer-days = Answer expected within (days)
refer-preview = Preview what the receiver sees
refer-send = Send the referral
preview-title = What the receiver will see
preview-receiver = Receiver
preview-shared = Shared with them
preview-withheld = Withheld from them
preview-nothing = No personal data.
preview-always = They also see the case reference and where the case stands in the procedure.
ground-consent = Under the consent: { $consent }
ground-override = Without consent, on the legal basis: { $basis }
ground-missing = No ground chosen yet.
preview-refused = The service will refuse this as it is:
preview-text = Your { $text } goes with it: they read it, as does any agency that may read { $groups }.
preview-text-alone = Your { $text } goes with it: they read it; no other agency does.
refusal-consent-required = Consent missing.
refusal-legal-ban = Legal ban (no consent or override lifts it).
refusal-forbidden = Not allowed for you.
refusal-validation = Incomplete or invalid.
refusal-guard-failed = The step's conditions are not met.
refusal-invalid-transition = Not possible now.
refusal-not-found = Not found.
refusal-version-conflict = The case changed since you opened this form: reload it.
refusal-other = Refused.
ground-consent-other = Under a consent recorded on the case.
referrals-title = Referrals to my agency
referrals-incoming-none = No referral has been made to your agency.
referral-title = Referral
referral-open-case = Open the case (only what was shared with you)
referral-answer = Your answer
referral-accept = Accept
referral-decline = Decline
referral-done = Service provided
referral-failed = Could not be provided
respond-by = answer by
text-withheld = Withheld (not written for your agency)

transfer-title = Offer the lead of case { $reference }
transfer-help = The receiving agency leads the case once it accepts; until then you lead it. It sees only the groups you share.
transfer-send = Offer the transfer
transfer-page-title = Transfer of lead
transfer-accept = Accept the lead
transfer-reject = Reject
transfer-revoke = Withdraw the offer
feedback-title = Feedback between the agencies
feedback-none = No feedback yet.
feedback-message = Your feedback
feedback-send = Send the feedback
consent-title = Consent · { $reference }
consents-recorded = Consents recorded
consents-none = No consent recorded.
consent-in-force = In force
consent-withdrawn = Withdrawn
consent-withdraw = The person withdrew this consent
consent-record = Record a consent
consent-given-by = Given by
consent-purposes = For these purposes
consent-groups = Covering these personal-data groups
consent-agencies = To these agencies
consent-countries = Or to agencies of these countries
consent-countries-help = Country codes, separated by commas (for example NG, IT).
consent-assent = For a child: the child's own assent
consent-assent-adult = Not a child
consent-assent-missing = If the child could not give assent, why
consent-manage = Consents

## Enumerations of the API
enum-active = Active
enum-closed = Closed
enum-lead = Lead agency
enum-participant = Taking part
enum-former-lead = Former lead
enum-auditor = Auditor
enum-break-glass = Emergency access
enum-overdue = Overdue
enum-due-soon = Due soon
enum-action-available = Step to take
enum-referral-to-answer = Referral to answer
enum-transfer-to-decide = Transfer to decide
enum-break-glass-review = Emergency access to review
enum-identification = Identification
enum-first-assistance = First assistance and protection
enum-long-term-assistance = Long-term assistance and social inclusion
enum-return = Return and social inclusion
enum-proceedings = Criminal and civil proceedings
enum-identity = Identity
enum-contact = Contact and whereabouts
enum-family = Family
enum-health = Health
enum-exploitation-narrative = Account of the exploitation
enum-perpetrator = Perpetrators
enum-legal-status = Legal status
enum-pending = Pending
enum-accepted = Accepted
enum-declined = Declined
enum-completed = Completed
enum-revoked = Revoked
enum-suspended = Suspended
enum-met = Met
enum-missed = Missed
enum-paused = Paused
enum-shelter = Shelter
enum-medical = Medical care
enum-psychological = Psychological support
enum-legal = Legal assistance
enum-interpretation = Interpretation
enum-family-tracing = Family tracing
enum-risk-assessment = Risk assessment
enum-reintegration = Reintegration
enum-education-training = Education and training
enum-employment = Employment
enum-decision = Decision
enum-other = Other
enum-vital-interests = Vital interests of the person
enum-child-protection = Protection of a child
enum-legal-obligation = Legal obligation
enum-person = The person
enum-guardian = The guardian
enum-legal-representative = The legal representative
enum-parent = A parent
enum-sharing = Sharing
enum-services = Services
enum-statistics = Statistics
enum-case-worker = Case worker
enum-supervisor = Supervisor
enum-focal-point = Focal point
enum-competent-authority = Competent authority
enum-administrator = Administrator
enum-referral-received = Referral received
enum-referral-answered = Referral answered
enum-referral-revoked = Referral revoked
enum-referral-suspended = Referral suspended
enum-referral-resumed = Referral resumed
enum-transfer-offered = Transfer offered
enum-transfer-requested = Transfer requested
enum-transfer-decided = Transfer decided
enum-transfer-suspended = Transfer suspended
enum-transfer-resumed = Transfer resumed
enum-feedback-received = Feedback received
enum-response-overdue = Answer overdue
enum-deadline-lapsed = Deadline lapsed
enum-person-missing = Person missing
enum-person-found = Person found
enum-person-not-received = Person not received on arrival
enum-break-glass-used = Emergency access used
enum-protection-applied = Protection applied
enum-decision-recorded = Decision recorded
enum-same-person-linked = Same person linked
enum-same-person-matched = Earlier case found
enum-case-opened = Case opened
enum-transition = Step
enum-timer-elapsed = Time limit reached
enum-referral = Referral
enum-transfer = Transfer
enum-transfer-accepted = Transfer accepted
enum-consent-recorded = Consent recorded
enum-consent-withdrawn = Consent withdrawn
enum-personal-data-recorded = Personal data recorded
enum-movement-recorded = Movement recorded
enum-deadline-escalated = Deadline escalated
enum-feedback-sent = Feedback sent
enum-origin-country-set = Country of origin set
enum-workflow-migrated = Moved to a new procedure version
enum-case-file-exported = Case file exported
enum-access-ended = Access ended
enum-route-alerted = Route alerted
enum-same-person-searched = Search for earlier cases
enum-break-glass-reviewed = Emergency access reviewed

## Directory
admin-title = Directory
admin-intro = The agencies of each country, their users and the country's national focal point. Each change is checked by the service; a refused one changes nothing.
admin-countries = Countries
admin-focal-point = National focal point
admin-focal-point-none = none yet
admin-focal-point-of = National focal point of { $country }
admin-focal-point-set = Set as focal point
admin-agencies-of = Agencies in { $country }
admin-col-agency = Agency
admin-col-kind = Kind of agency
admin-col-represents = Country it represents
admin-col-users = Users
admin-col-username = Username
admin-col-name = Name
admin-col-roles = Roles
admin-new-agency = Add an agency
admin-agency-name = Name of the agency
admin-agency-country = Country
admin-country-help = Two-letter ISO code, for example IT for Italy. It cannot be changed later.
admin-represented-help = Only for an embassy or consulate: the two-letter code of the state it represents. Leave empty otherwise.
admin-country-fixed = An agency's country cannot be changed: add a new agency instead.
admin-edit-agency = Change the agency
admin-edit-save = Save the changes
admin-users = Users of the agency
admin-users-none = This agency has no user yet.
admin-new-user = Add a user
admin-username-help = Lower-case letters, digits, dots, hyphens and underscores, for example it.police. It cannot be changed later.
admin-user-token-help = The user gets no password or token here: they sign in with the agency's identity provider, or an operator issues them a token on the server (trm token issue --user USERNAME).
admin-done-agency-created = The agency was added. You can add its users now.
admin-done-agency-updated = The changes were saved.
admin-done-focal-point = The national focal point was set.
admin-done-user-created = The user was added.
agency-kind-border-police = Border police
agency-kind-child-protection = Child protection services
agency-kind-court = Court
agency-kind-embassy-consulate = Embassy or consulate
agency-kind-guardianship = Guardianship authority
agency-kind-health = Health service
agency-kind-international-organisation = International organisation
agency-kind-labour-inspectorate = Labour inspectorate
agency-kind-legal-aid = Legal aid
agency-kind-migration-authority = Migration authority
agency-kind-national-focal-point = National focal point
agency-kind-ngo = Non-governmental organisation
agency-kind-police = Police
agency-kind-prosecutor = Prosecutor
role-case-worker = Case worker
role-supervisor = Supervisor
role-focal-point = Focal point
role-competent-authority = Competent authority
role-guardian = Guardian
role-auditor = Auditor
role-administrator = Administrator

## OIDC
sign-in-with = Sign in with { $provider }
oidc-signed-in = You are signed in
oidc-continue = Continue to your work
oidc-refused-title = Sign-in did not complete
oidc-refused = The sign-in could not be completed: it took too long, was already used, was begun in another browser, or your identity provider or this service refused it. You are not signed in. Start again from the sign-in page.

## Audit

by-system = The service
audit-title = Audit
audit-log = The audit log
audit-checkpoint = Latest signed checkpoint
audit-no-checkpoint = No checkpoint has been signed yet.
audit-tree-size = Entries in the log
audit-root = Root
audit-signed-at = Signed
audit-key = Key
audit-checked-events = Events checked
audit-verify = Verify the whole log now
audit-verify-help = Verification recomputes every case's chain of events, the log and every checkpoint, as `trm audit verify` does. It can take a while on a large log.
audit-verified = Verified: every chain, the log and every checkpoint check out.
audit-not-verified = NOT verified: the log does not check out.
audit-first-problem = First problem
audit-search = Events
audit-kind = Kind
audit-agency = Agency
audit-country = Country of the case
audit-from = From (UTC)
audit-until = Until (UTC, inclusive)
audit-bad-date = A date could not be read: use the form's date fields. It was left out of the search.
audit-no-events = No event matches.
audit-when = When (UTC)
audit-who = Who
audit-case-title = Audit of case { $reference }
audit-origin = Country of origin
audit-workflow = Procedure
audit-open-case = Open the case page
audit-timeline = Timeline
audit-first-page = First page
audit-reason = Reason
audit-disclosures = Disclosures
audit-ground = Ground
audit-ground-consent = Consent given by { $by }
audit-none = None.
audit-access-log = Access log
audit-reader = Reader
audit-groups = Data groups
audit-purpose = Purpose
audit-recipient = Recipient
audit-break-glass = Emergency accesses
audit-opened = Opened
audit-expires = Expires
audit-justification = Justification
audit-review = Review
audit-justified = justified
audit-not-justified = not justified
audit-not-reviewed = Not reviewed yet
audit-as-of = The case at a chosen moment
audit-moment = Moment (UTC)
audit-moment-help = The case is rebuilt from its events up to that moment.
audit-show-as-of = Show the case then
audit-as-of-at = As it stood at { $at }
audit-not-yet-opened = The case had not been opened yet.
audit-bad-moment = The moment could not be read: choose a date and a time.
audit-last-event = Last event
audit-case-file = Case file
audit-case-file-help = Exporting is a disclosure: it is recorded in the case's access log and history, with your purpose. The file is checked before it is handed over, as `trm audit verify-file` checks it; the printable page states the result. Check the JSON file again wherever it is relied on.
audit-purpose-category = Why, by category
audit-purpose-help = Say why the file leaves the service, e.g. the letter that asks for it.
audit-download-json = Download the case file (JSON)
audit-download-html = Download the printable page (HTML)
enum-audit = Audit
enum-oversight = Oversight
enum-legal-proceedings = Legal proceedings
enum-data-subject-request = The person's own request
enum-match = Search for the same person
enum-read = Read
enum-case-file-export = Case file export
enum-expired = Expired
enum-disclosed = Disclosed

## Focal point

focal-title = Focal point
focal-alerts = Escalations and alerts
focal-board = Children on the move
focal-board-help = { $days ->
    [one] Every identified child your country is concerned with (lead, origin, route), most urgent first. News is overdue after 1 day without anything recorded on the case.
   *[other] Every identified child your country is concerned with (lead, origin, route), most urgent first. News is overdue after { $days } days without anything recorded on the case.
}
focal-board-empty = No child on the move concerns your country.
focal-standing = Where the child stands
focal-last-news = Last news
focal-no-news = { $days ->
    [one] No news for 1 day
   *[other] No news for { $days } days
}
focal-not-shared = Not shared with your agency: ask the lead agency
enum-missing = Missing
enum-not-received = Not received on arrival
enum-in-transit = In transit
enum-awaiting-reception = Awaiting reception
enum-received = Received
enum-in-care = In care
