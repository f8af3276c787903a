/*
 * qconf.h - the xmppfw-queued configuration: parser and look-ups.
 *
 * The format is described in docs/nfqueue-config.md.  It is the only
 * thing the daemon shares with the compiler: nothing here includes a
 * compiler header.  No libnetfilter_queue either, so that the parser can
 * be unit-tested and fuzzed on its own.
 */
#ifndef QUEUED_QCONF_H
#define QUEUED_QCONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define QCONF_MAGIC	"xmppfw-queued-config"
#define QCONF_VERSION	1
#define QCONF_MAXBYTES	65536		/* largest "bytes" accepted */

enum qaction {
	QA_ALLOW,
	QA_DENY,
	QA_REJECT,
};

enum qmatch {
	QM_DOMAIN,			/* stream to/from or TLS SNI */
	QM_STRING,			/* cleartext signature */
};

/* A set of lower-case domain names: open addressing, FNV-1a. */
struct domset {
	size_t		  n;		/* entries */
	size_t		  cap;		/* slots, a power of two, or 0 */
	char		**slot;		/* NULL = empty */
};

struct qrule {
	enum qaction	 action;
	enum qmatch	 match;
	struct domset	 domains;	/* QM_DOMAIN */
	unsigned char	*sig;		/* QM_STRING: the bytes */
	size_t		 siglen;
	char		*loc;		/* "file:line:col" or NULL */
};

struct qinspect {
	char		*kind;		/* c2s, s2s, both */
	uint16_t	 queue;
	char		*ports;		/* as written, informative */
	bool		 fail_closed;
	uint32_t	 mark;
	uint32_t	 bytes;
	size_t		 nrules;
	struct qrule	*rules;
	enum qaction	 def;
	char		*def_loc;
};

struct qconf {
	size_t		 ninspect;
	struct qinspect	*inspects;
};

/*
 * Parse a whole configuration from buf (len bytes, need not be NUL
 * terminated).  dir is where relative domains-file paths are resolved,
 * or NULL for the current directory.  Returns a new configuration, or
 * NULL after writing "NAME:LINE: message" into errbuf.
 */
struct qconf	*qconf_parse(const char *buf, size_t len, const char *name,
		    const char *dir, char *errbuf, size_t errlen);
struct qconf	*qconf_load(const char *path, char *errbuf, size_t errlen);
void		 qconf_free(struct qconf *);
struct qinspect	*qconf_find_queue(struct qconf *, uint16_t);
const char	*qaction_name(enum qaction);

/* Domain sets. */
void		 domset_init(struct domset *);
void		 domset_free(struct domset *);
/* Adds a copy of name (lower-cased); returns -1 on allocation failure. */
int		 domset_add(struct domset *, const char *, size_t);
bool		 domset_has(const struct domset *, const char *, size_t);
/*
 * True when name or one of its parent domains is in the set: a set that
 * holds "spam.example" matches "spam.example" and "a.spam.example", not
 * "notspam.example".  name must be lower case.
 */
bool		 domset_match(const struct domset *, const char *, size_t);

#endif
