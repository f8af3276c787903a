/*
 * utf8.h - UTF-8 validation.
 */
#ifndef XFW_UTF8_H
#define XFW_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* Length of the valid UTF-8 sequence at p (1..4), or 0 if invalid.
 * Overlong forms, surrogates and code points above U+10FFFF are invalid.
 * p must be NUL-terminated or hold at least 4 readable bytes. */
size_t	utf8_seqlen(const unsigned char *);
/* Offset of the first invalid byte in s[0..n), or n if all valid. */
size_t	utf8_invalid(const char *, size_t);
bool	utf8_is_ascii(const char *);

#endif
