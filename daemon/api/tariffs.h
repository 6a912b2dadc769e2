/* h_tariff: the tariff table, PUT /v1/tariffs (admin) and GET /v1/tariffs/{code}. */
#ifndef MEDAID_H_TARIFF_H
#define MEDAID_H_TARIFF_H
#include "http/request.h"
void h_tariff_import(struct request *r);
void h_tariff_get(struct request *r);
#endif
