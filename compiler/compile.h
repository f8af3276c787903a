/*
 * compile.h - the compiler pipeline: parse (grammar/) -> resolve -> lower
 * -> check -> (backends/) emit.
 *
 *   resolve.c	includes (relative, rooted, cycle-checked), definitions,
 *		options; produces struct program
 *   values.c	typed values: addresses, ports, JIDs, rates (+ file lists)
 *   jid.c	RFC 7622 JIDs via libidn's XMPP stringprep profiles
 *   lower.c	AST + definitions -> struct model (model.h), checking every
 *		statement and clause in its context
 *   check.c	whole-policy analysis: shadowed and redundant rules,
 *		unreachable list items, whitelists without a final deny
 *   eval.c	the evaluator: packet, stanza and stream decisions
 *   expect.c	the policy's expect tests, and explain probes
 *
 * Every pass returns the number of errors it queued on the ctx; a pass
 * runs only when the ones before it were clean (except that resolve and
 * lower both run so one run reports as much as possible).
 */
#ifndef XFW_COMPILE_H
#define XFW_COMPILE_H

#include <stdbool.h>
#include <stdint.h>

#include "ast.h"
#include "diag.h"
#include "model.h"

/* An address interval; IPv6 uses unsigned __int128. */
__extension__ typedef unsigned __int128 u128;

struct iv4 {
	uint32_t	lo, hi;
};

struct iv6 {
	u128		lo, hi;
};

/* A typed, normalised value set (the result of a definition or list). */
struct addrval {
	bool		 any;
	size_t		 n4;
	struct iv4	*v4;		/* sorted, merged */
	size_t		 n6;
	struct iv6	*v6;
};

struct jidval {
	size_t		 n;
	const char	**jids;		/* normalised */
	struct loc	*locs;
};

struct def {
	enum def_type	 type;
	const char	*name;
	struct loc	 loc;		/* the name */
	struct stmt	*stmt;
	bool		 used;
	int		 state;		/* 0 new, 1 resolving, 2 done, 3 bad */
	struct addrval	 addr;
	struct portset	 ports;
	struct jidval	 jid;
	struct addrset	*set;		/* model set, made on first use */
	struct def	*hnext;		/* hash chain */
};

#define DEF_HASH	256

struct program {
	struct ctx	*ctx;
	struct stmt	*stmts;		/* top level, includes spliced in */
	struct def	*defs[DEF_HASH];
	struct def	**deflist;	/* in definition order */
	size_t		 ndefs;
	struct stmt	**expects;
	size_t		 nexpects;
	uint32_t	 order_step;
};

/* resolve.c */
int		 resolve(struct ctx *, const char *path, struct program *);
struct def	*def_find(struct program *, const char *);
const char	*path_relative(struct ctx *, int, const char *);

/* values.c */
int		 addr_eval(struct program *, struct values *, struct addrval *);
int		 port_eval(struct program *, struct values *, struct portset *);
int		 jid_eval(struct program *, struct values *, struct jidval *,
		    bool domain_only);
int		 def_resolve(struct program *, struct def *);
int		 parse_addr(struct ctx *, const char *, struct loc,
		    struct addrval *, bool warn);
int		 parse_u32(const char *, uint32_t, uint32_t *);
void		 addrval_normalise(struct addrval *);
struct addrset	*addrset_from(struct arena *, const struct addrval *,
		    const char *, struct srcloc);
void		 addrval_free(struct addrval *);
uint32_t	 pfx4_last(const struct pfx4 *);
u128		 pfx6_first(const struct pfx6 *);
u128		 pfx6_last(const struct pfx6 *);

/* Names of bit flags (states, stanza kinds), for parsing and printing. */
struct flagname {
	const char	*name;
	unsigned	 bit;
};
extern const struct flagname state_flags[5];
extern const struct flagname stanza_flags[4];
/* The bit of a name in a table, or 0. */
unsigned	 flag_lookup(const struct flagname *, size_t, const char *);

/* jid.c */
const char	*jid_normalise(struct ctx *, const char *, struct loc,
		    bool domain_only);
bool		 jid_match(const char *item, const char *jid);
bool		 domain_match(const char *pattern, const char *domain);

/* lower.c */
struct srcloc	 srcloc_of(struct ctx *, struct loc);
int		 lower(struct program *, struct model *);

/* check.c */
int		 check_policy(struct ctx *, const struct model *);

/* eval.c */
struct packet {
	enum direction	 dir;
	unsigned	 family;	/* FAM_V4 or FAM_V6 */
	unsigned	 proto;		/* one PROTO_* or 0 */
	bool		 has_src, has_dst;
	u128		 src, dst;	/* v4 in the low 32 bits */
	uint16_t	 sport, dport;	/* 0: unspecified */
	unsigned	 state;		/* one CT_* */
	const char	*iface;		/* NULL: unspecified */
};

enum decided_by {
	BY_RULE,
	BY_DEFAULT,
	BY_PRELUDE,
	BY_NOTHING,		/* xmpp: no item matched, server allows */
};

struct decision {
	enum verdict		 verdict;
	enum decided_by		 by;
	const struct rule	*rule;		/* BY_RULE */
	enum layer		 layer;		/* BY_RULE, BY_DEFAULT */
	struct srcloc		 loc;		/* rule, item or default */
	const char		*why;		/* prelude reason, or NULL */
};

struct stanza {
	unsigned	 kind;		/* one STANZA_* */
	const char	*from;		/* normalised JID */
	const char	*subscription;	/* none|to|from|both */
	const char	**groups;
	size_t		 ngroups;
};

struct stream {
	const char	*from, *to;	/* domains, or NULL */
	const char	*payload;	/* cleartext bytes seen, or NULL */
	uint16_t	 port;		/* 0: any inspect block */
	int		 kind;		/* enum inspect_kind, -1 unknown */
};

void	 eval_packet(const struct model *, const struct packet *,
	    struct decision *);
int	 eval_stanza(const struct model *, const char *list,
	    const struct stanza *, struct decision *);
int	 eval_stream(const struct model *, const struct stream *,
	    struct decision *);
bool	 rule_matches(const struct rule *, const struct packet *);

/* expect.c */
int	 expect_run(struct program *, const struct model *);
bool	 expect_packet(struct program *, size_t, struct packet *,
	    enum verdict *want, struct srcloc *at);
/* Explain a probe written like an expect without the action. */
int	 explain(struct ctx *, const struct model *, const char *probe,
	    FILE *);

/* The whole pipeline: returns the error count; model filled when 0. */
struct compile_opts {
	const char	**roots;
	size_t		 nroots;
	bool		 run_expects;
	bool		 analyse;	/* shadow/unused warnings */
};

int	 compile_policy(struct ctx *, const char *path,
	    const struct compile_opts *, struct model *, struct program *);

#endif
