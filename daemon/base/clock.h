/*
 * clock: the daemon's two clocks. Durations and deadlines use the monotonic
 * clock; "today" is the calendar date in the business time zone (TZ, set at
 * start-up from the timezone option).
 */
#ifndef MEDAID_BASE_CLOCK_H
#define MEDAID_BASE_CLOCK_H

#include <stdint.h>
#include <sys/time.h>

#include "proto/date.h"

/* milliseconds of CLOCK_MONOTONIC */
int64_t mono_ms(void);
/* microseconds of CLOCK_MONOTONIC */
int64_t mono_us(void);
/* the calendar date now, in the business time zone */
pdate clock_today(void);
/* a duration in milliseconds as a struct timeval (for libevent timers) */
struct timeval clock_tv(int64_t ms);

#endif
