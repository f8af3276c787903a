/*
 * kernel.h - what the kernel backends (nftables text, iptables,
 * ip6tables, ipset, the loader, and "apply" through libnftnl) share:
 * the one validation point for names and the one filter for policy text
 * that ends up in kernel rulesets (comments, log prefixes), and the
 * naming of sets and chains, so every kernel artefact names things the
 * same way.
 *
 * The filter makes text safe in every kernel language at once: it keeps
 * printable ASCII except " \ ' ` $ ; # and valid UTF-8, and turns
 * anything else into '_'.  The result can be put in double quotes in an
 * nft script, an iptables-restore file or a shell word without further
 * escaping.
 */
#ifndef XFW_KERNEL_H
#define XFW_KERNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

#include "model.h"

#define KERN_INLINE_MAX		8	/* more entries: a named set */
#define KERN_NAME_MAX		64	/* nft set/chain names */
#define KERN_TABLE_MAX		16	/* option table: nft table, prefix */
#define KERN_NFT_COMMENT_MAX	127	/* nft rule comment (userdata) */
#define KERN_NFT_LOGPFX_MAX	127
#define KERN_IPT_CHAIN_MAX	28	/* iptables chain names */
#define KERN_IPSET_NAME_MAX	31
#define KERN_IPT_LOGPFX_MAX	29
#define KERN_IPT_COMMENT_MAX	256

/* An error of a kernel backend on err: "file:line:col: error: ..." at
 * loc, or "SOURCE: error: ..." without one. */
void		 kern_error(FILE *err, const struct model *,
		    const struct srcloc *, const char *, ...)
		    __attribute__((format(printf, 4, 5)));
void		 kern_verror(FILE *err, const struct model *,
		    const struct srcloc *, const char *, va_list);

/* The filter.  False if the result did not fit in n bytes (dst is then
 * truncated but still NUL-terminated and safe). */
bool		 kern_text(char *dst, size_t n, const char *src);
/* [A-Za-z_][A-Za-z0-9_-]*, at most max characters. */
bool		 kern_ident(const char *, size_t max);
/* An interface name the kernel accepts: [A-Za-z0-9_.+-]{1,15}. */
bool		 kern_iface(const char *);

/* True for the words nft reads as keywords where a name goes. */
bool		 kern_nft_keyword(const char *);

/* The table name a model asks for (option table, default "xmppfw"),
 * checked (an identifier, not an nft keyword); NULL after an error
 * reported on err. */
const char	*kern_table(const struct model *, FILE *err);

/* "file:line[ comment]", filtered; the file name without its directory
 * when the path makes it longer than max; false if still too long. */
bool		 kern_rule_comment(const struct rule *, char *, size_t,
		    size_t max);
/* The log prefix of a rule (its own, the policy's, or "xfw ACTION
 * LAYER:LINE "), filtered; false if longer than max. */
bool		 kern_log_prefix(const struct model *, const struct rule *,
		    char *, size_t, size_t max);
/* "file:line", filtered: where a non-rule object (inspect, default)
 * came from. */
void		 kern_where(const struct srcloc *, char *, size_t);

/* Address sets: the name of set s for family fam (FAM_V4/FAM_V6):
 * "NAME_v4" for a definition with a usable name, else "sID_v4".  A
 * name is usable when it is an identifier and not of the form of the
 * generated names sN, limitN, connN (which would collide). */
void		 kern_set_name(const struct addrset *, unsigned fam, char *,
		    size_t);
/* True when s becomes a named set for fam (a definition, or more than
 * KERN_INLINE_MAX entries); false: written inline. */
bool		 kern_set_is_named(const struct addrset *, unsigned fam);
size_t		 kern_set_count(const struct addrset *, unsigned fam);
/* True when s is declared as a named set for fam: it is named (above)
 * and a rule of family fam matches on it (a set nobody uses for a
 * family is not written for it). */
bool		 kern_set_declared(const struct addrset *, unsigned fam);

/* iptables / ip6tables / ipset names (backends iptables, ipset, loader).
 * Each returns false (buf then holds the truncated name) when the kernel
 * limit is exceeded; the caller reports the error at its location. */
/* Chain "TABLE-SUFFIX", at most KERN_IPT_CHAIN_MAX. */
bool		 kern_ipt_chain(const char *table, const char *suffix,
		    char *, size_t);
/* Set "TABLE-" + kern_set_name(), at most KERN_IPSET_NAME_MAX. */
bool		 kern_ipset_name(const char *table, const struct addrset *,
		    unsigned fam, char *, size_t);
/* The temporary set a (re)load fills before the swap: "TABLE.tID_v4"
 * ('.' never occurs in a kern_ipset_name()). */
bool		 kern_ipset_tmpname(const char *table, const struct addrset *,
		    unsigned fam, char *, size_t);
/* "create NAME hash:net family inet|inet6 hashsize H maxelem M", sized
 * for count entries (powers of two, so that a reload of a set that grew
 * a little keeps the same parameters). */
/* Both names above, checked: a name over KERN_IPSET_NAME_MAX is an error
 * on err at the set's definition, and false.  tmp may be NULL (only the
 * real name is needed).  Buffers of n >= KERN_NAME_MAX + 40 bytes. */
bool		 kern_ipset_names(const struct model *, const char *table,
		    const struct addrset *, unsigned fam, char *real,
		    char *tmp, size_t n, FILE *err);
void		 kern_ipset_create(const char *name, unsigned fam,
		    size_t count, char *, size_t);
/* hashlimit table name of rule r (at most 15 chars): "xfw" ID "-" and a
 * hash of the table and the limit's parameters, so that a reload with a
 * changed limit gets a fresh bucket table instead of the old one. */
void		 kern_hashlimit_name(const char *table, const struct rule *,
		    char *, size_t);

/*
 * How one policy rule becomes nft rules in the inet table (the same for
 * the text backend and for apply): its comment and log prefix, checked,
 * and the pieces, one kernel rule each: a family (0 = both, unsplit) and
 * the protocols it matches (0 = any; PROTO_TCP|PROTO_UDP as one l4proto
 * set; PROTO_ICMP; PROTO_ICMPV6).  Returns the number of pieces (0 when
 * the rule can match no packet of a family it would be split into), or -1
 * with *why set to the error.
 */
#define KERN_NFT_PIECES_MAX	6

/* The ICMP and ICMPv6 types the prelude lets through (option
 * icmp-essential; SPEC semantics 2): errors, PMTU and neighbour
 * discovery, by number and by nft's name. */
struct kern_icmp_type {
	unsigned char	 type;
	const char	*nft;
};
#define KERN_ICMP4_ESSENTIAL	3
#define KERN_ICMP6_ESSENTIAL	8
extern const struct kern_icmp_type kern_icmp4_essential[KERN_ICMP4_ESSENTIAL];
extern const struct kern_icmp_type kern_icmp6_essential[KERN_ICMP6_ESSENTIAL];

/* An inspect block the kernel artefacts can enforce (a non-zero mark,
 * ports); else errors on err and false. */
bool		 kern_inspect_ok(const struct model *, const struct inspect *,
		    FILE *err);

/* Where a verdict of layer l in direction d goes in the nft table:
 * KERN_ACCEPT, KERN_DROP, or KERN_GOTO *chain (ip allow: the transport
 * chain; transport allow in input with inspect blocks: accept_input, which
 * queues the new connection to the helper; reject: refuse). */
enum kern_jump {
	KERN_ACCEPT,
	KERN_DROP,
	KERN_GOTO,
};
enum kern_jump	 kern_nft_verdict(const struct model *, enum layer,
		    enum direction, enum verdict, const char **chain);

/* The dynamic set behind a per-address limit ("limit") or connection cap
 * ("conn") of rule r for fam: "limitID_v4"; kern_set_name() never
 * gives such a name to a definition. */
void		 kern_dyn_set_name(const char *kind, const struct rule *,
		    unsigned fam, char *, size_t);
/* How long an address stays in a per-address limit's set after its last
 * packet, in ms: long enough for its bucket to refill (10 s, 2 min, 2 h
 * by the rate's unit). */
uint64_t	 kern_meter_timeout_ms(const struct rate_limit *);

/* The IP protocols of a PROTO_* mask in ascending protocol number (the
 * order nft lists a set in): numbers and nft names; returns how many. */
size_t		 kern_l4_list(unsigned protos, unsigned char num[4],
		    const char *name[4]);
struct kern_piece {
	unsigned	fam;
	unsigned	protos;
};
struct kern_nft_rule {
	char			comment[512];
	char			logpfx[256];	/* "" without log */
	size_t			npieces;
	struct kern_piece	pieces[KERN_NFT_PIECES_MAX];
};
int		 kern_nft_plan(const struct model *, const struct rule *,
		    struct kern_nft_rule *, const char **why);

#endif
