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
    /* the per-field errors' messages (verrs, problem.h), by their code: the
     * English answer keeps the field's own, more precise, English message */
    {"error.bad_header",
     {"the header is not valid", "de header is ongeldig", "l'en-tête n'est pas valide",
      "der Header ist ungültig"}},
    {"error.cap_not_allowed",
     {"a cap is allowed only when the part is paid partially",
      "een plafond mag alleen als het deel gedeeltelijk wordt betaald",
      "un plafond n'est admis que si la part est payée partiellement",
      "eine Obergrenze ist nur zulässig, wenn der Anteil teilweise bezahlt wird"}},
    {"error.cap_required",
     {"a partial part needs its cap (and its allowed supplement types)",
      "een gedeeltelijk deel heeft een plafond nodig (en de toegelaten soorten supplementen)",
      "une part partielle exige son plafond (et les types de suppléments admis)",
      "ein teilweiser Anteil braucht seine Obergrenze (und die zulässigen Zuschlagsarten)"}},
    {"error.control_character",
     {"holds a control character", "bevat een stuurteken", "contient un caractère de contrôle",
      "enthält ein Steuerzeichen"}},
    {"error.cover_outside_period",
     {"the cover's period is not inside the decision's period",
      "de periode van de dekking ligt niet binnen die van de beslissing",
      "la période de la couverture n'est pas comprise dans celle de la décision",
      "der Zeitraum der Deckung liegt nicht im Zeitraum der Entscheidung"}},
    {"error.date_in_future",
     {"the date is in the future", "de datum ligt in de toekomst", "la date est dans le futur",
      "das Datum liegt in der Zukunft"}},
    {"error.death_date_in_future",
     {"the date of death is in the future", "de overlijdensdatum ligt in de toekomst",
      "la date de décès est dans le futur", "das Sterbedatum liegt in der Zukunft"}},
    {"error.duplicate_care_type",
     {"this care type is given twice", "deze zorgsoort staat er twee keer",
      "ce type de soins est donné deux fois", "diese Versorgungsart ist zweimal angegeben"}},
    {"error.duplicate_field",
     {"this field is given twice", "dit veld staat er twee keer", "ce champ est donné deux fois",
      "dieses Feld ist zweimal angegeben"}},
    {"error.duplicate_provider",
     {"this provider is given twice", "deze zorgverlener staat er twee keer",
      "ce prestataire est donné deux fois", "dieser Leistungserbringer ist zweimal angegeben"}},
    {"error.duplicate_supplement_type",
     {"this supplement type is given twice", "deze soort supplement staat er twee keer",
      "ce type de supplément est donné deux fois", "diese Zuschlagsart ist zweimal angegeben"}},
    {"error.empty", {"is empty", "is leeg", "est vide", "ist leer"}},
    {"error.hospitalisation_requires_ambulatory",
     {"a cover of hospitalisation needs one of ambulatory hospital care",
      "een dekking van hospitalisatie vereist een dekking van ambulante ziekenhuiszorg",
      "une couverture de l'hospitalisation exige une couverture des soins hospitaliers "
      "ambulatoires",
      "eine Deckung des Krankenhausaufenthalts erfordert eine Deckung der ambulanten "
      "Krankenhausversorgung"}},
    {"error.immutable_field",
     {"this field cannot be changed", "dit veld kan niet worden gewijzigd",
      "ce champ ne peut pas être modifié", "dieses Feld kann nicht geändert werden"}},
    {"error.invalid_agreement",
     {"is not a valid agreement number", "is geen geldig akkoordnummer",
      "n'est pas un numéro d'accord valide", "ist keine gültige Zusagenummer"}},
    {"error.invalid_amount",
     {"is not a valid amount in cents", "is geen geldig bedrag in cent",
      "n'est pas un montant valide en cents", "ist kein gültiger Betrag in Cent"}},
    {"error.invalid_care_type",
     {"is not one of the eight care types", "is geen van de acht zorgsoorten",
      "n'est pas l'un des huit types de soins", "ist keine der acht Versorgungsarten"}},
    {"error.invalid_code",
     {"is not a valid nomenclature code (6 digits)", "is geen geldige nomenclatuurcode (6 cijfers)",
      "n'est pas un code de nomenclature valide (6 chiffres)",
      "ist kein gültiger Nomenklaturcode (6 Ziffern)"}},
    {"error.invalid_date",
     {"is not a valid date (YYYY-MM-DD)", "is geen geldige datum (JJJJ-MM-DD)",
      "n'est pas une date valide (AAAA-MM-JJ)", "ist kein gültiges Datum (JJJJ-MM-TT)"}},
    {"error.invalid_percentage",
     {"is not a valid percentage (0, 50 or 100)", "is geen geldig percentage (0, 50 of 100)",
      "n'est pas un pourcentage valide (0, 50 ou 100)",
      "ist kein gültiger Prozentsatz (0, 50 oder 100)"}},
    {"error.invalid_provider",
     {"is not a valid NIHII or KBO number", "is geen geldig RIZIV- of KBO-nummer",
      "n'est pas un numéro INAMI ou BCE valide", "ist keine gültige LIKIV- oder ZUD-Nummer"}},
    {"error.invalid_reference",
     {"is not a valid reference", "is geen geldige referentie", "n'est pas une référence valide",
      "ist keine gültige Referenz"}},
    {"error.invalid_ssin",
     {"is not a valid national register or BIS number",
      "is geen geldig rijksregister- of BIS-nummer",
      "n'est pas un numéro de registre national ou BIS valide",
      "ist keine gültige Nationalregister- oder BIS-Nummer"}},
    {"error.invalid_supplement_type",
     {"is not a valid supplement type", "is geen geldige soort supplement",
      "n'est pas un type de supplément valide", "ist keine gültige Zuschlagsart"}},
    {"error.invalid_utf8",
     {"is not valid UTF-8", "is geen geldige UTF-8", "n'est pas de l'UTF-8 valide",
      "ist kein gültiges UTF-8"}},
    {"error.invalid_value",
     {"is not a valid value", "is geen geldige waarde", "n'est pas une valeur valide",
      "ist kein gültiger Wert"}},
    {"error.not_allowed_for_principle",
     {"is not allowed in a principle decision", "is niet toegelaten in een principebeslissing",
      "n'est pas admis dans une décision de principe",
      "ist in einer Grundsatzentscheidung nicht zulässig"}},
    {"error.not_integer",
     {"must be an integer", "moet een geheel getal zijn", "doit être un nombre entier",
      "muss eine ganze Zahl sein"}},
    {"error.out_of_range",
     {"is out of range", "valt buiten het toegelaten bereik", "est hors des limites admises",
      "liegt außerhalb des zulässigen Bereichs"}},
    {"error.overlapping_period",
     {"overlaps another period", "overlapt met een andere periode", "chevauche une autre période",
      "überschneidet sich mit einem anderen Zeitraum"}},
    {"error.period_reversed",
     {"the period ends before it starts", "de periode eindigt voor ze begint",
      "la période se termine avant de commencer", "der Zeitraum endet, bevor er beginnt"}},
    {"error.period_too_long",
     {"the period is too long", "de periode is te lang", "la période est trop longue",
      "der Zeitraum ist zu lang"}},
    {"error.read_only_field",
     {"this field is set by the registry, not by the client",
      "dit veld wordt door het register ingevuld, niet door de client",
      "ce champ est rempli par le registre, pas par le client",
      "dieses Feld setzt das Register, nicht der Client"}},
    {"error.repeated_parameter",
     {"this parameter is given more than once", "deze parameter staat er meer dan eens",
      "ce paramètre est donné plusieurs fois", "dieser Parameter ist mehrmals angegeben"}},
    {"error.required", {"is required", "is verplicht", "est obligatoire", "ist erforderlich"}},
    {"error.retroactive_change",
     {"a change may not take effect before today", "een wijziging mag niet ingaan voor vandaag",
      "une modification ne peut pas prendre effet avant aujourd'hui",
      "eine Änderung darf nicht vor heute wirksam werden"}},
    {"error.share_above_fee",
     {"the patient share is above the fee", "het persoonlijk aandeel is hoger dan het honorarium",
      "la quote-part personnelle dépasse l'honoraire", "der Eigenanteil liegt über dem Honorar"}},
    {"error.start_too_early",
     {"starts too long before today", "begint te lang voor vandaag",
      "commence trop longtemps avant aujourd'hui", "beginnt zu lange vor heute"}},
    {"error.stop_after_end",
     {"the stop date is after the decision's end",
      "de stopdatum ligt na het einde van de beslissing",
      "la date d'arrêt est après la fin de la décision",
      "das Enddatum liegt nach dem Ende der Entscheidung"}},
    {"error.stop_before_start",
     {"the stop date is before the decision's start",
      "de stopdatum ligt voor het begin van de beslissing",
      "la date d'arrêt est avant le début de la décision",
      "das Enddatum liegt vor dem Beginn der Entscheidung"}},
    {"error.supplements_not_allowed",
     {"supplements are allowed for hospital covers only",
      "supplementen zijn alleen toegelaten voor ziekenhuisdekkingen",
      "les suppléments ne sont admis que pour les couvertures hospitalières",
      "Zuschläge sind nur für Krankenhausdeckungen zulässig"}},
    {"error.too_few",
     {"has too few elements", "heeft te weinig elementen", "a trop peu d'éléments",
      "hat zu wenige Elemente"}},
    {"error.too_long", {"is too long", "is te lang", "est trop long", "ist zu lang"}},
    {"error.too_many",
     {"has too many elements", "heeft te veel elementen", "a trop d'éléments",
      "hat zu viele Elemente"}},
    {"error.too_short", {"is too short", "is te kort", "est trop court", "ist zu kurz"}},
    {"error.unknown_field",
     {"is not a known field", "is geen gekend veld", "n'est pas un champ connu",
      "ist kein bekanntes Feld"}},
    {"error.unknown_parameter",
     {"is not a known parameter", "is geen gekende parameter", "n'est pas un paramètre connu",
      "ist kein bekannter Parameter"}},
    {"error.wrong_field_count",
     {"has the wrong number of fields", "heeft het verkeerde aantal velden",
      "n'a pas le bon nombre de champs", "hat die falsche Anzahl Felder"}},
    {"error.wrong_type",
     {"has the wrong JSON type", "heeft het verkeerde JSON-type", "n'a pas le bon type JSON",
      "hat den falschen JSON-Typ"}},
    /* the problems' details, keyed by their English text (the daemon's
     * request_problem passes the English; the answer gives it in the language asked) */
    {"this certificate is not registered as a principal",
     {"this certificate is not registered as a principal",
      "dit certificaat is niet als gebruiker geregistreerd",
      "ce certificat n'est pas enregistré comme utilisateur",
      "dieses Zertifikat ist nicht als Benutzer registriert"}},
    {"bad principal role",
     {"bad principal role", "ongeldige rol van de gebruiker", "rôle d'utilisateur invalide",
      "ungültige Benutzerrolle"}},
    {"this principal has been revoked",
     {"this principal has been revoked", "deze gebruiker is ingetrokken",
      "cet utilisateur a été révoqué", "dieser Benutzer wurde widerrufen"}},
    {"out of memory",
     {"out of memory", "geen geheugen meer", "mémoire épuisée", "kein Speicher mehr"}},
    {"this resource takes JSON only",
     {"this resource takes JSON only", "deze bron aanvaardt alleen JSON",
      "cette ressource n'accepte que du JSON", "diese Ressource nimmt nur JSON an"}},
    {"no such resource",
     {"no such resource", "deze bron bestaat niet", "cette ressource n'existe pas",
      "diese Ressource gibt es nicht"}},
    {"request line and headers are too large",
     {"request line and headers are too large", "de aanvraagregel en headers zijn te groot",
      "la ligne de requête et les en-têtes sont trop grands",
      "Anfragezeile und Header sind zu groß"}},
    {"malformed HTTP request",
     {"malformed HTTP request", "ongeldige HTTP-aanvraag", "requête HTTP mal formée",
      "fehlerhafte HTTP-Anfrage"}},
    {"too many or too large headers",
     {"too many or too large headers", "te veel of te grote headers",
      "en-têtes trop nombreux ou trop grands", "zu viele oder zu große Header"}},
    {"only HTTP/1.0 and HTTP/1.1 are served",
     {"only HTTP/1.0 and HTTP/1.1 are served", "alleen HTTP/1.0 en HTTP/1.1 worden bediend",
      "seuls HTTP/1.0 et HTTP/1.1 sont servis", "nur HTTP/1.0 und HTTP/1.1 werden bedient"}},
    {"the request was not received in time",
     {"the request was not received in time", "de aanvraag is niet op tijd ontvangen",
      "la requête n'a pas été reçue à temps", "die Anfrage ist nicht rechtzeitig eingegangen"}},
    {"the audit chain heads are not 0..n-1",
     {"the audit chain heads are not 0..n-1", "de koppen van de auditketens zijn niet 0..n-1",
      "les têtes des chaînes d'audit ne sont pas 0..n-1",
      "die Köpfe der Prüfketten sind nicht 0..n-1"}},
    {"this registry has no audit_signing_key: it makes no checkpoints",
     {"this registry has no audit_signing_key: it makes no checkpoints",
      "dit register heeft geen audit_signing_key: het maakt geen controlepunten",
      "ce registre n'a pas d'audit_signing_key : il ne fait pas de points de contrôle",
      "dieses Register hat keinen audit_signing_key: es erstellt keine Kontrollpunkte"}},
    {"the body must be a saved checkpoint (JSON)",
     {"the body must be a saved checkpoint (JSON)",
      "de inhoud moet een bewaard controlepunt zijn (JSON)",
      "le corps doit être un point de contrôle enregistré (JSON)",
      "der Inhalt muss ein gespeicherter Kontrollpunkt sein (JSON)"}},
    {"the checkpoint was signed by another key than this registry's",
     {"the checkpoint was signed by another key than this registry's",
      "het controlepunt is ondertekend met een andere sleutel dan die van dit register",
      "le point de contrôle a été signé par une autre clé que celle de ce registre",
      "der Kontrollpunkt wurde mit einem anderen Schlüssel als dem dieses Registers signiert"}},
    {"the signature does not match the checkpoint (changed, or not ours)",
     {"the signature does not match the checkpoint (changed, or not ours)",
      "de handtekening past niet bij het controlepunt (gewijzigd, of niet van ons)",
      "la signature ne correspond pas au point de contrôle (modifié, ou pas le nôtre)",
      "die Signatur passt nicht zum Kontrollpunkt (geändert, oder nicht unserer)"}},
    {"no checkpoint has been made yet",
     {"no checkpoint has been made yet", "er is nog geen controlepunt gemaakt",
      "aucun point de contrôle n'a encore été fait", "es wurde noch kein Kontrollpunkt erstellt"}},
    {"a filter is not a valid value",
     {"a filter is not a valid value", "een filter heeft geen geldige waarde",
      "un filtre n'a pas une valeur valide", "ein Filter hat keinen gültigen Wert"}},
    {"a parameter is not a valid value",
     {"a parameter is not a valid value", "een parameter heeft geen geldige waarde",
      "un paramètre n'a pas une valeur valide", "ein Parameter hat keinen gültigen Wert"}},
    {"created_at, key_id, heads and signature are required",
     {"created_at, key_id, heads and signature are required",
      "created_at, key_id, heads en signature zijn verplicht",
      "created_at, key_id, heads et signature sont obligatoires",
      "created_at, key_id, heads und signature sind erforderlich"}},
    {"each head is {chain (0, 1, ... in order), chain_seq, seq, hash}",
     {"each head is {chain (0, 1, ... in order), chain_seq, seq, hash}",
      "elke kop is {chain (0, 1, ... in volgorde), chain_seq, seq, hash}",
      "chaque tête est {chain (0, 1, ... dans l'ordre), chain_seq, seq, hash}",
      "jeder Kopf ist {chain (0, 1, ... der Reihe nach), chain_seq, seq, hash}"}},
    {"the SSIN is not a valid national register or BIS number",
     {"the SSIN is not a valid national register or BIS number",
      "het INSZ is geen geldig rijksregister- of BIS-nummer",
      "le NISS n'est pas un numéro de registre national ou BIS valide",
      "die INSZ ist keine gültige Nationalregister- oder BIS-Nummer"}},
    {"the body is not a JSON object",
     {"the body is not a JSON object", "de inhoud is geen JSON-object",
      "le corps n'est pas un objet JSON", "der Inhalt ist kein JSON-Objekt"}},
    {"the question is incomplete or wrong",
     {"the question is incomplete or wrong", "de vraag is onvolledig of fout",
      "la question est incomplète ou erronée", "die Frage ist unvollständig oder falsch"}},
    {"the database connection was lost while recording: this answer may have been recorded (an "
     "auditor can find it); asking again gives a new agreement",
     {"the database connection was lost while recording: this answer may have been recorded (an "
      "auditor can find it); asking again gives a new agreement",
      "de verbinding met de databank ging verloren tijdens het registreren: dit antwoord is "
      "misschien geregistreerd (een auditor kan het vinden); opnieuw vragen geeft een nieuw "
      "akkoord",
      "la connexion à la base de données a été perdue pendant l'enregistrement : cette réponse a "
      "peut-être été enregistrée (un auditeur peut la retrouver) ; redemander donne un nouvel "
      "accord",
      "die Verbindung zur Datenbank ging beim Aufzeichnen verloren: diese Antwort wurde vielleicht "
      "aufgezeichnet (ein Prüfer kann sie finden); erneutes Fragen ergibt eine neue Zusage"}},
    {"the database did not answer in time while recording: the outcome is unknown (this answer may "
     "have been recorded, an auditor can find it); asking again gives a new agreement",
     {"the database did not answer in time while recording: the outcome is unknown (this answer "
      "may have been recorded, an auditor can find it); asking again gives a new agreement",
      "de databank antwoordde niet op tijd tijdens het registreren: de uitkomst is onbekend (dit "
      "antwoord is misschien geregistreerd, een auditor kan het vinden); opnieuw vragen geeft een "
      "nieuw akkoord",
      "la base de données n'a pas répondu à temps pendant l'enregistrement : le résultat est "
      "inconnu (cette réponse a peut-être été enregistrée, un auditeur peut la retrouver) ; "
      "redemander donne un nouvel accord",
      "die Datenbank hat beim Aufzeichnen nicht rechtzeitig geantwortet: das Ergebnis ist "
      "unbekannt (diese Antwort wurde vielleicht aufgezeichnet, ein Prüfer kann sie finden); "
      "erneutes Fragen ergibt eine neue Zusage"}},
    {"two lines of one code overlap",
     {"two lines of one code overlap", "twee regels van eenzelfde code overlappen",
      "deux lignes d'un même code se chevauchent",
      "zwei Zeilen desselben Codes überschneiden sich"}},
    {"the body is not a JSON array of tariffs",
     {"the body is not a JSON array of tariffs", "de inhoud is geen JSON-lijst van tarieven",
      "le corps n'est pas un tableau JSON de tarifs",
      "der Inhalt ist keine JSON-Liste von Tarifen"}},
    {"the import breaks one or more rules; nothing was imported",
     {"the import breaks one or more rules; nothing was imported",
      "de import overtreedt een of meer regels; er is niets geïmporteerd",
      "l'import enfreint une ou plusieurs règles ; rien n'a été importé",
      "der Import verstößt gegen eine oder mehrere Regeln; nichts wurde importiert"}},
    {"no tariff for this code (on that date, in the version in force then)",
     {"no tariff for this code (on that date, in the version in force then)",
      "geen tarief voor deze code (op die datum, in de versie die toen gold)",
      "aucun tarif pour ce code (à cette date, dans la version alors en vigueur)",
      "kein Tarif für diesen Code (an diesem Datum, in der damals geltenden Version)"}},
    {"a nomenclature code has 6 digits",
     {"a nomenclature code has 6 digits", "een nomenclatuurcode heeft 6 cijfers",
      "un code de nomenclature a 6 chiffres", "ein Nomenklaturcode hat 6 Ziffern"}},
    {"date must be YYYY-MM-DD",
     {"date must be YYYY-MM-DD", "date moet JJJJ-MM-DD zijn", "date doit être AAAA-MM-JJ",
      "date muss JJJJ-MM-TT sein"}},
    {"known_at must be an RFC 3339 timestamp (or a date)",
     {"known_at must be an RFC 3339 timestamp (or a date)",
      "known_at moet een RFC 3339-tijdstip (of een datum) zijn",
      "known_at doit être un horodatage RFC 3339 (ou une date)",
      "known_at muss ein RFC-3339-Zeitstempel (oder ein Datum) sein"}},
    {"this Idempotency-Key was used for a different invoice",
     {"this Idempotency-Key was used for a different invoice",
      "deze Idempotency-Key werd voor een andere factuur gebruikt",
      "cette Idempotency-Key a été utilisée pour une autre facture",
      "dieser Idempotency-Key wurde für eine andere Rechnung verwendet"}},
    {"Idempotency-Key must be 1 to 255 visible ASCII characters",
     {"Idempotency-Key must be 1 to 255 visible ASCII characters",
      "Idempotency-Key moet 1 tot 255 zichtbare ASCII-tekens zijn",
      "Idempotency-Key doit compter de 1 à 255 caractères ASCII visibles",
      "Idempotency-Key muss 1 bis 255 sichtbare ASCII-Zeichen lang sein"}},
    {"the invoice breaks one or more rules",
     {"the invoice breaks one or more rules", "de factuur overtreedt een of meer regels",
      "la facture enfreint une ou plusieurs règles",
      "die Rechnung verstößt gegen eine oder mehrere Regeln"}},
    {"the payments of this invoice would exceed its accepted state share",
     {"the payments of this invoice would exceed its accepted state share",
      "de betalingen van deze factuur zouden het aanvaarde staatsaandeel overschrijden",
      "les paiements de cette facture dépasseraient sa part de l'État acceptée",
      "die Zahlungen dieser Rechnung würden ihren angenommenen Staatsanteil übersteigen"}},
    {"a payment with this reference is already recorded for this invoice",
     {"a payment with this reference is already recorded for this invoice",
      "een betaling met deze referentie is al geregistreerd voor deze factuur",
      "un paiement avec cette référence est déjà enregistré pour cette facture",
      "eine Zahlung mit dieser Referenz ist für diese Rechnung bereits erfasst"}},
    {"the payment breaks one or more rules",
     {"the payment breaks one or more rules", "de betaling overtreedt een of meer regels",
      "le paiement enfreint une ou plusieurs règles",
      "die Zahlung verstößt gegen eine oder mehrere Regeln"}},
    {"month=YYYY-MM is required",
     {"month=YYYY-MM is required", "month=JJJJ-MM is verplicht", "month=AAAA-MM est obligatoire",
      "month=JJJJ-MM ist erforderlich"}},
    {"no such agreement",
     {"no such agreement", "dit akkoord bestaat niet", "cet accord n'existe pas",
      "diese Zusage gibt es nicht"}},
    {"this agreement is already void",
     {"this agreement is already void", "dit akkoord is al vernietigd",
      "cet accord est déjà annulé", "diese Zusage ist bereits ungültig"}},
    {"an invoice line of this agreement was accepted: it can no longer be voided",
     {"an invoice line of this agreement was accepted: it can no longer be voided",
      "een factuurregel van dit akkoord werd aanvaard: het kan niet meer worden vernietigd",
      "une ligne de facture de cet accord a été acceptée : il ne peut plus être annulé",
      "eine Rechnungszeile dieser Zusage wurde angenommen: sie kann nicht mehr für ungültig "
      "erklärt werden"}},
    {"the body must be empty or {}",
     {"the body must be empty or {}", "de inhoud moet leeg of {} zijn",
      "le corps doit être vide ou {}", "der Inhalt muss leer oder {} sein"}},
    {"no such decision (or version)",
     {"no such decision (or version)", "deze beslissing (of versie) bestaat niet",
      "cette décision (ou version) n'existe pas",
      "diese Entscheidung (oder Version) gibt es nicht"}},
    {"another decision of the same kind already covers this person on some of these days",
     {"another decision of the same kind already covers this person on some of these days",
      "een andere beslissing van dezelfde soort dekt deze persoon al op sommige van deze dagen",
      "une autre décision du même type couvre déjà cette personne certains de ces jours",
      "eine andere Entscheidung derselben Art deckt diese Person bereits an einigen dieser Tage"}},
    {"the decision changed since that version; read it again",
     {"the decision changed since that version; read it again",
      "de beslissing is sinds die versie gewijzigd; lees ze opnieuw",
      "la décision a changé depuis cette version ; relisez-la",
      "die Entscheidung hat sich seit dieser Version geändert; lesen Sie sie erneut"}},
    {"the change breaks one or more rules",
     {"the change breaks one or more rules", "de wijziging overtreedt een of meer regels",
      "la modification enfreint une ou plusieurs règles",
      "die Änderung verstößt gegen eine oder mehrere Regeln"}},
    {"the stop breaks a rule",
     {"the stop breaks a rule", "de stopzetting overtreedt een regel", "l'arrêt enfreint une règle",
      "die Beendigung verstößt gegen eine Regel"}},
    {"this Idempotency-Key was used for a different request",
     {"this Idempotency-Key was used for a different request",
      "deze Idempotency-Key werd voor een andere aanvraag gebruikt",
      "cette Idempotency-Key a été utilisée pour une autre requête",
      "dieser Idempotency-Key wurde für eine andere Anfrage verwendet"}},
    {"If-Match must be a version number (e.g. 3 or \"3\")",
     {"If-Match must be a version number (e.g. 3 or \"3\")",
      "If-Match moet een versienummer zijn (bv. 3 of \"3\")",
      "If-Match doit être un numéro de version (p. ex. 3 ou \"3\")",
      "If-Match muss eine Versionsnummer sein (z. B. 3 oder \"3\")"}},
    {"a change needs If-Match with the version it changes",
     {"a change needs If-Match with the version it changes",
      "een wijziging vereist If-Match met de versie die ze wijzigt",
      "une modification exige If-Match avec la version qu'elle modifie",
      "eine Änderung braucht If-Match mit der Version, die sie ändert"}},
    {"the request breaks one or more rules",
     {"the request breaks one or more rules", "de aanvraag overtreedt een of meer regels",
      "la requête enfreint une ou plusieurs règles",
      "die Anfrage verstößt gegen eine oder mehrere Regeln"}},
    {"version must be a positive integer",
     {"version must be a positive integer", "version moet een positief geheel getal zijn",
      "version doit être un entier positif", "version muss eine positive ganze Zahl sein"}},
    {"the path must hold a valid SSIN (11 digits with check digits)",
     {"the path must hold a valid SSIN (11 digits with check digits)",
      "het pad moet een geldig INSZ bevatten (11 cijfers met controlecijfers)",
      "le chemin doit contenir un NISS valide (11 chiffres avec chiffres de contrôle)",
      "der Pfad muss eine gültige INSZ enthalten (11 Ziffern mit Prüfziffern)"}},
    {"the database did not answer in time; nothing was changed, retry shortly",
     {"the database did not answer in time; nothing was changed, retry shortly",
      "de databank antwoordde niet op tijd; er is niets gewijzigd, probeer het straks opnieuw",
      "la base de données n'a pas répondu à temps ; rien n'a été modifié, réessayez sous peu",
      "die Datenbank hat nicht rechtzeitig geantwortet; nichts wurde geändert, versuchen Sie es "
      "gleich erneut"}},
    {"the database did not answer in time; the outcome is unknown (the change may have been made): "
     "a retry with the same Idempotency-Key is safe and gives the first answer if it was",
     {"the database did not answer in time; the outcome is unknown (the change may have been "
      "made): a retry with the same Idempotency-Key is safe and gives the first answer if it was",
      "de databank antwoordde niet op tijd; de uitkomst is onbekend (de wijziging is misschien "
      "gebeurd): opnieuw proberen met dezelfde Idempotency-Key is veilig en geeft het eerste "
      "antwoord als ze gebeurd is",
      "la base de données n'a pas répondu à temps ; le résultat est inconnu (la modification a "
      "peut-être été faite) : réessayer avec la même Idempotency-Key est sûr et donne la première "
      "réponse si elle l'a été",
      "die Datenbank hat nicht rechtzeitig geantwortet; das Ergebnis ist unbekannt (die Änderung "
      "wurde vielleicht vorgenommen): ein erneuter Versuch mit demselben Idempotency-Key ist "
      "sicher und gibt die erste Antwort, falls sie vorgenommen wurde"}},
    {"the database connection was lost; the outcome is unknown, retry (writes are idempotent with "
     "Idempotency-Key)",
     {"the database connection was lost; the outcome is unknown, retry (writes are idempotent with "
      "Idempotency-Key)",
      "de verbinding met de databank ging verloren; de uitkomst is onbekend, probeer opnieuw "
      "(schrijfacties zijn idempotent met Idempotency-Key)",
      "la connexion à la base de données a été perdue ; le résultat est inconnu, réessayez (les "
      "écritures sont idempotentes avec Idempotency-Key)",
      "die Verbindung zur Datenbank ging verloren; das Ergebnis ist unbekannt, versuchen Sie es "
      "erneut (Schreibvorgänge sind mit Idempotency-Key idempotent)"}},
    {"the database is unavailable; retry shortly",
     {"the database is unavailable; retry shortly",
      "de databank is niet beschikbaar; probeer het straks opnieuw",
      "la base de données est indisponible ; réessayez sous peu",
      "die Datenbank ist nicht verfügbar; versuchen Sie es gleich erneut"}},
    {"stored data unreadable",
     {"stored data unreadable", "opgeslagen gegevens onleesbaar", "données enregistrées illisibles",
      "gespeicherte Daten unlesbar"}},
    {"the registry could not complete the request",
     {"the registry could not complete the request", "het register kon de aanvraag niet afhandelen",
      "le registre n'a pas pu traiter la requête",
      "das Register konnte die Anfrage nicht abschließen"}},
    {"not a change of a decision",
     {"not a change of a decision", "geen wijziging van een beslissing",
      "pas une modification d'une décision", "keine Änderung einer Entscheidung"}},
    {"only a suspended decision can be resumed",
     {"only a suspended decision can be resumed",
      "alleen een geschorste beslissing kan worden hervat",
      "seule une décision suspendue peut être reprise",
      "nur eine ausgesetzte Entscheidung kann fortgesetzt werden"}},
    {"the batch is not a list of questions",
     {"the batch is not a list of questions", "de reeks is geen lijst van vragen",
      "le lot n'est pas une liste de questions", "der Stapel ist keine Liste von Fragen"}},
    {"the decision is stopped: record a new decision",
     {"the decision is stopped: record a new decision",
      "de beslissing is stopgezet: registreer een nieuwe beslissing",
      "la décision est arrêtée : enregistrez une nouvelle décision",
      "die Entscheidung ist beendet: erfassen Sie eine neue Entscheidung"}},
    {"the decision's status is not known",
     {"the decision's status is not known", "de status van de beslissing is niet gekend",
      "le statut de la décision n'est pas connu", "der Status der Entscheidung ist nicht bekannt"}},
    {"the decision is already suspended",
     {"the decision is already suspended", "de beslissing is al geschorst",
      "la décision est déjà suspendue", "die Entscheidung ist bereits ausgesetzt"}},
    {"a stopped decision cannot be suspended",
     {"a stopped decision cannot be suspended",
      "een stopgezette beslissing kan niet worden geschorst",
      "une décision arrêtée ne peut pas être suspendue",
      "eine beendete Entscheidung kann nicht ausgesetzt werden"}},
    {"this question is incomplete or wrong",
     {"this question is incomplete or wrong", "deze vraag is onvolledig of fout",
      "cette question est incomplète ou erronée", "diese Frage ist unvollständig oder falsch"}},
    {"error.care_type_mixed",
     {"the items ask for more than one care type", "de items vragen meer dan een zorgsoort",
      "les éléments demandent plus d'un type de soins",
      "die Positionen fragen nach mehr als einer Pflegeart"}},
    {"error.invalid_status",
     {"has a status that is not answered", "heeft een status die niet beantwoord wordt",
      "a un statut auquel il n'est pas répondu", "hat einen Status, der nicht beantwortet wird"}},
    {"error.not_supported",
     {"is not supported", "wordt niet ondersteund", "n'est pas pris en charge",
      "wird nicht unterstützt"}},
    {"error.unresolved",
     {"does not resolve to an element of the request", "verwijst naar geen element van de aanvraag",
      "ne renvoie à aucun élément de la requête", "verweist auf kein Element der Anfrage"}},
    {"error.wrong_resource",
     {"is not the expected resource type", "is niet het verwachte resourcetype",
      "n'est pas le type de ressource attendu", "ist nicht der erwartete Ressourcentyp"}},
    {"a recorded key cannot be given",
     {"a recorded key cannot be given", "een geregistreerde sleutel kan niet worden gegeven",
      "une clé enregistrée ne peut pas être donnée",
      "ein erfasster Schlüssel kann nicht angegeben werden"}},
    {"not a valid CoverageEligibilityRequest",
     {"not a valid CoverageEligibilityRequest", "geen geldige CoverageEligibilityRequest",
      "pas une CoverageEligibilityRequest valide", "keine gültige CoverageEligibilityRequest"}},
    {"the recorded answer could not be translated",
     {"the recorded answer could not be translated",
      "het geregistreerde antwoord kon niet worden omgezet",
      "la réponse enregistrée n'a pas pu être convertie",
      "die erfasste Antwort konnte nicht umgesetzt werden"}},
    {"no consistency proof for those sizes",
     {"no consistency proof for those sizes", "geen consistentiebewijs voor die groottes",
      "pas de preuve de cohérence pour ces tailles", "kein Konsistenznachweis für diese Größen"}},
    {"no inclusion proof for that tree size",
     {"no inclusion proof for that tree size", "geen bewijs van opname voor die boomgrootte",
      "pas de preuve d'inclusion pour cette taille d'arbre",
      "kein Einschlussnachweis für diese Baumgröße"}},
    {"no such audit record",
     {"no such audit record", "dat auditrecord bestaat niet",
      "cet enregistrement d'audit n'existe pas", "diesen Prüfdatensatz gibt es nicht"}},
    {"no tree head has been signed yet",
     {"no tree head has been signed yet", "er is nog geen boomhoofd ondertekend",
      "aucune tête d'arbre n'a encore été signée", "es wurde noch kein Baumkopf signiert"}},
    {"the record is not in the tree yet: it is added at the next tree head",
     {"the record is not in the tree yet: it is added at the next tree head",
      "het record zit nog niet in de boom: het wordt toegevoegd bij het volgende boomhoofd",
      "l'enregistrement n'est pas encore dans l'arbre : il est ajouté à la prochaine tête d'arbre",
      "der Datensatz ist noch nicht im Baum: er wird beim nächsten Baumkopf hinzugefügt"}},
    {"this registry has no audit_signing_key: it signs no tree heads",
     {"this registry has no audit_signing_key: it signs no tree heads",
      "dit register heeft geen audit_signing_key: het ondertekent geen boomhoofden",
      "ce registre n'a pas d'audit_signing_key : il ne signe aucune tête d'arbre",
      "dieses Register hat keinen audit_signing_key: es signiert keine Baumköpfe"}},
    {"the ocmw role may not do this",
     {"the ocmw role may not do this", "de rol ocmw mag dit niet doen",
      "le rôle ocmw ne peut pas faire ceci", "die Rolle ocmw darf dies nicht tun"}},
    {"the provider role may not do this",
     {"the provider role may not do this", "de rol provider mag dit niet doen",
      "le rôle provider ne peut pas faire ceci", "die Rolle provider darf dies nicht tun"}},
    {"the auditor role may not do this",
     {"the auditor role may not do this", "de rol auditor mag dit niet doen",
      "le rôle auditor ne peut pas faire ceci", "die Rolle auditor darf dies nicht tun"}},
    {"the admin role may not do this",
     {"the admin role may not do this", "de rol admin mag dit niet doen",
      "le rôle admin ne peut pas faire ceci", "die Rolle admin darf dies nicht tun"}},
    {"the fund role may not do this",
     {"the fund role may not do this", "de rol fund mag dit niet doen",
      "le rôle fund ne peut pas faire ceci", "die Rolle fund darf dies nicht tun"}},
    {"a query parameter is not one this route takes",
     {"a query parameter is not one this route takes",
      "een queryparameter is er geen die deze route aanneemt",
      "un paramètre de requête n'est pas de ceux que cette route accepte",
      "ein Abfrageparameter gehört nicht zu denen, die diese Route annimmt"}},
    {"a query parameter is given more than once",
     {"a query parameter is given more than once", "een queryparameter is meer dan eens gegeven",
      "un paramètre de requête est donné plus d'une fois",
      "ein Abfrageparameter ist mehr als einmal angegeben"}},
    {"too many requests from this principal; retry after the seconds of Retry-After",
     {"too many requests from this principal; retry after the seconds of Retry-After",
      "te veel aanvragen van deze principal; probeer opnieuw na de seconden van Retry-After",
      "trop de requêtes de ce principal ; réessayez après les secondes de Retry-After",
      "zu viele Anfragen dieses Prinzipals; versuchen Sie es nach den Sekunden von Retry-After "
      "erneut"}},
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
