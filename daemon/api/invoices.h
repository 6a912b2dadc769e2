/*
 * h_invoice: invoices checked against agreements, the fund's payments and
 * the monthly statements (DOMAIN.md "Invoices and settlement").
 */
#ifndef MEDAID_API_INVOICES_H
#define MEDAID_API_INVOICES_H

#include "http/request.h"

void h_invoice_submit(struct request *r); /* POST /v1/invoices (provider) */
void h_invoice_get(struct request *r);    /* GET /v1/invoices/{id} */
void h_invoice_list(struct request *r);   /* GET /v1/invoices (fund, auditor) */
void h_payment_add(struct request *r);    /* POST /v1/invoices/{id}/payments (fund) */
void h_statement(struct request *r);      /* GET /v1/statements?month= (fund, ocmw, auditor) */

#endif
