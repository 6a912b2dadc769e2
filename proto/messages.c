/*
 * messages: the texts of the wire contract in en, nl, fr and de, and
 * Accept-Language (see messages.h).
 */
#include "messages.h"

#include <ctype.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "jsonx.h"

/* ---- languages -------------------------------------------------------------- */

const char *lang_tag(enum lang l)
{
    switch (l) {
    case LANG_NL:
        return "nl";
    case LANG_FR:
        return "fr";
    case LANG_DE:
        return "de";
    default:
        return "en";
    }
}

/* q-value in thousandths; -1 when malformed */
static int parse_q(const char *s, size_t n)
{
    if (n == 0 || n > 5)
        return -1;
    if (s[0] == '1') {
        if (n == 1)
            return 1000;
        if (s[1] != '.')
            return -1;
        for (size_t i = 2; i < n; i++)
            if (s[i] != '0')
                return -1;
        return 1000;
    }
    if (s[0] != '0')
        return -1;
    if (n == 1)
        return 0;
    if (s[1] != '.')
        return -1;
    int v = 0, scale = 100;
    for (size_t i = 2; i < n; i++, scale /= 10) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v += (s[i] - '0') * scale;
    }
    return v;
}

static bool ieq_prefix(const char *tag, size_t n, const char *lang)
{
    size_t l = strlen(lang);
    if (n < l)
        return false;
    for (size_t i = 0; i < l; i++)
        if (tolower((unsigned char)tag[i]) != lang[i])
            return false;
    return n == l || tag[l] == '-';
}

enum lang lang_from_accept(const char *hdr)
{
    if (hdr == NULL)
        return LANG_EN;
    enum lang best = LANG_EN;
    int best_q = 0;
    const char *p = hdr;
    while (*p) {
        /* one element: range *( OWS ";" OWS param ) */
        const char *end = strchr(p, ',');
        size_t elen = end ? (size_t)(end - p) : strlen(p);
        const char *e = p;
        const char *eend = p + elen;
        while (e < eend && (*e == ' ' || *e == '\t'))
            e++;
        const char *tag = e;
        while (e < eend && *e != ';' && *e != ' ' && *e != '\t')
            e++;
        size_t tlen = (size_t)(e - tag);
        int q = 1000;
        while (e < eend) {
            while (e < eend && (*e == ' ' || *e == '\t' || *e == ';'))
                e++;
            const char *param = e;
            while (e < eend && *e != ';' && *e != ' ' && *e != '\t')
                e++;
            size_t plen = (size_t)(e - param);
            if (plen >= 2 && (param[0] == 'q' || param[0] == 'Q') && param[1] == '=')
                q = parse_q(param + 2, plen - 2);
        }
        int cand = -1;
        if (ieq_prefix(tag, tlen, "en") || (tlen == 1 && tag[0] == '*'))
            cand = LANG_EN;
        else if (ieq_prefix(tag, tlen, "nl"))
            cand = LANG_NL;
        else if (ieq_prefix(tag, tlen, "fr"))
            cand = LANG_FR;
        else if (ieq_prefix(tag, tlen, "de"))
            cand = LANG_DE;
        if (cand >= 0 && q > best_q) {
            best_q = q;
            best = (enum lang)cand;
        }
        if (end == NULL)
            break;
        p = end + 1;
    }
    return best;
}

/* ---- the table ------------------------------------------------------------- */

static const struct {
    const char *code;
    const char *text[LANG__COUNT]; /* en, nl, fr, de */
} messages[] = {
    /* coverage: the refusal reasons, in their order of precedence, and the
     * answer that covers */
    {"none",
     {"The care is covered.", "De zorg is gedekt.", "Les soins sont couverts.",
      "Die Versorgung ist gedeckt."}},
    {"invalid_ssin",
     {"The national register or BIS number is not valid.",
      "Het rijksregisternummer of BIS-nummer is ongeldig.",
      "Le numéro de registre national ou le numéro BIS n'est pas valable.",
      "Die Nationalregisternummer oder BIS-Nummer ist ungültig."}},
    {"service_date_in_future",
     {"The service date is in the future.", "De datum van de verstrekking ligt in de toekomst.",
      "La date de la prestation se situe dans le futur.",
      "Das Datum der Leistung liegt in der Zukunft."}},
    {"service_date_too_old",
     {"The service date is more than two months in the past.",
      "De datum van de verstrekking ligt meer dan twee maanden in het verleden.",
      "La date de la prestation remonte à plus de deux mois.",
      "Das Datum der Leistung liegt mehr als zwei Monate zurück."}},
    {"provider_kind_mismatch",
     {"This kind of care provider may not ask about this type of care.",
      "Dit soort zorgverlener mag geen vragen stellen over dit soort zorg.",
      "Ce type de prestataire ne peut pas interroger pour ce type de soins.",
      "Diese Art von Leistungserbringer darf für diese Art von Versorgung nicht anfragen."}},
    {"deceased",
     {"The beneficiary died on or before the service date.",
      "De begunstigde is overleden op of vóór de datum van de verstrekking.",
      "Le bénéficiaire est décédé à la date de la prestation ou avant celle-ci.",
      "Der Begünstigte ist am oder vor dem Datum der Leistung verstorben."}},
    {"no_decision",
     {"No medical-aid decision has been recorded for this person.",
      "Er is voor deze persoon geen beslissing tot medische hulp geregistreerd.",
      "Aucune décision d'aide médicale n'a été enregistrée pour cette personne.",
      "Für diese Person wurde keine Entscheidung über medizinische Hilfe erfasst."}},
    {"no_active_decision",
     {"No medical-aid decision is valid on the service date.",
      "Er is geen geldige beslissing tot medische hulp op de datum van de verstrekking.",
      "Aucune décision d'aide médicale n'est valable à la date de la prestation.",
      "Am Datum der Leistung ist keine Entscheidung über medizinische Hilfe gültig."}},
    {"suspended",
     {"The medical-aid decision is suspended.", "De beslissing tot medische hulp is geschorst.",
      "La décision d'aide médicale est suspendue.",
      "Die Entscheidung über medizinische Hilfe ist ausgesetzt."}},
    {"care_type_absent",
     {"The decision does not cover this type of care.", "De beslissing dekt dit soort zorg niet.",
      "La décision ne couvre pas ce type de soins.",
      "Die Entscheidung deckt diese Art von Versorgung nicht."}},
    {"care_type_inactive",
     {"The decision covers this type of care, but not on the service date.",
      "De beslissing dekt dit soort zorg, maar niet op de datum van de verstrekking.",
      "La décision couvre ce type de soins, mais pas à la date de la prestation.",
      "Die Entscheidung deckt diese Art von Versorgung, aber nicht am Datum der Leistung."}},
    {"provider_not_designated",
     {"The decision designates other care providers for this type of care.",
      "De beslissing wijst voor dit soort zorg andere zorgverleners aan.",
      "La décision désigne d'autres prestataires pour ce type de soins.",
      "Die Entscheidung bestimmt für diese Art von Versorgung andere Leistungserbringer."}},
    {"unknown_code",
     {"No tariff is known for this code for this type of care on the service date.",
      "Voor deze code is er geen tarief bekend voor dit soort zorg op de datum van de "
      "verstrekking.",
      "Aucun tarif n'est connu pour ce code pour ce type de soins à la date de la prestation.",
      "Für diesen Code ist am Datum der Leistung kein Tarif für diese Art von Versorgung "
      "bekannt."}},

    /* the titles of the problems (proto/problem.h), "problem." and the code */
    {"problem.bad_request",
     {"Bad request", "Ongeldig verzoek", "Requête invalide", "Ungültige Anfrage"}},
    {"problem.malformed_json",
     {"Malformed JSON", "Ongeldige JSON", "JSON mal formé", "Fehlerhaftes JSON"}},
    {"problem.invalid_parameter",
     {"Invalid parameter", "Ongeldige parameter", "Paramètre invalide", "Ungültiger Parameter"}},
    {"problem.principal_unknown",
     {"Unknown principal", "Onbekende gebruiker", "Utilisateur inconnu", "Unbekannter Benutzer"}},
    {"problem.principal_revoked",
     {"Principal revoked", "Gebruiker ingetrokken", "Utilisateur révoqué", "Benutzer widerrufen"}},
    {"problem.forbidden", {"Forbidden", "Niet toegestaan", "Interdit", "Nicht erlaubt"}},
    {"problem.not_found", {"Not found", "Niet gevonden", "Introuvable", "Nicht gefunden"}},
    {"problem.method_not_allowed",
     {"Method not allowed", "Methode niet toegestaan", "Méthode non autorisée",
      "Methode nicht erlaubt"}},
    {"problem.request_timeout",
     {"Request timeout", "Verzoek niet op tijd ontvangen", "Délai de requête dépassé",
      "Zeitüberschreitung der Anfrage"}},
    {"problem.length_required",
     {"Length required", "Lengte vereist", "Longueur requise", "Länge erforderlich"}},
    {"problem.body_too_large",
     {"Request body too large", "Inhoud van het verzoek te groot",
      "Corps de requête trop volumineux", "Anfrageinhalt zu groß"}},
    {"problem.unsupported_media_type",
     {"Unsupported media type", "Niet-ondersteund mediatype", "Type de média non pris en charge",
      "Nicht unterstützter Medientyp"}},
    {"problem.validation_failed",
     {"Validation failed", "Validatie mislukt", "Échec de la validation",
      "Validierung fehlgeschlagen"}},
    {"problem.headers_too_large",
     {"Request headers too large", "Headers van het verzoek te groot",
      "En-têtes de requête trop volumineux", "Anfrage-Header zu groß"}},
    {"problem.internal_error",
     {"Internal error", "Interne fout", "Erreur interne", "Interner Fehler"}},
    {"problem.not_implemented",
     {"Not implemented", "Niet geïmplementeerd", "Non implémenté", "Nicht implementiert"}},
    {"problem.database_unavailable",
     {"Database unavailable", "Databank niet beschikbaar", "Base de données indisponible",
      "Datenbank nicht verfügbar"}},
    {"problem.shutting_down",
     {"Service shutting down", "Dienst wordt gestopt", "Service en cours d'arrêt",
      "Dienst wird beendet"}},
    {"problem.decision_overlap",
     {"Overlapping decision", "Overlappende beslissing", "Décision qui se chevauche",
      "Überschneidende Entscheidung"}},
    {"problem.invalid_status",
     {"Not possible in this status", "Niet mogelijk in deze status", "Impossible dans ce statut",
      "In diesem Status nicht möglich"}},
    {"problem.version_mismatch",
     {"Stale version", "Verouderde versie", "Version périmée", "Veraltete Version"}},
    {"problem.precondition_required",
     {"If-Match required", "If-Match vereist", "If-Match requis", "If-Match erforderlich"}},
    {"problem.idempotency_key_reused",
     {"Idempotency key reused", "Idempotentiesleutel hergebruikt", "Clé d'idempotence réutilisée",
      "Idempotenzschlüssel wiederverwendet"}},
    {"problem.unknown_parameter",
     {"Unknown parameter", "Onbekende parameter", "Paramètre inconnu", "Unbekannter Parameter"}},
    {"problem.database_timeout",
     {"Database timeout", "Databank antwoordt niet op tijd", "Délai de la base de données dépassé",
      "Zeitüberschreitung der Datenbank"}},
    {"problem.rate_limited",
     {"Too many requests", "Te veel verzoeken", "Trop de requêtes", "Zu viele Anfragen"}},
    {"problem.checkpoints_disabled",
     {"Checkpoints disabled", "Controlepunten uitgeschakeld", "Points de contrôle désactivés",
      "Prüfpunkte deaktiviert"}},
    {"problem.checkpoint_invalid",
     {"Checkpoint invalid", "Ongeldig controlepunt", "Point de contrôle invalide",
      "Ungültiger Prüfpunkt"}},
    {"problem.agreement_billed",
     {"Agreement billed", "Akkoord gefactureerd", "Accord facturé", "Zusage abgerechnet"}},
    {"problem.payment_exceeds_due",
     {"Payment exceeds what is due", "Betaling hoger dan verschuldigd",
      "Paiement supérieur au montant dû", "Zahlung übersteigt den geschuldeten Betrag"}},
    {"problem.payment_duplicate",
     {"Payment already recorded", "Betaling al geregistreerd", "Paiement déjà enregistré",
      "Zahlung bereits erfasst"}},

    /* the outcome of an invoice line (proto/invoice.c), "invoice." and the code */
    {"invoice.accepted", {"accepted", "aanvaard", "accepté", "angenommen"}},
    {"invoice.unknown_agreement",
     {"no such agreement was issued to this provider",
      "geen dergelijk akkoord aan deze zorgverlener uitgereikt",
      "aucun accord de ce numéro n'a été délivré à ce prestataire",
      "keine solche Zusage wurde diesem Leistungserbringer erteilt"}},
    {"invoice.agreement_void",
     {"the agreement was voided", "het akkoord werd geannuleerd", "l'accord a été annulé",
      "die Zusage wurde annulliert"}},
    {"invoice.agreement_not_covered",
     {"the agreement did not cover the care", "het akkoord dekte de zorg niet",
      "l'accord ne couvrait pas les soins", "die Zusage deckte die Versorgung nicht"}},
    {"invoice.code_not_agreed",
     {"the code is not an agreed item of the agreement",
      "de code is geen akkoordpost van het akkoord",
      "le code n'est pas un poste convenu de l'accord",
      "der Code ist kein zugesagter Posten der Zusage"}},
    {"invoice.quantity_exceeded",
     {"more than the agreed quantity would be billed",
      "meer dan de akkoordhoeveelheid zou worden gefactureerd",
      "plus que la quantité convenue serait facturée",
      "mehr als die zugesagte Menge würde abgerechnet"}},
    {"invoice.amount_exceeded",
     {"the state or OCMW amount is above what the agreement grants",
      "het bedrag van de staat of het OCMW is hoger dan het akkoord toekent",
      "le montant de l'État ou du CPAS dépasse ce que l'accord octroie",
      "der Betrag des Staates oder des ÖSHZ liegt über dem, was die Zusage gewährt"}},
    {"invoice.invoice_too_late",
     {"the service date is more than 24 months before the invoice",
      "de verstrekkingsdatum ligt meer dan 24 maanden voor de factuur",
      "la date de prestation précède la facture de plus de 24 mois",
      "das Leistungsdatum liegt mehr als 24 Monate vor der Rechnung"}},
};

#define N_MESSAGES (sizeof messages / sizeof messages[0])

const char *message_code(size_t i)
{
    return i < N_MESSAGES ? messages[i].code : NULL;
}

const char *message_text(const char *code, enum lang l)
{
    if (code == NULL)
        return NULL;
    if ((unsigned)l >= LANG__COUNT)
        l = LANG_EN;
    for (size_t i = 0; i < N_MESSAGES; i++)
        if (strcmp(messages[i].code, code) == 0)
            return messages[i].text[l];
    return NULL;
}

bool message_add(cJSON *o, const char *code, enum lang l)
{
    const char *text = message_text(code, l);
    if (text == NULL || !jx_add_str(o, "message", text))
        return false;
    cJSON *all = cJSON_AddObjectToObject(o, "messages");
    return all != NULL && jx_add_str(all, "nl", message_text(code, LANG_NL)) &&
           jx_add_str(all, "fr", message_text(code, LANG_FR)) &&
           jx_add_str(all, "de", message_text(code, LANG_DE));
}
