/*
 * model.h - the compiled policy: what every backend reads.
 *
 * The model is the normalised form of a policy.  Definitions are
 * expanded, address sets are deduplicated and CIDR-aggregated per
 * family, port sets are sorted and merged, privacy-list items carry
 * their final unique ascending orders.  Backends read only this header
 * (and arena.h for allocation); they never see the grammar or the AST.
 * The model knows no backend.
 *
 * Everything is owned by the arena of the compilation (model->arena).
 *
 * Semantics (SPEC "Semantics"), which every backend must implement:
 *  - Before the layers (struct prelude): loopback allowed, established
 *    and related allowed, invalid dropped, essential ICMP allowed; each
 *    may be switched off by an option.
 *  - A packet passes LAYER_IP, then LAYER_TRANSPORT.  In each layer the
 *    first matching rule of the packet's direction decides: ALLOW passes
 *    the packet to the next layer (after transport: accepted), DENY
 *    drops, REJECT refuses (TCP reset, else ICMP port unreachable).  No
 *    rule matched: the layer's default for that direction.
 *  - A rule applies only to the families in rule->families.
 *  - log and count never change the verdict.
 */
#ifndef XFW_MODEL_H
#define XFW_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"

#define XFW_VERSION	"0.1.0"

/* Where something came from in the policy source.  file is never NULL. */
struct srcloc {
	const char	*file;		/* path as given / as resolved */
	int		 line;		/* 1-based */
	int		 col;		/* 1-based, in bytes */
};

enum verdict {
	VERDICT_ALLOW,			/* allow */
	VERDICT_DENY,			/* deny: drop silently */
	VERDICT_REJECT,			/* reject: TCP reset, else ICMP unreachable */
};

enum direction {
	DIR_IN,				/* input hook: to this host */
	DIR_OUT,			/* output hook: from this host */
	DIR_FORWARD,			/* forward hook: routed through */
	DIR_COUNT
};

enum layer {
	LAYER_IP,
	LAYER_TRANSPORT,
	LAYER_COUNT
};

/* Address families, a bit mask. */
#define FAM_V4		0x1u
#define FAM_V6		0x2u
#define FAM_BOTH	(FAM_V4 | FAM_V6)

/* Protocols, a bit mask; 0 means any protocol. */
#define PROTO_TCP	0x1u
#define PROTO_UDP	0x2u
#define PROTO_ICMP	0x4u		/* IPv4 only */
#define PROTO_ICMPV6	0x8u		/* IPv6 only */

/* Connection-tracking states, a bit mask; 0 means any state. */
#define CT_NEW		0x1u
#define CT_ESTABLISHED	0x2u
#define CT_RELATED	0x4u
#define CT_INVALID	0x8u
#define CT_UNTRACKED	0x10u

/* IPv4 and IPv6 prefixes have their own types so that 1M-entry IPv4 sets
 * stay small (8 bytes an entry). */
struct pfx4 {
	uint32_t	addr;		/* host byte order, host bits zero */
	uint8_t		len;		/* 0..32 */
};

struct pfx6 {
	uint8_t		addr[16];	/* network byte order, host bits zero */
	uint8_t		len;		/* 0..128 */
};

/*
 * A set of addresses, split by family.  Prefixes are sorted ascending by
 * address, disjoint, and aggregated (no two can be merged into a shorter
 * prefix).  An address set with n4 == 0 matches no IPv4 packet; a rule
 * whose source or destination is "any" has a NULL addrset pointer.
 */
struct addrset {
	const char	*name;		/* definition name, or NULL if inline */
	struct srcloc	 loc;		/* the definition, or the inline use */
	size_t		 n4;
	struct pfx4	*v4;
	size_t		 n6;
	struct pfx6	*v6;
	size_t		 id;		/* index in model->sets */
	unsigned	 used;		/* FAM_* of the rules that use it */
};

struct port_range {
	uint16_t	lo, hi;		/* inclusive, 1..65535 */
};

/* Sorted, merged, non-adjacent ranges; n == 0 means any port. */
struct portset {
	size_t			 n;
	struct port_range	*r;
};

enum rate_unit {
	RATE_SECOND,
	RATE_MINUTE,
	RATE_HOUR,
};

enum limit_per {
	PER_NONE,			/* one bucket for all addresses */
	PER_SOURCE,			/* a bucket per source address */
	PER_DESTINATION,		/* a bucket per destination address */
};

/*
 * limit N/unit: the rule matches while the rate is not exceeded.
 * limit over N/unit: the rule matches only the excess.
 * For the evaluator (a single probe packet), a plain limit matches and
 * "limit over" does not.  Buckets are per policy rule and per address
 * family: IPv4 and IPv6 packets never share one (iptables and ip6tables
 * cannot; the nft backends split such rules per family to match).
 */
struct rate_limit {
	bool		 present;
	bool		 over;
	uint32_t	 rate;		/* packets per unit, >= 1 */
	enum rate_unit	 unit;
	uint32_t	 burst;		/* 0: backend default (5) */
	enum limit_per	 per;
};

/*
 * conn over N [per source]: the rule matches a new connection that would
 * make more than N connections (from this source, or in all) open, the
 * new one counted: N are allowed, the (N+1)th matches.  Counts are per
 * address family, like rate buckets.
 * The evaluator treats it as not matching.
 */
struct conn_limit {
	bool		 present;
	uint32_t	 over;
	bool		 per_source;
};

struct rule {
	struct srcloc		 loc;		/* the action keyword */
	size_t			 id;		/* index in model->rules */
	enum layer		 layer;
	enum direction		 dir;
	enum verdict		 action;
	unsigned		 families;	/* FAM_* it applies to; != 0 */
	const char		*iface;		/* validated name, or NULL */
	unsigned		 protos;	/* PROTO_*, 0 = any */
	const struct addrset	*src;		/* NULL = any */
	const struct addrset	*dst;		/* NULL = any */
	struct portset		 sport;		/* only with tcp/udp */
	struct portset		 dport;		/* only with tcp/udp */
	unsigned		 states;	/* CT_*, 0 = any */
	struct rate_limit	 limit;
	struct conn_limit	 conn;
	bool			 log;
	const char		*log_prefix;	/* NULL: backend default */
	bool			 count;
	const char		*comment;	/* user text, or NULL */
};

/* The defaults of a layer, per direction, with where they were set. */
struct layer_defaults {
	enum verdict	 action[DIR_COUNT];
	struct srcloc	 loc[DIR_COUNT];	/* file NULL: built-in */
};

/* What is allowed before the layers (SPEC semantics rule 2). */
struct prelude {
	bool	loopback;		/* option loopback on|off */
	bool	established;		/* option established on|off */
	bool	drop_invalid;		/* option invalid drop|off */
	bool	essential_icmp;		/* option icmp-essential on|off */
};

/* ------------------------------------------------------------------ */
/* XMPP layer                                                          */

/* Stanza kinds a privacy item applies to, a bit mask; 0 = everything. */
#define STANZA_IQ		0x1u
#define STANZA_MESSAGE		0x2u
#define STANZA_PRESENCE_IN	0x4u
#define STANZA_PRESENCE_OUT	0x8u

enum item_type {
	ITEM_JID,			/* value: a normalised JID */
	ITEM_GROUP,			/* value: a roster group name */
	ITEM_SUBSCRIPTION,		/* value: none|to|from|both */
	ITEM_ALL,			/* no type, no value: the catch-all */
};

struct privacy_item {
	struct srcloc	 loc;
	enum item_type	 type;
	const char	*value;		/* NULL for ITEM_ALL */
	enum verdict	 action;	/* ALLOW or DENY only */
	uint32_t	 order;		/* unique, ascending in the list */
	unsigned	 stanzas;	/* STANZA_*, 0 = all */
};

struct privacy_list {
	struct srcloc		 loc;
	const char		*name;		/* validated UTF-8 */
	bool			 is_default;
	bool			 is_active;
	size_t			 n;
	struct privacy_item	*items;		/* in order */
};

/* XEP-0191 blocking: normalised JIDs, sorted, unique. */
struct blocklist {
	struct srcloc	 loc;		/* first block statement */
	size_t		 n;
	const char	**jids;
	struct srcloc	*locs;		/* per JID */
};

enum inspect_kind {
	INSPECT_C2S,			/* client-to-server streams */
	INSPECT_S2S,			/* server-to-server streams */
	INSPECT_BOTH,
};

enum inspect_match {
	IMATCH_DOMAIN,			/* stream to/from domain or TLS SNI */
	IMATCH_STRING,			/* cleartext signature */
};

struct inspect_rule {
	struct srcloc		 loc;
	enum inspect_match	 match;
	enum verdict		 action;	/* ALLOW, DENY or REJECT */
	/* IMATCH_DOMAIN: normalised domains, sorted, unique. */
	size_t			 ndomains;
	const char		**domains;
	/* IMATCH_STRING: the signature bytes (may hold any byte but NUL). */
	const char		*string;
};

struct inspect {
	struct srcloc		 loc;
	size_t			 id;
	enum inspect_kind	 kind;
	uint16_t		 queue;		/* NFQUEUE number */
	struct portset		 ports;		/* TCP ports, never empty */
	bool			 fail_closed;	/* no helper: drop, not bypass */
	uint32_t		 mark;		/* connmark set for denied flows */
	uint32_t		 bytes;		/* queue only the first N bytes */
	size_t			 nrules;
	struct inspect_rule	*rules;		/* first match decides */
	enum verdict		 def;		/* no rule matched */
	struct srcloc		 def_loc;	/* file NULL: built-in */
};

/* ------------------------------------------------------------------ */

struct policy_options {
	const char	*table;		/* nft table / iptables chain prefix */
	const char	*log_prefix;	/* default log prefix */
	uint32_t	 inspect_mark;	/* default connmark for denied streams */
	uint32_t	 inspect_bytes;	/* default bytes sent to the helper */
};

struct model {
	struct arena		*arena;
	const char		*source;	/* top-level policy path */
	struct policy_options	 opt;
	struct prelude		 prelude;

	size_t			 nsets;
	struct addrset		**sets;		/* every set rules point at */

	size_t			 nrules;
	struct rule		*rules;		/* all layers, in source order */
	struct layer_defaults	 defaults[LAYER_COUNT];

	size_t			 nlists;
	struct privacy_list	*lists;
	struct blocklist	 block;

	size_t			 ninspect;
	struct inspect		*inspects;
};

/* Names for printing; never NULL. */
const char	*verdict_name(enum verdict);
const char	*direction_name(enum direction);
const char	*layer_name(enum layer);
const char	*item_type_name(enum item_type);
const char	*inspect_kind_name(enum inspect_kind);
const char	*rate_unit_name(enum rate_unit);

/* Address helpers for backends: format a prefix into buf. */
#define PFX_STRLEN	64
char		*pfx4_format(const struct pfx4 *, char *, size_t);
char		*pfx6_format(const struct pfx6 *, char *, size_t);

/* True when rule r can match packets of family fam (FAM_V4/FAM_V6). */
bool		 rule_has_family(const struct rule *, unsigned);

#endif
