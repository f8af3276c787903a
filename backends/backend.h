/*
 * backend.h - the emitter interface.
 *
 * Each backend is one struct backend instance defined in its own file,
 * looked up by name from the table in backends/backends.c.  A backend
 * reads the model only.  emit() writes the whole artefact to out and
 * returns 0, or reports problems through err (one line each, already
 * formatted as "file:line:col: error: message" where a location is
 * known) and returns the number of errors.  The driver writes to a
 * temporary file and renames it only when emit() returned 0, so a
 * backend never needs to care about half-written output.
 */
#ifndef XFW_BACKEND_H
#define XFW_BACKEND_H

#include <stdio.h>

#include "model.h"

struct backend {
	const char	*name;		/* the -t TARGET name */
	const char	*filename;	/* file name inside -o DIR */
	const char	*description;
	int		(*emit)(const struct model *, FILE *out, FILE *err);
};

/* NULL-terminated table of every backend, in "compile -o DIR" order. */
extern const struct backend *const backends[];

const struct backend	*backend_find(const char *);

/* Shared by the text backends: the one-line header with generator,
 * version and source, prefixed by the comment leader of the language. */
void			 backend_header(FILE *, const char *leader,
			    const struct model *);

#endif
