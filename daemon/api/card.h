/*
 * h_card: GET /v1/beneficiaries/{ssin}/card?date=D (or from=&to=), provider.
 */
#ifndef MEDAID_API_CARD_H
#define MEDAID_API_CARD_H

#include "http/request.h"

void h_card(struct request *r);

#endif
