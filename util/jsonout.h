/*
 * jsonout.h - the one JSON string escaper, used by the diagnostics
 * printer (--format json|sarif) and by the json backend.
 */
#ifndef XFW_JSONOUT_H
#define XFW_JSONOUT_H

#include <stdio.h>

/* Write s as a JSON string literal, quotes included.  Bytes that are
 * not valid UTF-8 are written as U+FFFD. */
void	json_string(FILE *, const char *);

#endif
