/*
 * routes: the API's resources, registered with the router (http/router.h).
 */
#ifndef MEDAID_API_ROUTES_H
#define MEDAID_API_ROUTES_H

/* main.c, before the workers start */
void api_register_routes(void);

#endif
