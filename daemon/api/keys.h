/* h_keys: GET /v1/keys, the public keys that sign and signed agreements. */
#ifndef MEDAID_H_KEYS_H
#define MEDAID_H_KEYS_H
#include "http/request.h"
void h_keys(struct request *r);
#endif
