/* h_audit: the auditor's endpoints under /v1/audit/. */
#ifndef MEDAID_H_AUDIT_H
#define MEDAID_H_AUDIT_H
#include "http/request.h"
void h_audit_verify(struct request *r);
void h_audit_consultations(struct request *r);
void h_audit_decisions(struct request *r);
void h_audit_as_of(struct request *r);
#endif
