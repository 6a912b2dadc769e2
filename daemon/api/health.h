/* h_health: GET /v1/health, readiness: the database answers. */
#ifndef MEDAID_H_HEALTH_H
#define MEDAID_H_HEALTH_H
#include "http/request.h"
void h_health(struct request *r);
#endif
