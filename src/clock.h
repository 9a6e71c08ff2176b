/*
 * clock.h: the time renewal decisions are made at.  The real clock, unless
 * the test knob EXTAUTH_NOW (epoch seconds, extauth(1)) moves it, so tests
 * can show that a timer renews a short-lived certificate on time without
 * waiting days.  Only "is it due" questions use it: requests, logs and
 * files keep the real time.
 */
#ifndef EXTAUTH_CLOCK_H
#define EXTAUTH_CLOCK_H

#include <time.h>

/* EXTAUTH_NOW when set to a valid time (a warning otherwise), else
 * time(NULL). */
time_t		 clock_now(void);

#endif
