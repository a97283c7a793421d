# Console TRM, français. Mêmes identifiants de messages dans chaque langue (un test le vérifie).

## Cadre
skip-to-content = Aller au contenu
nav-label = Menu principal
nav-work = Mon travail
nav-cases = Dossiers
nav-inbox = Messages
nav-referrals = Orientations
nav-focal = Point focal
nav-audit = Audit
nav-admin = Annuaire
language = Langue
language-apply = Appliquer
sign-out = Se déconnecter
go-home = Retour à mon travail

## Connexion
sign-in-title = Connexion
sign-in-demo-intro = Ceci est un service de démonstration, avec des organismes et des personnes inventés. Choisissez qui vous voulez être.
sign-in-demo-choose = Utilisateurs de démonstration
sign-in-none = La connexion n’est pas configurée sur ce service. Adressez-vous à votre administrateur.

## Erreurs et codes
error-title = Cela n’a pas pu être fait
not-found = Ceci n’existe pas, ou vous ne pouvez pas le voir.
form-expired-title = Veuillez réessayer
form-expired = Ce formulaire a expiré ou ne vient pas de ce service. Rien n’a été modifié. Revenez en arrière, rechargez la page et envoyez-le de nouveau.
code-other = Le service a refusé. Rien n’a été modifié.
code-forbidden = Vous ne pouvez pas faire cela sur ce dossier. Rien n’a été modifié.
code-not-found = Ceci n’existe pas, ou vous ne pouvez pas le voir.
code-guard-failed = Cette étape n’est pas encore possible : ses conditions ne sont pas remplies. Rien n’a été modifié.
code-version-conflict = Quelqu’un d’autre a modifié ce dossier pendant que vous y travailliez : votre étape n’a pas été enregistrée. Rechargez le dossier pour voir ce qui a changé, puis réessayez.
code-validation = Une partie de la saisie n’est pas valide. Rien n’a été modifié.
code-consent-required = Il manque un consentement couvrant ce partage (ou une dérogation sur une base légale). Rien n’a été partagé.
code-legal-ban = La loi l’interdit, quel que soit le demandeur. Rien n’a été partagé.
code-invalid-transition = Cette étape n’est pas possible là où en est le dossier.
code-case-still-active = La personne a déjà un dossier actif dans votre organisme.
code-idempotency-mismatch = Ce formulaire a déjà été envoyé avec un autre contenu. Rechargez la page.
code-service-unavailable = Le service ne joint pas sa base de données. Réessayez dans un instant.
code-rate-limited = Trop de demandes en peu de temps. Attendez une minute et réessayez.
code-unauthenticated = Votre session a pris fin. Reconnectez-vous.
code-internal = Une erreur s’est produite dans le service. Rien n’a été modifié.
field-not-a-number = « { $field } » doit être un nombre entier.

## Travail et messages
work-title = Mon travail
worklist = Liste de travail
worklist-empty = Rien ne vous attend pour l’instant.
work-transfer = Transfert de dossier à décider
inbox-unread = Nouveaux messages
inbox-title = Messages
inbox-empty = Aucune notification.
inbox-open = Ouvrir les messages
inbox-show-all = Afficher toutes les notifications
inbox-show-unread = N’afficher que les non lues
mark-read = Marquer comme lue
from = de
due-overdue = { $days ->
    [one] en retard d’1 jour
   *[other] en retard de { $days } jours
}
due-hours = { $hours ->
    [0] échéance dans l’heure
    [one] échéance dans 1 heure
   *[other] échéance dans { $hours } heures
}
due-in = { $days ->
    [one] échéance dans 1 jour
   *[other] échéance dans { $days } jours
}
col-case = Dossier
col-why = Pourquoi
col-what = Quoi
col-due = Échéance
col-where = Où en est le dossier
col-lead = Organisme responsable
col-access = Votre accès
col-updated = Dernière modification
col-service = Service
col-to = À
col-from = De
col-status = Statut
col-shared = Données partagées

## Dossiers
cases-title = Dossiers
cases-reference = Référence du dossier
cases-status = Statut
cases-stage = Étape
cases-deadline = Échéance
cases-none = Aucun dossier ne correspond.
cases-reference-not-found = Aucun dossier visible pour vous ne porte cette référence.
cases-count = { $count ->
    [one] 1 dossier
   *[other] { $count } dossiers
}
any = Tous
search = Rechercher
next-page = Page suivante
open-case = Ouvrir un nouveau dossier
open-case-procedure = Procédure
open-case-choose = Choisissez la procédure sous laquelle ouvrir le dossier.

## Page du dossier
case-lead = Responsable
case-your-access = Votre accès
case-opened = Ouvert le
case-origin = origine
case-version = Version
case-sections = Parties du dossier
case-tracks = Où en est le dossier
case-steps = Prochaines étapes
case-deadlines = Délais
case-personal = Données personnelles
case-referrals = Orientations et transferts
case-transfers = Transferts du dossier
case-history = Historique
case-route = Parcours
track-picture = Procédure : { $track }
since = depuis le
steps-none = Aucune étape n’est possible pour l’instant.
step-not-yours = Pas pour votre rôle ou organisme
step-conditions = Conditions pas encore remplies
step-forbidden = Votre rôle ou votre organisme ne peut pas effectuer cette étape.
step-unmet = Pas encore possible :
step-recorded = Enregistré : { $step }.
required = obligatoire
choose = Choisir…
yes = Oui
no = Non
reason = Motif (facultatif)
reason-help = Conservé dans l’historique. Sans choix ci-dessous, seuls votre organisme et les auditeurs peuvent le lire.
reason-shared-as = Ce motif révèle des données personnelles de ces catégories (il est alors montré aux organismes qui peuvent les lire)
reload-case = Recharger le dossier
floor-ends-in = { $days ->
    [0] se termine aujourd’hui
    [one] encore 1 jour
   *[other] encore { $days } jours
}
step-transfer = Cette étape a lieu en proposant le transfert du dossier à un autre organisme ; elle se fait quand cet organisme accepte.
transfer-offer = Proposer le transfert du dossier
deadlines-none = Aucun délai en cours.
personal-help = Les données personnelles ne s’affichent qu’à votre demande, et chaque lecture est enregistrée avec sa finalité. La santé, le récit de l’exploitation et les auteurs exigent une finalité.
purpose = Finalité de cette lecture
purpose-help = Par exemple : préparer l’orientation médicale. Nécessaire pour les catégories sensibles.
personal-show = Afficher les données personnelles
group-withheld = Non communiqué : pas partagé avec votre organisme
group-purpose = Indiquez une finalité pour voir cette catégorie
group-empty = Rien d’enregistré
history-none = Aucun événement visible pour vous.
referrals-none = Aucune orientation ni aucun transfert.
transfer-of-lead = Transfert du dossier
refer = Orienter vers un autre organisme

## Orientations
refer-title = Orienter le dossier { $reference }
refer-lead-only = Seul l’organisme responsable du dossier peut l’orienter.
refer-to = Organisme destinataire
refer-service = Service demandé
refer-groups = Données personnelles à partager
refer-groups-help = Ne partagez que ce dont le destinataire a besoin pour ce service. Tout le reste reste non communiqué.
refer-ground = Fondement du partage
refer-no-consent = Aucun consentement en vigueur n’est enregistré sur ce dossier. Enregistrez d’abord le consentement de la personne, ou utilisez une dérogation si la loi le permet.
refer-override = Partager sans consentement, sur une base légale
refer-basis = Base légale
refer-justification = Justification
refer-purpose = Objet de l’orientation
refer-purpose-help = Montré au destinataire. N’écrivez pas plus de données personnelles que les catégories partagées.
refer-days = Réponse attendue sous (jours)
refer-preview = Voir ce que verra le destinataire
refer-send = Envoyer l’orientation
preview-title = Ce que verra le destinataire
preview-receiver = Destinataire
preview-shared = Partagé avec lui
preview-withheld = Non communiqué
preview-nothing = Aucune donnée personnelle.
preview-always = Il voit aussi la référence du dossier et où en est la procédure.
ground-consent = Au titre du consentement : { $consent }
ground-override = Sans consentement, sur la base légale : { $basis }
ground-missing = Aucun fondement choisi pour l’instant.
preview-refused = Le service refusera ceci tel quel :
preview-text = Votre { $text } l’accompagne : le destinataire le lit, ainsi que tout organisme pouvant lire { $groups }.
preview-text-alone = Votre { $text } l’accompagne : le destinataire le lit ; aucun autre organisme.
refusal-consent-required = Consentement manquant.
refusal-legal-ban = Interdiction légale (ni consentement ni dérogation ne la lève).
refusal-forbidden = Non autorisé pour vous.
refusal-validation = Incomplet ou non valide.
refusal-guard-failed = Les conditions de l’étape ne sont pas remplies.
refusal-invalid-transition = Impossible pour l’instant.
refusal-not-found = Introuvable.
refusal-version-conflict = Le dossier a changé depuis l’ouverture de ce formulaire : rechargez-le.
refusal-other = Refusé.
ground-consent-other = Au titre d’un consentement enregistré dans le dossier.
referrals-title = Orientations vers mon organisme
referrals-incoming-none = Aucune orientation n’a été faite vers votre organisme.
referral-title = Orientation
referral-open-case = Ouvrir le dossier (seulement ce qui vous a été partagé)
referral-answer = Votre réponse
referral-accept = Accepter
referral-decline = Refuser
referral-done = Service rendu
referral-failed = N’a pas pu être rendu
respond-by = réponse avant le
text-withheld = Non communiqué (pas écrit pour votre organisme)

transfer-title = Proposer le dossier { $reference } à un autre organisme
transfer-help = L’organisme destinataire devient responsable du dossier quand il accepte ; d’ici là, vous restez responsable. Il ne voit que les catégories partagées.
transfer-send = Proposer le transfert
transfer-page-title = Transfert du dossier
transfer-accept = Accepter le dossier
transfer-reject = Refuser
transfer-revoke = Retirer la proposition
feedback-title = Retours entre les organismes
feedback-none = Aucun retour pour l’instant.
feedback-message = Votre retour
feedback-send = Envoyer le retour
consent-title = Consentement · { $reference }
consents-recorded = Consentements enregistrés
consents-none = Aucun consentement enregistré.
consent-in-force = En vigueur
consent-withdrawn = Retiré
consent-withdraw = La personne a retiré ce consentement
consent-record = Enregistrer un consentement
consent-given-by = Donné par
consent-purposes = Pour ces finalités
consent-groups = Couvrant ces catégories de données
consent-agencies = À ces organismes
consent-countries = Ou aux organismes de ces pays
consent-countries-help = Codes de pays, séparés par des virgules (par exemple NG, IT).
consent-assent = Pour un enfant : l’assentiment de l’enfant
consent-assent-adult = Pas un enfant
consent-assent-missing = Si l’enfant n’a pas pu donner son assentiment, pourquoi
consent-manage = Consentements

## Énumérations de l’API
enum-active = Actif
enum-closed = Clos
enum-lead = Organisme responsable
enum-participant = Participant
enum-former-lead = Ancien responsable
enum-auditor = Auditeur
enum-break-glass = Accès d’urgence
enum-overdue = En retard
enum-due-soon = Bientôt dû
enum-action-available = Étape à faire
enum-referral-to-answer = Orientation à traiter
enum-transfer-to-decide = Transfert à décider
enum-break-glass-review = Accès d’urgence à examiner
enum-identification = Identification
enum-first-assistance = Première assistance et protection
enum-long-term-assistance = Assistance à long terme et inclusion sociale
enum-return = Retour et inclusion sociale
enum-proceedings = Procédures pénales et civiles
enum-identity = Identité
enum-contact = Coordonnées et localisation
enum-family = Famille
enum-health = Santé
enum-exploitation-narrative = Récit de l’exploitation
enum-perpetrator = Auteurs
enum-legal-status = Situation juridique
enum-pending = En attente
enum-accepted = Acceptée
enum-declined = Refusée
enum-completed = Terminée
enum-revoked = Révoquée
enum-suspended = Suspendue
enum-met = Respecté
enum-missed = Dépassé
enum-paused = Suspendu
enum-shelter = Hébergement
enum-medical = Soins médicaux
enum-psychological = Soutien psychologique
enum-legal = Assistance juridique
enum-interpretation = Interprétariat
enum-family-tracing = Recherche familiale
enum-risk-assessment = Évaluation des risques
enum-reintegration = Réintégration
enum-education-training = Éducation et formation
enum-employment = Emploi
enum-decision = Décision
enum-other = Autre
enum-vital-interests = Intérêts vitaux de la personne
enum-child-protection = Protection de l’enfant
enum-legal-obligation = Obligation légale
enum-person = La personne
enum-guardian = Le tuteur
enum-legal-representative = Le représentant légal
enum-parent = Un parent
enum-sharing = Partage
enum-services = Services
enum-statistics = Statistiques
enum-case-worker = Travailleur social
enum-supervisor = Superviseur
enum-focal-point = Point focal
enum-competent-authority = Autorité compétente
enum-administrator = Administrateur
enum-referral-received = Orientation reçue
enum-referral-answered = Réponse à une orientation
enum-referral-revoked = Orientation révoquée
enum-referral-suspended = Orientation suspendue
enum-referral-resumed = Orientation reprise
enum-transfer-offered = Transfert proposé
enum-transfer-requested = Transfert demandé
enum-transfer-decided = Transfert décidé
enum-transfer-suspended = Transfert suspendu
enum-transfer-resumed = Transfert repris
enum-feedback-received = Retour reçu
enum-response-overdue = Réponse en retard
enum-deadline-lapsed = Délai dépassé
enum-person-missing = Personne disparue
enum-person-found = Personne retrouvée
enum-person-not-received = Personne non accueillie à l’arrivée
enum-break-glass-used = Accès d’urgence utilisé
enum-protection-applied = Protection appliquée
enum-decision-recorded = Décision enregistrée
enum-same-person-linked = Même personne liée
enum-same-person-matched = Dossier antérieur trouvé
enum-case-opened = Dossier ouvert
enum-transition = Étape
enum-timer-elapsed = Délai atteint
enum-referral = Orientation
enum-transfer = Transfert
enum-transfer-accepted = Transfert accepté
enum-consent-recorded = Consentement enregistré
enum-consent-withdrawn = Consentement retiré
enum-personal-data-recorded = Données personnelles enregistrées
enum-movement-recorded = Déplacement enregistré
enum-deadline-escalated = Délai signalé
enum-feedback-sent = Retour envoyé
enum-origin-country-set = Pays d’origine indiqué
enum-workflow-migrated = Passé à une nouvelle version de la procédure
enum-case-file-exported = Dossier exporté
enum-access-ended = Accès terminé
enum-route-alerted = Alerte sur le parcours
enum-same-person-searched = Recherche de dossiers antérieurs
enum-break-glass-reviewed = Accès d’urgence examiné

## Directory
admin-title = Annuaire
admin-intro = Les organismes de chaque pays, leurs utilisateurs et le point focal national du pays. Chaque modification est vérifiée par le service ; une modification refusée ne change rien.
admin-countries = Pays
admin-focal-point = Point focal national
admin-focal-point-none = aucun pour l’instant
admin-focal-point-of = Point focal national : { $country }
admin-focal-point-set = Désigner comme point focal
admin-agencies-of = Organismes : { $country }
admin-col-agency = Organisme
admin-col-kind = Type d’organisme
admin-col-represents = Pays représenté
admin-col-users = Utilisateurs
admin-col-username = Identifiant
admin-col-name = Nom
admin-col-roles = Rôles
admin-new-agency = Ajouter un organisme
admin-agency-name = Nom de l’organisme
admin-agency-country = Pays
admin-country-help = Code ISO à deux lettres, par exemple IT pour l’Italie. Il ne peut pas être modifié ensuite.
admin-represented-help = Seulement pour une ambassade ou un consulat : le code à deux lettres de l’État représenté. Sinon, laisser vide.
admin-country-fixed = Le pays d’un organisme ne peut pas être modifié : ajoutez plutôt un nouvel organisme.
admin-edit-agency = Modifier l’organisme
admin-edit-save = Enregistrer les modifications
admin-users = Utilisateurs de l’organisme
admin-users-none = Cet organisme n’a pas encore d’utilisateur.
admin-new-user = Ajouter un utilisateur
admin-username-help = Lettres minuscules, chiffres, points, traits d’union et tirets bas, par exemple it.police. Il ne peut pas être modifié ensuite.
admin-user-token-help = L’utilisateur ne reçoit ici ni mot de passe ni jeton : il se connecte avec le fournisseur d’identité de l’organisme, ou un opérateur lui délivre un jeton sur le serveur (trm token issue --user IDENTIFIANT).
admin-done-agency-created = L’organisme a été ajouté. Vous pouvez maintenant ajouter ses utilisateurs.
admin-done-agency-updated = Les modifications ont été enregistrées.
admin-done-focal-point = Le point focal national a été désigné.
admin-done-user-created = L’utilisateur a été ajouté.
agency-kind-border-police = Police aux frontières
agency-kind-child-protection = Services de protection de l’enfance
agency-kind-court = Tribunal
agency-kind-embassy-consulate = Ambassade ou consulat
agency-kind-guardianship = Autorité de tutelle
agency-kind-health = Service de santé
agency-kind-international-organisation = Organisation internationale
agency-kind-labour-inspectorate = Inspection du travail
agency-kind-legal-aid = Aide juridique
agency-kind-migration-authority = Autorité chargée des migrations
agency-kind-national-focal-point = Point focal national
agency-kind-ngo = Organisation non gouvernementale
agency-kind-police = Police
agency-kind-prosecutor = Parquet
role-case-worker = Travailleur social
role-supervisor = Superviseur
role-focal-point = Point focal
role-competent-authority = Autorité compétente
role-guardian = Tuteur
role-auditor = Auditeur
role-administrator = Administrateur

## OIDC
sign-in-with = Se connecter avec { $provider }
oidc-signed-in = Vous êtes connecté
oidc-continue = Continuer vers votre travail
oidc-refused-title = La connexion n’a pas abouti
oidc-refused = La connexion n’a pas pu aboutir : elle a pris trop de temps, a déjà été utilisée, a été commencée dans un autre navigateur, ou votre fournisseur d’identité ou ce service l’a refusée. Vous n’êtes pas connecté. Recommencez depuis la page de connexion.

## Audit

by-system = Le service
audit-title = Audit
audit-log = Le journal d’audit
audit-checkpoint = Dernier point de contrôle signé
audit-no-checkpoint = Aucun point de contrôle n’a encore été signé.
audit-tree-size = Entrées du journal
audit-root = Racine
audit-signed-at = Signé le
audit-key = Clé
audit-checked-events = Événements vérifiés
audit-verify = Vérifier tout le journal maintenant
audit-verify-help = La vérification recalcule la chaîne d’événements de chaque dossier, le journal et chaque point de contrôle, comme `trm audit verify`. Elle peut prendre du temps sur un grand journal.
audit-verified = Vérifié : chaque chaîne, le journal et chaque point de contrôle sont intacts.
audit-not-verified = NON vérifié : le journal n’est pas intact.
audit-first-problem = Premier problème
audit-search = Événements
audit-kind = Nature
audit-agency = Organisme
audit-country = Pays du dossier
audit-from = Du (UTC)
audit-until = Au (UTC, inclus)
audit-bad-date = Une date n’a pas pu être lue : utilisez les champs de date du formulaire. Elle n’a pas été prise en compte.
audit-no-events = Aucun événement ne correspond.
audit-when = Quand (UTC)
audit-who = Qui
audit-case-title = Audit du dossier { $reference }
audit-origin = Pays d’origine
audit-workflow = Procédure
audit-open-case = Ouvrir la page du dossier
audit-timeline = Chronologie
audit-first-page = Première page
audit-reason = Motif
audit-disclosures = Communications
audit-ground = Fondement
audit-ground-consent = Consentement donné par { $by }
audit-none = Aucune.
audit-access-log = Journal des accès
audit-reader = Lecteur
audit-groups = Catégories de données
audit-purpose = Finalité
audit-recipient = Destinataire
audit-break-glass = Accès d’urgence
audit-opened = Ouvert le
audit-expires = Expire le
audit-justification = Justification
audit-review = Examen
audit-justified = justifié
audit-not-justified = non justifié
audit-not-reviewed = Pas encore examiné
audit-as-of = Le dossier à un moment donné
audit-moment = Moment (UTC)
audit-moment-help = Le dossier est reconstitué à partir de ses événements jusqu’à ce moment.
audit-show-as-of = Afficher le dossier à ce moment
audit-as-of-at = Tel qu’il était le { $at }
audit-not-yet-opened = Le dossier n’avait pas encore été ouvert.
audit-bad-moment = Le moment n’a pas pu être lu : choisissez une date et une heure.
audit-last-event = Dernier événement
audit-case-file = Dossier exporté
audit-case-file-help = Exporter est une communication : elle est enregistrée dans le journal des accès et l’historique du dossier, avec votre finalité. Le fichier est vérifié avant d’être remis, comme le fait `trm audit verify-file` ; la page imprimable en donne le résultat. Vérifiez de nouveau le fichier JSON partout où il sert de preuve.
audit-purpose-category = Pourquoi, par catégorie
audit-purpose-help = Dites pourquoi le fichier quitte le service, par exemple la lettre qui le demande.
audit-download-json = Télécharger le dossier (JSON)
audit-download-html = Télécharger la page imprimable (HTML)
enum-audit = Audit
enum-oversight = Contrôle
enum-legal-proceedings = Procédure judiciaire
enum-data-subject-request = Demande de la personne elle-même
enum-match = Recherche de la même personne
enum-read = Lecture
enum-case-file-export = Export du dossier
enum-expired = Expiré
enum-disclosed = Communiqué

## Focal point

focal-title = Point focal
focal-alerts = Signalements et alertes
focal-board = Enfants en mobilité
focal-board-help = { $days ->
    [one] Chaque enfant identifié qui concerne votre pays (responsable, origine, parcours), le plus urgent d’abord. Les nouvelles sont en retard après 1 jour sans rien d’enregistré sur le dossier.
   *[other] Chaque enfant identifié qui concerne votre pays (responsable, origine, parcours), le plus urgent d’abord. Les nouvelles sont en retard après { $days } jours sans rien d’enregistré sur le dossier.
}
focal-board-empty = Aucun enfant en mobilité ne concerne votre pays.
focal-standing = Où en est l’enfant
focal-last-news = Dernières nouvelles
focal-no-news = { $days ->
    [one] Sans nouvelles depuis 1 jour
   *[other] Sans nouvelles depuis { $days } jours
}
focal-not-shared = Non partagé avec votre organisme : demandez à l’organisme responsable
enum-missing = Disparu
enum-not-received = Non accueilli à l’arrivée
enum-in-transit = En transit
enum-awaiting-reception = En attente d’accueil
enum-received = Accueilli
enum-in-care = Pris en charge
