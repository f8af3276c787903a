/*
 * ast.h - the syntax tree the parser builds.
 *
 * The grammar is deliberately generic: every statement is a struct stmt
 * tagged by kind, and every rule-like statement (ip/transport rules,
 * privacy-list items, inspect items, expects) carries one struct clauses
 * with a slot per clause keyword.  Which clauses a context allows, and
 * what the values mean, is decided by the compiler (compiler/resolve.c,
 * compiler/lower.c), which gives better messages than a grammar could
 * ("'list' is not allowed in a transport rule").
 *
 * Values stay untyped words here: "192.0.2.0/24", "5222-5223", "jabber.org"
 * are all VAL_WORD; the definition or clause they appear in gives the type.
 * Everything lives in the compilation's arena.
 */
#ifndef XFW_AST_H
#define XFW_AST_H

#include <stdbool.h>
#include <stddef.h>

#include "diag.h"

enum value_kind {
	VAL_WORD,		/* bare word: 10.0.0.0/8, ssh, jabber.org */
	VAL_STRING,		/* "quoted", escapes resolved */
	VAL_REF,		/* $name; text holds the name without $ */
};

struct value {
	enum value_kind	 kind;
	struct loc	 loc;
	const char	*text;
};

struct values {
	struct loc	 loc;		/* the whole list */
	bool		 braced;	/* written as { a, b } */
	size_t		 n;
	struct value	**v;
};

/* Clause slots, one per clause keyword. */
enum clause {
	CL_DIR,			/* in | out | forward */
	CL_ON,			/* on IFACE */
	CL_PROTO,		/* tcp, udp, icmp, icmpv6 */
	CL_FROM,		/* from ADDRS */
	CL_FROM_PORT,		/* from ADDRS port PORTS */
	CL_TO,			/* to ADDRS */
	CL_TO_PORT,		/* to ADDRS port PORTS */
	CL_PORT,		/* port PORTS */
	CL_STATE,		/* state STATES */
	CL_LIMIT,		/* limit [over] N/unit [burst N] [per X] */
	CL_CONN,		/* conn over N [per source] */
	CL_LOG,			/* log ["prefix"] */
	CL_COUNT,		/* count */
	CL_COMMENT,		/* comment "text" */
	CL_JID,			/* jid JIDS */
	CL_GROUP,		/* group NAMES */
	CL_SUBSCRIPTION,	/* subscription VALUES */
	CL_ALL,			/* all */
	CL_FOR,			/* for STANZAS */
	CL_DOMAIN,		/* domain JIDS */
	CL_STRING,		/* string "signature" */
	CL_LIST,		/* list "name" (expect) */
	CL_KIND,		/* message | iq | ... | stream (expect) */
	CL_C2S,			/* c2s (inspect) */
	CL_S2S,			/* s2s (inspect) */
	CL_QUEUE,		/* queue N (inspect) */
	CL_PORTS,		/* ports PORTS (inspect) */
	CL_FAIL,		/* fail-closed | fail-open (inspect) */
	CL_ORDER,		/* order N (list) */
	CL_COUNT_
};

struct clauses {
	unsigned	 present;		/* 1u << CL_* */
	struct loc	 loc[CL_COUNT_];	/* the keyword of each */
	int		 dir;			/* enum direction */
	unsigned	 protos;		/* PROTO_* */
	struct values	*vals[CL_COUNT_];	/* list-valued clauses */
	struct value	*val[CL_COUNT_];	/* single-valued clauses */
	/* limit */
	bool		 limit_over;
	struct value	*burst;
	int		 limit_per;		/* enum limit_per */
	struct loc	 limit_per_loc;
	/* conn */
	bool		 conn_per_source;
	/* fail-closed (true) or fail-open (false) */
	bool		 fail_closed;
	/* list header flags: list "NAME" default active */
	bool		 is_default;
	bool		 is_active;
};

enum stmt_kind {
	ST_VERSION,		/* xfw 1 */
	ST_INCLUDE,		/* include "file" */
	ST_OPTION,		/* option NAME VALUE */
	ST_DEFINE,		/* define TYPE NAME = VALUES | file "path" */
	ST_LAYER,		/* ip|transport|xmpp { ... } */
	ST_RULE,		/* ACTION clauses (ip/transport rule, item) */
	ST_DEFAULT,		/* default [DIR] ACTION */
	ST_LIST,		/* list "NAME" [default] [active] { items } */
	ST_BLOCK,		/* block JIDS */
	ST_INSPECT,		/* inspect clauses { items } */
	ST_EXPECT,		/* expect ACTION [KIND] clauses */
};

enum def_type {
	DEF_ADDR,
	DEF_PORT,
	DEF_JID,
};

enum layer_kind {
	LK_IP,
	LK_TRANSPORT,
	LK_XMPP,
};

struct stmt {
	enum stmt_kind	 kind;
	struct loc	 loc;		/* the first keyword */
	struct stmt	*next;
	union {
		struct value	*version;	/* ST_VERSION */
		struct value	*include;	/* ST_INCLUDE */
		struct {			/* ST_OPTION */
			struct value	*name;
			struct value	*value;
		} option;
		struct {			/* ST_DEFINE */
			enum def_type	 type;
			struct value	*name;
			struct values	*values;	/* or NULL */
			struct value	*file;		/* or NULL */
		} define;
		struct {			/* ST_LAYER */
			enum layer_kind	 which;
			struct stmt	*body;
		} layer;
		struct {			/* ST_RULE, ST_EXPECT */
			int		 action;	/* enum verdict */
			struct loc	 action_loc;
			struct clauses	*cl;
		} rule;
		struct {			/* ST_DEFAULT */
			int		 dir;		/* -1: every */
			struct loc	 dir_loc;
			int		 action;
			struct loc	 action_loc;
		} def;
		struct {			/* ST_LIST */
			struct value	*name;
			bool		 is_default;
			bool		 is_active;
			struct clauses	*cl;		/* order N */
			struct stmt	*body;
		} list;
		struct values	*block;		/* ST_BLOCK */
		struct {			/* ST_INSPECT */
			struct clauses	*cl;
			struct stmt	*body;
		} inspect;
	} u;
};

/* Constructors, all allocating from the arena. */
struct value	*value_new(struct arena *, enum value_kind, struct loc,
		    const char *);
struct values	*values_new(struct arena *, struct loc, bool);
struct values	*values_one(struct arena *, struct value *);
void		 values_add(struct arena *, struct values *, struct value *);
struct clauses	*clauses_new(struct arena *);
struct stmt	*stmt_new(struct arena *, enum stmt_kind, struct loc);

/* Append a list of statements (NULL allowed) to *tail, return new tail. */
struct stmt	**stmt_append(struct stmt **, struct stmt *);

const char	*clause_name(enum clause);

/*
 * Parse one source (already loaded in ctx) into a statement list.
 * Syntax errors are queued on ctx; the returned list holds every
 * statement that parsed.  Returns the number of syntax errors.
 */
int		 parse_source(struct ctx *, int file, struct stmt **);

#endif
