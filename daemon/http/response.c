/*
 * response: the bytes of an answer.
 */
#include "http/response.h"

#include <event2/buffer.h>

const char *http_status_reason(int status)
{
    switch (status) {
    case 100:
        return "Continue";
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 204:
        return "No Content";
    case 304:
        return "Not Modified";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 411:
        return "Length Required";
    case 412:
        return "Precondition Failed";
    case 413:
        return "Content Too Large";
    case 415:
        return "Unsupported Media Type";
    case 422:
        return "Unprocessable Content";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 503:
        return "Service Unavailable";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "Unknown";
    }
}

void response_write_head(struct evbuffer *out, const struct response_head *h)
{
    evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\n", h->status, http_status_reason(h->status));
    if (h->content_type)
        evbuffer_add_printf(out, "Content-Type: %s\r\n", h->content_type);
    /* a 304 has no body and sends no length (that would be the 200's) */
    if (!h->streamed && h->status != 304)
        evbuffer_add_printf(out, "Content-Length: %zu\r\n", h->content_length);
    evbuffer_add_printf(out, "X-Request-Id: %s\r\nCache-Control: no-store\r\n", h->request_id);
    if (h->chunked)
        evbuffer_add_printf(out, "Transfer-Encoding: chunked\r\n");
    if (h->extra)
        evbuffer_add_buffer(out, h->extra);
    if (h->close)
        evbuffer_add_printf(out, "Connection: close\r\n");
    evbuffer_add(out, "\r\n", 2);
}

size_t response_write_piece(struct evbuffer *out, bool chunked, const char *data, size_t len,
                            bool newline)
{
    size_t total = len + (newline ? 1 : 0);
    if (chunked)
        evbuffer_add_printf(out, "%zx\r\n", total);
    evbuffer_add(out, data, len);
    if (newline)
        evbuffer_add(out, "\n", 1);
    if (chunked)
        evbuffer_add(out, "\r\n", 2);
    return total;
}

void response_write_last_chunk(struct evbuffer *out)
{
    evbuffer_add(out, "0\r\n\r\n", 5);
}
