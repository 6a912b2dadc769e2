/*
 * cmd_health: health (the server and its database answer).
 */
#include "cmd.h"

int cmd_health(struct ctx *c)
{
    struct api_request rq = {.method = "GET", .path = "/v1/health"};
    return exchange_and_print(c, &rq, NULL);
}
