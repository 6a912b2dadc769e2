/* h_agreement: recorded answers, GET /v1/agreements/{n} and POST .../void. */
#ifndef MEDAID_H_AGREEMENT_H
#define MEDAID_H_AGREEMENT_H
#include "http/request.h"
void h_agreement_get(struct request *r);
void h_agreement_void(struct request *r);
#endif
