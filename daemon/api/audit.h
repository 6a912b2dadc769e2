/* h_audit: the auditor's endpoints under /v1/audit/. */
#ifndef MEDAID_H_AUDIT_H
#define MEDAID_H_AUDIT_H
#include "http/request.h"
void h_audit_verify(struct request *r);
void h_audit_consultations(struct request *r);
void h_audit_decisions(struct request *r);
void h_audit_as_of(struct request *r);
void h_audit_reads(struct request *r);
/* POST /v1/audit/verify: verify against a saved checkpoint (the body) */
void h_audit_verify_anchor(struct request *r);
void h_audit_checkpoint_get(struct request *r);
void h_audit_checkpoint_make(struct request *r);
#endif
