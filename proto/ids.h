/*
 * ids: checks of the identifiers the registry accepts.
 * Pure functions over (pointer, length); no allocation, no I/O.
 */
#ifndef MEDAID_PROTO_IDS_H
#define MEDAID_PROTO_IDS_H

#include <stdbool.h>
#include <stddef.h>

/* SSIN (national register or BIS number): 11 digits YYMMDDSSSCC.
 * CC = 97 - (N mod 97), N = first 9 digits, or 2000000000 + N for people born
 * in 2000 or later; valid if either rule gives CC. Month must be 00-12,
 * 20-32 or 40-52 (BIS numbers raise it by 20 or 40); day 00-31. */
bool ids_ssin_valid(const char *s, size_t len);

/* KBO/BCE enterprise number: 10 digits, last two = 97 - (first 8 mod 97). */
bool ids_kbo_valid(const char *s, size_t len);

/* RIZIV/INAMI (NIHII) number: exactly 11 digits. */
bool ids_nihii_valid(const char *s, size_t len);

/* A registry number: the letter, a 4-digit year, '-', 8 digits
 * ("D2026-00001234" for decisions, "A2026-00000042" for agreements). */
bool ids_registry_number(const char *s, char letter);

/* true when s[0..len) is nothing but ASCII digits and len == n */
bool ids_all_digits(const char *s, size_t len, size_t n);

#endif
