/*
 * h_decision: the OCMW side of decisions: record, read, change (new
 * versions, suspend, resume, stop), history, and the lookup of a person's
 * decisions before deciding.
 */
#ifndef MEDAID_H_DECISION_H
#define MEDAID_H_DECISION_H

#include "http/request.h"

void h_decision_create(struct request *r);
void h_decision_get(struct request *r);
void h_decision_update(struct request *r);
void h_decision_suspend(struct request *r);
void h_decision_resume(struct request *r);
void h_decision_stop(struct request *r);
void h_decision_history(struct request *r);
void h_beneficiary_decisions(struct request *r);

#endif
