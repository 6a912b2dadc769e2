/* health: does the database answer through this worker's pool? */
#ifndef MEDAID_DB_HEALTH_H
#define MEDAID_DB_HEALTH_H

#include "db/db.h"

void db_health(struct db *db, db_done_cb cb, void *arg);

#endif
