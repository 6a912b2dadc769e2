/*
 * framing: HTTP/1.1 over one connection (net/conn.h): the head parsed
 * once, the body, keep-alive and pipelining (one request at a time; what a
 * client sends behind it waits in the input buffer until the answer is
 * flushed). Requests go to the router (http/router.h).
 */
#ifndef MEDAID_HTTP_FRAMING_H
#define MEDAID_HTTP_FRAMING_H

struct conn_protocol;

/* what main.c registers with conn_set_protocol() */
const struct conn_protocol *http_protocol(void);

#endif
