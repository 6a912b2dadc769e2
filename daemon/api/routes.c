/*
 * routes: method, path, roles, body kinds and query parameters of every
 * resource (docs/protocol.md).
 */
#include "api/routes.h"

#include "api/agreements.h"
#include "api/audit.h"
#include "api/card.h"
#include "api/coverage.h"
#include "api/decisions.h"
#include "api/fhir.h"
#include "api/health.h"
#include "api/keys.h"
#include "api/invoices.h"
#include "api/tariffs.h"
#include "api/tree.h"
#include "base/mem.h"
#include "http/router.h"
#include "proto/audit_query.h"

#define ANY_ROLE                                                                                   \
    (ROLE_BIT(ROLE_OCMW) | ROLE_BIT(ROLE_PROVIDER) | ROLE_BIT(ROLE_AUDITOR) |                      \
     ROLE_BIT(ROLE_ADMIN) | ROLE_BIT(ROLE_FUND))

static const char *const q_decision[] = {"version", NULL};
static const char *const q_tariff[] = {"date", "known_at", NULL};
static const char *const q_invoices[] = {"provider", "ocmw",   "month", "status",
                                         "limit",    "cursor", NULL};
static const char *const q_statement[] = {"month", NULL};
static const char *const q_card[] = {"date", "from", "to", NULL};
/* the audit routes take the names proto/audit_query.c checks (filled in by
 * api_register_routes, so that the names are written once) */
static const char *q_consultations[AUDIT_QUERY_MAX_NAMES + 1];
static const char *q_audit_decisions[AUDIT_QUERY_MAX_NAMES + 1];
static const char *q_as_of[AUDIT_QUERY_MAX_NAMES + 1];
static const char *q_reads[AUDIT_QUERY_MAX_NAMES + 1];

static void names_of(enum audit_query_kind kind, const char **out)
{
    size_t i = 0;
    for (const char *name; (name = audit_query_name(kind, i)) != NULL; i++) {
        ASSERT(i < AUDIT_QUERY_MAX_NAMES);
        out[i] = name;
    }
    out[i] = NULL;
}

static const struct route routes[] = {
    {HM_GET, "/v1/health", ANY_ROLE, h_health},
    {HM_POST, "/v1/decisions", ROLE_BIT(ROLE_OCMW), h_decision_create},
    {HM_GET, "/v1/decisions/*", ROLE_BIT(ROLE_OCMW) | ROLE_BIT(ROLE_AUDITOR), h_decision_get,
     .query = q_decision},
    {HM_PUT, "/v1/decisions/*", ROLE_BIT(ROLE_OCMW), h_decision_update},
    {HM_POST, "/v1/decisions/*/suspend", ROLE_BIT(ROLE_OCMW), h_decision_suspend},
    {HM_POST, "/v1/decisions/*/resume", ROLE_BIT(ROLE_OCMW), h_decision_resume},
    {HM_POST, "/v1/decisions/*/stop", ROLE_BIT(ROLE_OCMW), h_decision_stop},
    {HM_GET, "/v1/decisions/*/history", ROLE_BIT(ROLE_OCMW) | ROLE_BIT(ROLE_AUDITOR),
     h_decision_history},
    {HM_GET, "/v1/beneficiaries/*/decisions", ROLE_BIT(ROLE_OCMW) | ROLE_BIT(ROLE_AUDITOR),
     h_beneficiary_decisions},
    {HM_POST, "/v1/coverage", ROLE_BIT(ROLE_PROVIDER), h_coverage},
    {HM_GET, "/v1/beneficiaries/*/card", ROLE_BIT(ROLE_PROVIDER), h_card, .query = q_card},
    {HM_POST, "/v1/coverage/batch", ROLE_BIT(ROLE_PROVIDER), h_coverage_batch, .bulk = true},
    {HM_GET, "/v1/agreements/*", ROLE_BIT(ROLE_PROVIDER) | ROLE_BIT(ROLE_AUDITOR), h_agreement_get},
    {HM_POST, "/v1/agreements/*/void", ROLE_BIT(ROLE_PROVIDER), h_agreement_void},
    {HM_PUT, "/v1/tariffs", ROLE_BIT(ROLE_ADMIN), h_tariff_import, .csv = true, .bulk = true},
    {HM_GET, "/v1/tariffs/*", ANY_ROLE, h_tariff_get, .query = q_tariff},
    {HM_GET, "/v1/audit/verify", ROLE_BIT(ROLE_AUDITOR), h_audit_verify},
    {HM_GET, "/v1/audit/consultations", ROLE_BIT(ROLE_AUDITOR), h_audit_consultations,
     .query = q_consultations},
    {HM_GET, "/v1/audit/decisions", ROLE_BIT(ROLE_AUDITOR), h_audit_decisions,
     .query = q_audit_decisions},
    {HM_GET, "/v1/audit/coverage-as-of", ROLE_BIT(ROLE_AUDITOR), h_audit_as_of, .query = q_as_of},
    {HM_GET, "/v1/audit/reads", ROLE_BIT(ROLE_AUDITOR), h_audit_reads, .query = q_reads},
    {HM_POST, "/v1/audit/verify", ROLE_BIT(ROLE_AUDITOR), h_audit_verify_anchor},
    {HM_GET, "/v1/audit/checkpoint", ROLE_BIT(ROLE_AUDITOR), h_audit_checkpoint_get},
    {HM_POST, "/v1/audit/checkpoint", ROLE_BIT(ROLE_AUDITOR), h_audit_checkpoint_make},
    {HM_POST, "/v1/invoices", ROLE_BIT(ROLE_PROVIDER), h_invoice_submit},
    {HM_GET, "/v1/invoices", ROLE_BIT(ROLE_FUND) | ROLE_BIT(ROLE_AUDITOR), h_invoice_list,
     .query = q_invoices},
    {HM_GET, "/v1/invoices/*",
     ROLE_BIT(ROLE_PROVIDER) | ROLE_BIT(ROLE_FUND) | ROLE_BIT(ROLE_AUDITOR), h_invoice_get},
    {HM_POST, "/v1/invoices/*/payments", ROLE_BIT(ROLE_FUND), h_payment_add},
    {HM_GET, "/v1/statements", ROLE_BIT(ROLE_FUND) | ROLE_BIT(ROLE_OCMW) | ROLE_BIT(ROLE_AUDITOR),
     h_statement, .query = q_statement},
    {HM_GET, "/v1/keys", ANY_ROLE, h_keys},
    {HM_POST, "/fhir/CoverageEligibilityRequest/$submit", ROLE_BIT(ROLE_PROVIDER), h_fhir_submit},
    {HM_GET, "/fhir/metadata", ANY_ROLE, h_fhir_metadata},
    {HM_GET, "/v1/audit/tree-head", ROLE_BIT(ROLE_AUDITOR), h_audit_tree_head_get},
    {HM_POST, "/v1/audit/tree-head", ROLE_BIT(ROLE_AUDITOR), h_audit_tree_head_make},
    {HM_GET, "/v1/audit/proof/inclusion", ROLE_BIT(ROLE_AUDITOR), h_audit_proof_inclusion,
     .query = tree_inclusion_params},
    {HM_GET, "/v1/audit/proof/consistency", ROLE_BIT(ROLE_AUDITOR), h_audit_proof_consistency,
     .query = tree_consistency_params},
};

void api_register_routes(void)
{
    names_of(AQ_CONSULTATIONS, q_consultations);
    names_of(AQ_DECISIONS, q_audit_decisions);
    names_of(AQ_AS_OF, q_as_of);
    names_of(AQ_READS, q_reads);
    router_set_routes(routes, sizeof routes / sizeof routes[0]);
}
