/*
 * response: serialisation of HTTP/1.1 answers: status reasons, the head
 * of a sized or chunked answer, chunks.
 */
#ifndef MEDAID_HTTP_RESPONSE_H
#define MEDAID_HTTP_RESPONSE_H

#include <stdbool.h>
#include <stddef.h>

struct evbuffer;

const char *http_status_reason(int status);

struct response_head {
    int status;
    const char *content_type; /* NULL: none */
    const char *request_id;
    size_t content_length; /* unless chunked or streamed */
    bool streamed;         /* no Content-Length: chunked, or the close ends it */
    bool chunked;
    bool close;
    struct evbuffer *extra; /* more header lines, moved into out; may be NULL */
};
void response_write_head(struct evbuffer *out, const struct response_head *h);
/* one chunk (or, when !chunked, the bytes as they are); data and, when
 * newline, a "\n" as one piece; returns the bytes of body written */
size_t response_write_piece(struct evbuffer *out, bool chunked, const char *data, size_t len,
                            bool newline);
void response_write_last_chunk(struct evbuffer *out);

#endif
