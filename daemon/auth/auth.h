/*
 * auth: who is asking, and may they. The certificate's fingerprint gives
 * the principal (db/principals.h), cached per connection for
 * principal_cache_ms; a route's roles are checked against it.
 */
#ifndef MEDAID_AUTH_AUTH_H
#define MEDAID_AUTH_AUTH_H

/* Register the authenticator with the router (main.c, before the start). */
void auth_install(void);

#endif
