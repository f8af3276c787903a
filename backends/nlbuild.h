/*
 * nlbuild.h - the pure half of "xmppfwc apply": the policy's nftables
 * table as libnftnl objects packed into one netlink batch, and a "view"
 * of a table (ours, or the running one read back over netlink) in a
 * canonical form that two views can be compared in.
 *
 * Nothing here opens a socket; backends/netlink.c sends and receives.
 */
#ifndef XFW_NLBUILD_H
#define XFW_NLBUILD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "model.h"

struct nftnl_chain;
struct nftnl_set;
struct nftnl_rule;
struct nftnl_table;

/* Where a message of the batch came from, for error reports. */
struct nlorigin {
	const struct srcloc	*loc;		/* NULL: generated */
	const char		*what;		/* "rule", "set", ... */
	char			 name[80];	/* chain or set name */
	bool			 queue;		/* rule uses the queue expr */
};

/* A netlink batch under construction: contiguous messages. */
struct nlbatch {
	char		*buf;
	size_t		 len, cap;
	uint32_t	 seq0;			/* seq of the batch begin */
	uint32_t	 seq;			/* next seq */
	uint32_t	 ack_seq;		/* last message, asks an ack */
	struct nlorigin	*orig;			/* by seq - seq0 */
	size_t		 corig;
	uint32_t	 set_id;		/* next anonymous set id */
	size_t		 nelem_msgs;
};

/* One set element, compactly: key in network order. */
struct nlelem {
	uint8_t		 key[16];
	uint8_t		 len;
	uint32_t	 flags;			/* NFT_SET_ELEM_INTERVAL_END */
};

struct nlvset {
	struct nftnl_set *set;		/* attributes only */
	char		*name;
	uint32_t	 id;
	uint32_t	 flags;
	uint32_t	 keylen;
	uint32_t	 keytype;
	bool		 anon;
	struct nlelem	*e;
	size_t		 n, cap;
	char		*def;		/* canonical definition */
	char		*canon;		/* canonical elements (anonymous) */
};

struct nlvrule {
	struct nftnl_rule *r;
	char		*chain;
	char		*comment;	/* "" when none */
	char		*expr;		/* canonical expressions */
};

struct nlvchain {
	struct nftnl_chain *c;
	char		*name;
	char		*def;
};

/* A table: what we would load, or what runs. */
struct nlview {
	bool		 exists;
	char		*table;
	struct nftnl_table *t;		/* running table, for restore */
	struct nlvchain	*chains;
	size_t		 nchains, cchains;
	struct nlvset	*sets;
	size_t		 nsets, csets;
	struct nlvrule	*rules;
	size_t		 nrules, crules;
	bool		 finished;
};

/* The table name a model asks for, checked; NULL after an error. */
const char	*nlb_table(const struct model *, FILE *err);

/*
 * Build the batch that replaces table inet TABLE by the policy's: begin,
 * add table + delete table + add table, chains, sets with elements,
 * rules, end.  Fills mine (may be NULL) with what is built.  Returns the
 * number of errors, reported on err as file:line:col: error: ...
 */
int		 nlb_build(const struct model *, uint32_t seq0, struct nlbatch *,
		    struct nlview *mine, FILE *err);

/* The batch that puts back a table as read (or deletes the table when
 * it did not exist).  Modifies the view's objects (handles). */
int		 nlb_restore(struct nlview *, uint32_t seq0,
		    struct nlbatch *);

void		 nlb_free(struct nlbatch *);
const struct nlorigin *nlb_origin(const struct nlbatch *, uint32_t seq);

void		 nlview_init(struct nlview *, const char *table);
void		 nlview_free(struct nlview *);
/* These take ownership of the object. */
void		 nlview_add_chain(struct nlview *, struct nftnl_chain *);
struct nlvset	*nlview_add_set(struct nlview *, struct nftnl_set *);
void		 nlview_add_rule(struct nlview *, struct nftnl_rule *);
/* Elements parsed from a message: appended to the set they name. */
void		 nlview_add_elems(struct nlview *, struct nftnl_set *);
struct nlvset	*nlview_find_set(const struct nlview *, const char *,
		    uint32_t id);
/* Canonical forms, once every object is in. */
void		 nlview_finish(struct nlview *);

/* Print what differs from old to new, "- ..." and "+ ..." lines in
 * policy terms; returns the number of differences. */
size_t		 nlview_diff(struct nlview *old, struct nlview *new,
		    FILE *out);

#endif
