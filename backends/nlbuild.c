/*
 * nlbuild.c - the policy's nftables table as libnftnl objects in one
 * netlink batch, and canonical views of tables for "xmppfwc diff".
 *
 * The table has the layout of the nftables text backend (nftables.c):
 *
 *	base chains input/output/forward: [inspect], prelude, goto ip_DIR
 *	ip_DIR:        rules of the ip layer; allow = goto transport_DIR
 *	transport_DIR: rules of the transport layer; allow = accept
 *	refuse:        tcp reset for TCP, ICMP(v6) port unreachable else
 *
 * with the same set names, the same rule splitting per family and
 * protocol, and the same comments ("file:line[ text]") carried in the
 * rule userdata as nft does, so "nft list table" reads the same and a
 * kernel refusal maps back to the policy line.  Netlink needs no
 * quoting; free text still passes through kern_text() (kernel.c), the same filter
 * as the text backend, so both backends store identical comments.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "kernel.h"
#include "nlbuild.h"

#define FAMILY		NFPROTO_INET
#define NFT_COMMENT_MAX	KERN_NFT_COMMENT_MAX
#define NFT_LOGPFX_MAX	KERN_NFT_LOGPFX_MAX
#define NAME_MAX_	KERN_NAME_MAX
#define ELEMS_PER_MSG	1024
#define MSG_ROOM	(128 * 1024)

/* nft datatype ids (nftables src/datatype.h), for "nft list". */
#define DT_IPADDR	7
#define DT_IP6ADDR	8
#define DT_INET_PROTO	12
#define DT_INET_SERVICE	13
#define DT_ICMP_TYPE	14
#define DT_CT_STATE	26
#define DT_ICMP6_TYPE	29
#define BYTEORDER_BIG	2

/* Kernel conntrack state bits (NF_CT_STATE_BIT). */
#define CTB_INVALID	0x01u
#define CTB_ESTABLISHED	0x02u
#define CTB_RELATED	0x04u
#define CTB_NEW		0x08u
#define CTB_UNTRACKED	0x40u

static const char *const hook_name[DIR_COUNT] = {
	"input", "output", "forward"
};
static const int hook_num[DIR_COUNT] = {
	NF_INET_LOCAL_IN, NF_INET_LOCAL_OUT, NF_INET_FORWARD
};

__extension__ typedef unsigned __int128 nlu128;

static void *
xmalloc_(size_t n)
{
	void *p = malloc(n != 0 ? n : 1);

	if (p == NULL) {
		perror("xmppfwc");
		exit(2);
	}
	return p;
}

static void *
xrealloc_(void *p, size_t n)
{
	p = realloc(p, n != 0 ? n : 1);
	if (p == NULL) {
		perror("xmppfwc");
		exit(2);
	}
	return p;
}

static char *
xstrdup_(const char *s)
{
	char *d = strdup(s);

	if (d == NULL) {
		perror("xmppfwc");
		exit(2);
	}
	return d;
}

const char *
nlb_table(const struct model *m, FILE *err)
{
	return kern_table(m, err);
}

/* ------------------------------------------------------------------ */
/* The batch buffer.                                                   */

static void
nb_room(struct nlbatch *b, size_t need)
{
	if (b->cap - b->len >= need)
		return;
	while (b->cap - b->len < need)
		b->cap = b->cap == 0 ? 1024 * 1024 : b->cap * 2;
	b->buf = xrealloc_(b->buf, b->cap);
}

/* Start a message; its origin is recorded under its seq. */
static struct nlmsghdr *
nb_hdr(struct nlbatch *b, uint16_t type, uint16_t flags,
    const struct nlorigin *o)
{
	struct nlmsghdr *nlh;
	size_t i = b->seq - b->seq0;

	nb_room(b, MSG_ROOM);
	memset(b->buf + b->len, 0, MNL_NLMSG_HDRLEN + 16);
	nlh = nftnl_nlmsg_build_hdr(b->buf + b->len, type, FAMILY, flags,
	    b->seq);
	if (i >= b->corig) {
		size_t old = b->corig;

		b->corig = b->corig == 0 ? 256 : b->corig * 2;
		while (i >= b->corig)
			b->corig *= 2;
		b->orig = xrealloc_(b->orig, b->corig * sizeof(*b->orig));
		memset(b->orig + old, 0, (b->corig - old) * sizeof(*b->orig));
	}
	if (o != NULL)
		b->orig[i] = *o;
	b->ack_seq = b->seq;
	b->seq++;
	return nlh;
}

static void
nb_done(struct nlbatch *b, struct nlmsghdr *nlh)
{
	b->len += MNL_ALIGN(nlh->nlmsg_len);
}

const struct nlorigin *
nlb_origin(const struct nlbatch *b, uint32_t seq)
{
	if (seq < b->seq0 || seq - b->seq0 >= b->corig)
		return NULL;
	return &b->orig[seq - b->seq0];
}

void
nlb_free(struct nlbatch *b)
{
	free(b->buf);
	free(b->orig);
	memset(b, 0, sizeof(*b));
}

static void
nb_begin(struct nlbatch *b, uint32_t seq0)
{
	memset(b, 0, sizeof(*b));
	b->seq0 = b->seq = seq0;
	b->set_id = 1;
	nb_room(b, MSG_ROOM);
	nftnl_batch_begin(b->buf, b->seq++);
	b->len += MNL_ALIGN(((struct nlmsghdr *)b->buf)->nlmsg_len);
}

static void
nb_end(struct nlbatch *b)
{
	struct nlmsghdr *nlh;

	nb_room(b, 64);
	/* The last real message asks for an ack: when it arrives, the
	 * kernel has answered the whole batch. */
	if (b->ack_seq != b->seq0) {
		size_t off = 0;

		while (off < b->len) {
			nlh = (struct nlmsghdr *)(b->buf + off);
			if (nlh->nlmsg_seq == b->ack_seq)
				nlh->nlmsg_flags |= NLM_F_ACK;
			off += MNL_ALIGN(nlh->nlmsg_len);
		}
	}
	nlh = nftnl_batch_end(b->buf + b->len, b->seq++);
	b->len += MNL_ALIGN(nlh->nlmsg_len);
}

/* ------------------------------------------------------------------ */
/* Views.                                                              */

void
nlview_init(struct nlview *v, const char *table)
{
	memset(v, 0, sizeof(*v));
	v->table = xstrdup_(table);
}

void
nlview_free(struct nlview *v)
{
	size_t i;

	for (i = 0; i < v->nchains; i++) {
		nftnl_chain_free(v->chains[i].c);
		free(v->chains[i].name);
		free(v->chains[i].def);
	}
	for (i = 0; i < v->nsets; i++) {
		nftnl_set_free(v->sets[i].set);
		free(v->sets[i].name);
		free(v->sets[i].e);
		free(v->sets[i].def);
		free(v->sets[i].canon);
	}
	for (i = 0; i < v->nrules; i++) {
		nftnl_rule_free(v->rules[i].r);
		free(v->rules[i].chain);
		free(v->rules[i].comment);
		free(v->rules[i].expr);
	}
	if (v->t != NULL)
		nftnl_table_free(v->t);
	free(v->chains);
	free(v->sets);
	free(v->rules);
	free(v->table);
	memset(v, 0, sizeof(*v));
}

#define GROW(arr, n, cap) do {						\
	if ((n) == (cap)) {						\
		(cap) = (cap) == 0 ? 16 : (cap) * 2;			\
		(arr) = xrealloc_((arr), (cap) * sizeof(*(arr)));	\
	}								\
} while (0)

static uint32_t
set_u32(const struct nftnl_set *s, uint16_t attr)
{
	return nftnl_set_is_set(s, attr) ? nftnl_set_get_u32(s, attr) : 0;
}

void
nlview_add_chain(struct nlview *v, struct nftnl_chain *c)
{
	struct nlvchain *vc;

	GROW(v->chains, v->nchains, v->cchains);
	vc = &v->chains[v->nchains++];
	memset(vc, 0, sizeof(*vc));
	vc->c = c;
	vc->name = xstrdup_(nftnl_chain_get_str(c, NFTNL_CHAIN_NAME));
}

struct nlvset *
nlview_add_set(struct nlview *v, struct nftnl_set *s)
{
	struct nlvset *vs;

	GROW(v->sets, v->nsets, v->csets);
	vs = &v->sets[v->nsets++];
	memset(vs, 0, sizeof(*vs));
	vs->set = s;
	vs->name = xstrdup_(nftnl_set_get_str(s, NFTNL_SET_NAME));
	vs->id = set_u32(s, NFTNL_SET_ID);
	vs->flags = set_u32(s, NFTNL_SET_FLAGS);
	vs->keylen = set_u32(s, NFTNL_SET_KEY_LEN);
	vs->keytype = set_u32(s, NFTNL_SET_KEY_TYPE);
	vs->anon = (vs->flags & NFT_SET_ANONYMOUS) != 0;
	return vs;
}

void
nlview_add_rule(struct nlview *v, struct nftnl_rule *r)
{
	struct nlvrule *vr;

	GROW(v->rules, v->nrules, v->crules);
	vr = &v->rules[v->nrules++];
	memset(vr, 0, sizeof(*vr));
	vr->r = r;
	vr->chain = xstrdup_(nftnl_rule_get_str(r, NFTNL_RULE_CHAIN));
}

struct nlvset *
nlview_find_set(const struct nlview *v, const char *name, uint32_t id)
{
	size_t i;

	for (i = v->nsets; i-- > 0;) {
		if (strchr(name, '%') != NULL) {
			if (v->sets[i].id == id &&
			    strcmp(v->sets[i].name, name) == 0)
				return &v->sets[i];
		} else if (strcmp(v->sets[i].name, name) == 0)
			return &v->sets[i];
	}
	return NULL;
}

static void
vset_push(struct nlvset *vs, const void *key, size_t len, uint32_t flags)
{
	struct nlelem *e;

	GROW(vs->e, vs->n, vs->cap);
	e = &vs->e[vs->n++];
	memset(e, 0, sizeof(*e));
	if (len > sizeof(e->key))
		len = sizeof(e->key);
	memcpy(e->key, key, len);
	e->len = (uint8_t)len;
	e->flags = flags;
}

void
nlview_add_elems(struct nlview *v, struct nftnl_set *s)
{
	struct nftnl_set_elems_iter *it;
	struct nftnl_set_elem *e;
	struct nlvset *vs;
	const void *key;
	uint32_t len, flags;

	vs = nlview_find_set(v, nftnl_set_get_str(s, NFTNL_SET_NAME),
	    set_u32(s, NFTNL_SET_ID));
	if (vs == NULL)
		return;
	it = nftnl_set_elems_iter_create(s);
	while ((e = nftnl_set_elems_iter_next(it)) != NULL) {
		key = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &len);
		flags = nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_FLAGS) ?
		    nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_FLAGS) : 0;
		if (key != NULL)
			vset_push(vs, key, len, flags);
	}
	nftnl_set_elems_iter_destroy(it);
}

/* Keys as numbers: big-endian bytes into a u128. */
static nlu128
key_val(const struct nlelem *e)
{
	nlu128 x = 0;
	size_t i;

	for (i = 0; i < e->len; i++)
		x = (x << 8) | e->key[i];
	return x;
}

static int
elem_cmp(const void *a, const void *b)
{
	const struct nlelem *x = a, *y = b;
	nlu128 p = key_val(x), q = key_val(y);
	int xe = (x->flags & NFT_SET_ELEM_INTERVAL_END) != 0;
	int ye = (y->flags & NFT_SET_ELEM_INTERVAL_END) != 0;

	if (p != q)
		return p < q ? -1 : 1;
	return ye - xe;			/* ends first */
}

struct iv {
	nlu128	lo, hi;			/* inclusive */
};

/* The intervals a set's elements describe, sorted, merged. */
static struct iv *
vset_intervals(struct nlvset *vs, size_t *np)
{
	struct iv *iv = xmalloc_((vs->n + 1) * sizeof(*iv));
	size_t i, n = 0;
	bool open = false, interval = (vs->flags & NFT_SET_INTERVAL) != 0;
	nlu128 start = 0, k, max;
	unsigned bits = vs->keylen * 8;

	max = bits >= 128 ? ~(nlu128)0 : (((nlu128)1) << bits) - 1;
	qsort(vs->e, vs->n, sizeof(*vs->e), elem_cmp);
	for (i = 0; i < vs->n; i++) {
		k = key_val(&vs->e[i]);
		if (!interval) {
			iv[n].lo = iv[n].hi = k;
			n++;
			continue;
		}
		if (vs->e[i].flags & NFT_SET_ELEM_INTERVAL_END) {
			if (open && k > start) {
				iv[n].lo = start;
				iv[n].hi = k - 1;
				n++;
			}
			open = false;
		} else {
			start = k;
			open = true;
		}
	}
	if (open) {
		iv[n].lo = start;
		iv[n].hi = max;
		n++;
	}
	/* Merge adjacent or overlapping intervals. */
	if (n > 1) {
		size_t o = 0;

		for (i = 1; i < n; i++) {
			if (iv[o].hi != max && iv[i].lo <= iv[o].hi + 1) {
				if (iv[i].hi > iv[o].hi)
					iv[o].hi = iv[i].hi;
			} else
				iv[++o] = iv[i];
		}
		n = o + 1;
	}
	*np = n;
	return iv;
}

static void
hex128(char *buf, size_t n, nlu128 x)
{
	snprintf(buf, n, "%llx%016llx", (unsigned long long)(x >> 64),
	    (unsigned long long)x);
}

static char *
vset_canon(struct nlvset *vs)
{
	struct iv *iv;
	size_t n, i, len = 0, cap = 64;
	char *s = xmalloc_(cap), a[40], b[40];

	iv = vset_intervals(vs, &n);
	s[0] = '\0';
	for (i = 0; i < n; i++) {
		hex128(a, sizeof(a), iv[i].lo);
		hex128(b, sizeof(b), iv[i].hi);
		while (len + 90 > cap) {
			cap *= 2;
			s = xrealloc_(s, cap);
		}
		len += (size_t)snprintf(s + len, cap - len, "%s%s-%s",
		    i > 0 ? "," : "", a, b);
	}
	free(iv);
	return s;
}

static char *
xasprintf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *
xasprintf_(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0) {
		perror("xmppfwc");
		exit(2);
	}
	va_end(ap);
	return s;
}

struct sbuf {
	char	*s;
	size_t	 len, cap;
};

static void
sb_add(struct sbuf *b, const char *t)
{
	size_t l = strlen(t);

	if (b->len + l + 1 > b->cap) {
		while (b->len + l + 1 > b->cap)
			b->cap = b->cap == 0 ? 256 : b->cap * 2;
		b->s = xrealloc_(b->s, b->cap);
	}
	memcpy(b->s + b->len, t, l + 1);
	b->len += l;
}

/* The rule comment from the userdata TLVs, or "". */
static char *
rule_comment(const struct nftnl_rule *r)
{
	const uint8_t *p;
	uint32_t len, i = 0;

	if (!nftnl_rule_is_set(r, NFTNL_RULE_USERDATA))
		return xstrdup_("");
	p = nftnl_rule_get_data(r, NFTNL_RULE_USERDATA, &len);
	while (p != NULL && i + 2 <= len) {
		uint8_t type = p[i], l = p[i + 1];

		if (i + 2u + l > len)
			break;
		if (type == NFTNL_UDATA_RULE_COMMENT && l > 0)
			return xasprintf_("%.*s", (int)l, (const char *)p + i +
			    2);
		i += 2u + l;
	}
	return xstrdup_("");
}

static char *
rule_canon(const struct nlview *v, const struct nftnl_rule *r)
{
	struct nftnl_expr_iter *it;
	struct nftnl_expr *e;
	struct nlvset *vs;
	struct sbuf b = { NULL, 0, 0 };
	const char *name;
	char tmp[1024];

	sb_add(&b, "");
	it = nftnl_expr_iter_create(r);
	while ((e = nftnl_expr_iter_next(it)) != NULL) {
		name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
		if (strcmp(name, "counter") == 0)
			snprintf(tmp, sizeof(tmp), "[ counter ]");
		else if (strcmp(name, "log") == 0)
			snprintf(tmp, sizeof(tmp), "[ log prefix \"%s\" ]",
			    nftnl_expr_is_set(e, NFTNL_EXPR_LOG_PREFIX) ?
			    nftnl_expr_get_str(e, NFTNL_EXPR_LOG_PREFIX) : "");
		else if (strcmp(name, "lookup") == 0) {
			const char *sn = nftnl_expr_get_str(e,
			    NFTNL_EXPR_LOOKUP_SET);
			uint32_t id = nftnl_expr_is_set(e,
			    NFTNL_EXPR_LOOKUP_SET_ID) ? nftnl_expr_get_u32(e,
			    NFTNL_EXPR_LOOKUP_SET_ID) : 0;

			vs = nlview_find_set(v, sn, id);
			snprintf(tmp, sizeof(tmp), "[ lookup reg %u flags %u "
			    "set ", nftnl_expr_get_u32(e,
			    NFTNL_EXPR_LOOKUP_SREG), nftnl_expr_is_set(e,
			    NFTNL_EXPR_LOOKUP_FLAGS) ? nftnl_expr_get_u32(e,
			    NFTNL_EXPR_LOOKUP_FLAGS) : 0);
			sb_add(&b, tmp);
			if (vs != NULL && vs->anon) {
				snprintf(tmp, sizeof(tmp), "anon %u/%u/%u {",
				    vs->flags, vs->keylen, vs->keytype);
				sb_add(&b, tmp);
				sb_add(&b, vs->canon != NULL ? vs->canon : "");
				sb_add(&b, "} ]");
			} else {
				sb_add(&b, vs != NULL ? vs->name : "?");
				sb_add(&b, " ]");
			}
			continue;
		} else {
			tmp[0] = '[';
			tmp[1] = ' ';
			char *z;

			nftnl_expr_snprintf(tmp + 2, sizeof(tmp) - 4, e,
			    NFTNL_OUTPUT_DEFAULT, 0);
			strcat(tmp, " ]");
			/* The kernel reports a dynset's unset timeout as 0. */
			if (strcmp(name, "dynset") == 0 &&
			    (z = strstr(tmp, " timeout 0ms")) != NULL)
				memmove(z, z + 12, strlen(z + 12) + 1);
		}
		sb_add(&b, tmp);
	}
	nftnl_expr_iter_destroy(it);
	return b.s;
}

static uint64_t
chain_u64(const struct nftnl_chain *c, uint16_t a)
{
	return nftnl_chain_is_set(c, a) ? nftnl_chain_get_u64(c, a) : 0;
}

static uint32_t
chain_u32(const struct nftnl_chain *c, uint16_t a)
{
	return nftnl_chain_is_set(c, a) ? nftnl_chain_get_u32(c, a) : 0;
}

void
nlview_finish(struct nlview *v)
{
	size_t i;
	struct nlvset *vs;
	const struct nftnl_chain *c;

	if (v->finished)
		return;
	v->finished = true;
	for (i = 0; i < v->nsets; i++) {
		vs = &v->sets[i];
		if (vs->anon)
			vs->canon = vset_canon(vs);
		vs->def = xasprintf_("flags 0x%x key %u/%u timeout %llu "
		    "size %u", vs->flags & ~(uint32_t)NFT_SET_ANONYMOUS,
		    vs->keytype, vs->keylen, (unsigned long long)
		    (nftnl_set_is_set(vs->set, NFTNL_SET_TIMEOUT) ?
		    nftnl_set_get_u64(vs->set, NFTNL_SET_TIMEOUT) : 0),
		    set_u32(vs->set, NFTNL_SET_DESC_SIZE));
	}
	for (i = 0; i < v->nchains; i++) {
		c = v->chains[i].c;
		if (nftnl_chain_is_set(c, NFTNL_CHAIN_HOOKNUM))
			v->chains[i].def = xasprintf_("type %s hook %u "
			    "priority %d policy %u",
			    nftnl_chain_is_set(c, NFTNL_CHAIN_TYPE) ?
			    nftnl_chain_get_str(c, NFTNL_CHAIN_TYPE) : "?",
			    chain_u32(c, NFTNL_CHAIN_HOOKNUM),
			    (int)chain_u32(c, NFTNL_CHAIN_PRIO),
			    chain_u32(c, NFTNL_CHAIN_POLICY));
		else
			v->chains[i].def = xstrdup_("regular");
		(void)chain_u64;
	}
	for (i = 0; i < v->nrules; i++) {
		v->rules[i].comment = rule_comment(v->rules[i].r);
		v->rules[i].expr = rule_canon(v, v->rules[i].r);
	}
}

/* ------------------------------------------------------------------ */
/* Diff.                                                               */

static void
print_key(FILE *out, const struct nlvset *vs, nlu128 x, unsigned plen)
{
	char buf[INET6_ADDRSTRLEN];
	uint8_t b[16];
	int i;

	if (vs->keytype == DT_IPADDR || vs->keytype == DT_IP6ADDR) {
		int n = vs->keytype == DT_IPADDR ? 4 : 16;

		for (i = n - 1; i >= 0; i--) {
			b[i] = (uint8_t)x;
			x >>= 8;
		}
		inet_ntop(n == 4 ? AF_INET : AF_INET6, b, buf, sizeof(buf));
		fprintf(out, "%s/%u", buf, plen);
	} else {
		char h[40];

		hex128(h, sizeof(h), x);
		fprintf(out, "0x%s/%u", h, plen);
	}
}

struct pfx {
	nlu128		a;
	unsigned	len;
};

/* Decompose intervals into CIDR prefixes (keylen*8 bits wide). */
static struct pfx *
to_prefixes(struct iv *iv, size_t n, unsigned bits, size_t *np)
{
	struct pfx *p = NULL;
	size_t np_ = 0, cap = 0, i;
	nlu128 lo, hi, size;
	unsigned k;

	for (i = 0; i < n; i++) {
		lo = iv[i].lo;
		hi = iv[i].hi;
		for (;;) {
			/* Largest k with lo aligned to 2^k and lo+2^k-1 <= hi. */
			for (k = bits; k > 0; k--) {
				size = k >= 128 ? 0 : ((nlu128)1 << k);
				if (k < 128 && (lo & (size - 1)) != 0)
					continue;
				if (k >= 128 ? (lo == 0 && hi == ~(nlu128)0) :
				    (hi - lo >= size - 1))
					break;
			}
			GROW(p, np_, cap);
			p[np_].a = lo;
			p[np_].len = bits - k;
			np_++;
			if (k >= 128)
				break;
			size = (nlu128)1 << k;
			if (hi - lo == size - 1)
				break;
			lo += size;
		}
	}
	*np = np_;
	return p;
}

static size_t
diff_elems(struct nlvset *o, struct nlvset *n, FILE *out)
{
	struct iv *ia, *ib;
	struct pfx *a, *b;
	size_t na, nb, i = 0, j = 0, d = 0, nia, nib;
	unsigned bits = (n != NULL ? n : o)->keylen * 8;

	ia = o != NULL ? vset_intervals(o, &nia) : NULL;
	ib = n != NULL ? vset_intervals(n, &nib) : NULL;
	a = o != NULL ? to_prefixes(ia, nia, bits, &na) : NULL;
	b = n != NULL ? to_prefixes(ib, nib, bits, &nb) : NULL;
	if (o == NULL)
		na = 0;
	if (n == NULL)
		nb = 0;
	while (i < na || j < nb) {
		if (j >= nb || (i < na && (a[i].a < b[j].a || (a[i].a ==
		    b[j].a && a[i].len < b[j].len)))) {
			fputs("- element ", out);
			print_key(out, o, a[i].a, a[i].len);
			fprintf(out, " in set %s\n", o->name);
			i++;
			d++;
		} else if (i >= na || a[i].a != b[j].a ||
		    a[i].len != b[j].len) {
			fputs("+ element ", out);
			print_key(out, n, b[j].a, b[j].len);
			fprintf(out, " in set %s\n", n->name);
			j++;
			d++;
		} else {
			i++;
			j++;
		}
	}
	free(ia);
	free(ib);
	free(a);
	free(b);
	return d;
}

static bool
rule_eq(const struct nlvrule *a, const struct nlvrule *b)
{
	return strcmp(a->comment, b->comment) == 0 &&
	    strcmp(a->expr, b->expr) == 0;
}

static void
print_rule(FILE *out, char sign, const struct nlvrule *r)
{
	fprintf(out, "%c rule %s in chain %s\n", sign,
	    r->comment[0] != '\0' ? r->comment : "(no comment)", r->chain);
	if (getenv("XFW_DIFF_VERBOSE") != NULL)
		fprintf(out, "    %s\n", r->expr);
}

/* Rules of one chain: a longest-common-subsequence diff. */
static size_t
diff_rules(struct nlvrule **a, size_t na, struct nlvrule **b, size_t nb,
    FILE *out)
{
	uint32_t *t;
	size_t i, j, d = 0;

	if ((na + 1) * (nb + 1) > 50u * 1000 * 1000) {
		/* Too big for the table: report both sides whole. */
		for (i = 0; i < na; i++)
			print_rule(out, '-', a[i]);
		for (j = 0; j < nb; j++)
			print_rule(out, '+', b[j]);
		return na + nb;
	}
	t = calloc((na + 1) * (nb + 1), sizeof(*t));
	if (t == NULL) {
		perror("xmppfwc");
		exit(2);
	}
#define T(x, y) t[(x) * (nb + 1) + (y)]
	for (i = na; i-- > 0;)
		for (j = nb; j-- > 0;)
			T(i, j) = rule_eq(a[i], b[j]) ? T(i + 1, j + 1) + 1 :
			    (T(i + 1, j) > T(i, j + 1) ? T(i + 1, j) :
			    T(i, j + 1));
	i = j = 0;
	while (i < na || j < nb) {
		if (i < na && j < nb && rule_eq(a[i], b[j])) {
			i++;
			j++;
		} else if (j >= nb || (i < na && T(i + 1, j) >= T(i, j + 1))) {
			print_rule(out, '-', a[i++]);
			d++;
		} else {
			print_rule(out, '+', b[j++]);
			d++;
		}
	}
#undef T
	free(t);
	return d;
}

static struct nlvrule **
chain_rules(struct nlview *v, const char *chain, size_t *np)
{
	struct nlvrule **r = xmalloc_((v->nrules + 1) * sizeof(*r));
	size_t i, n = 0;

	for (i = 0; i < v->nrules; i++)
		if (strcmp(v->rules[i].chain, chain) == 0)
			r[n++] = &v->rules[i];
	*np = n;
	return r;
}

static struct nlvchain *
find_chain(struct nlview *v, const char *name)
{
	size_t i;

	for (i = 0; i < v->nchains; i++)
		if (strcmp(v->chains[i].name, name) == 0)
			return &v->chains[i];
	return NULL;
}

size_t
nlview_diff(struct nlview *o, struct nlview *n, FILE *out)
{
	size_t i, d = 0, na, nb;
	struct nlvchain *c;
	struct nlvset *s;
	struct nlvrule **ra, **rb;

	nlview_finish(o);
	nlview_finish(n);
	if (o->exists != n->exists) {
		fprintf(out, "%c table inet %s\n", n->exists ? '+' : '-',
		    n->table);
		d++;
	}
	/* Chains: definitions, then their rules. */
	for (i = 0; i < o->nchains; i++)
		if (find_chain(n, o->chains[i].name) == NULL) {
			fprintf(out, "- chain %s\n", o->chains[i].name);
			d++;
		}
	for (i = 0; i < n->nchains; i++) {
		c = find_chain(o, n->chains[i].name);
		if (c == NULL) {
			fprintf(out, "+ chain %s\n", n->chains[i].name);
			d++;
		} else if (strcmp(c->def, n->chains[i].def) != 0) {
			fprintf(out, "- chain %s (%s)\n+ chain %s (%s)\n",
			    c->name, c->def, c->name, n->chains[i].def);
			d++;
		}
	}
	/* Named sets and their elements. */
	for (i = 0; i < o->nsets; i++) {
		if (o->sets[i].anon)
			continue;
		s = nlview_find_set(n, o->sets[i].name, 0);
		if (s == NULL) {
			fprintf(out, "- set %s\n", o->sets[i].name);
			d++;
			d += diff_elems(&o->sets[i], NULL, out);
		}
	}
	for (i = 0; i < n->nsets; i++) {
		if (n->sets[i].anon)
			continue;
		s = nlview_find_set(o, n->sets[i].name, 0);
		if (s == NULL) {
			fprintf(out, "+ set %s\n", n->sets[i].name);
			d++;
		} else if (strcmp(s->def, n->sets[i].def) != 0) {
			fprintf(out, "- set %s (%s)\n+ set %s (%s)\n",
			    s->name, s->def, s->name, n->sets[i].def);
			d++;
		}
		/* Dynamic sets fill at run time: their elements are
		 * state, not policy. */
		if (n->sets[i].flags & NFT_SET_EVAL)
			continue;
		d += diff_elems(s, &n->sets[i], out);
	}
	/* Rules, chain by chain, in the new chain order, then the chains
	 * only the old table has. */
	for (i = 0; i < n->nchains + o->nchains; i++) {
		const char *name = i < n->nchains ? n->chains[i].name :
		    o->chains[i - n->nchains].name;

		if (i >= n->nchains && find_chain(n, name) != NULL)
			continue;
		ra = chain_rules(o, name, &na);
		rb = chain_rules(n, name, &nb);
		d += diff_rules(ra, na, rb, nb, out);
		free(ra);
		free(rb);
	}
	return d;
}

/* ------------------------------------------------------------------ */
/* Building the policy's table.                                        */

struct nb {
	const struct model	*m;
	struct nlbatch		*b;
	struct nlview		*v;		/* may be NULL */
	const char		*table;
	FILE			*err;
	int			 nerr;
};

static void
nb_error(struct nb *k, const struct srcloc *loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
nb_error(struct nb *k, const struct srcloc *loc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kern_verror(k->err, k->m, loc, fmt, ap);
	va_end(ap);
	k->nerr++;
}

/* The key bytes (network order) of prefix i of s for fam. */
static void
pfx_key(const struct addrset *s, unsigned fam, size_t i, uint8_t *key,
    unsigned *len)
{
	if (fam == FAM_V4) {
		uint32_t a = htonl(s->v4[i].addr);

		memcpy(key, &a, 4);
		*len = s->v4[i].len;
	} else {
		memcpy(key, s->v6[i].addr, 16);
		*len = s->v6[i].len;
	}
}

/* Add 2^(bits-plen) to the big-endian key; true on overflow. */
static bool
key_add_block(uint8_t *key, size_t klen, unsigned plen)
{
	size_t bit = klen * 8 - plen;	/* add 1 << bit */
	size_t byte;
	unsigned carry;
	int i;

	if (plen == 0)
		return true;
	byte = klen - 1 - bit / 8;
	carry = 1u << (bit % 8);
	for (i = (int)byte; i >= 0 && carry != 0; i--) {
		unsigned v = key[i] + carry;

		key[i] = (uint8_t)v;
		carry = v >> 8;
	}
	return carry != 0;
}

/* An interval in key bytes: [lo, end), end_over when end is 2^bits. */
struct kiv {
	uint8_t	lo[16], end[16];
	bool	end_over;
};

/* Elements of an interval set, as nft makes them: an interval-end at
 * zero when the first interval does not start there, then start/end
 * pairs (adjacent intervals merged). */
struct elist {
	struct nlelem	*e;
	size_t		 n, cap;
};

static void
el_push(struct elist *l, const uint8_t *key, size_t klen, uint32_t flags)
{
	struct nlelem *e;

	GROW(l->e, l->n, l->cap);
	e = &l->e[l->n++];
	memset(e, 0, sizeof(*e));
	memcpy(e->key, key, klen);
	e->len = (uint8_t)klen;
	e->flags = flags;
}

static void
push_intervals(struct elist *l, struct kiv *iv, size_t n, size_t klen)
{
	static const uint8_t zero[16];
	size_t i, o = 0;

	for (i = 1; i < n; i++) {
		if (!iv[o].end_over && memcmp(iv[o].end, iv[i].lo, klen) == 0) {
			memcpy(iv[o].end, iv[i].end, klen);
			iv[o].end_over = iv[i].end_over;
		} else
			iv[++o] = iv[i];
	}
	if (n > 0)
		n = o + 1;
	if (n > 0 && memcmp(iv[0].lo, zero, klen) != 0)
		el_push(l, zero, klen, NFT_SET_ELEM_INTERVAL_END);
	for (i = 0; i < n; i++) {
		el_push(l, iv[i].lo, klen, 0);
		if (!iv[i].end_over)
			el_push(l, iv[i].end, klen, NFT_SET_ELEM_INTERVAL_END);
	}
}

static struct nftnl_set *
set_new(struct nb *k, const char *name, uint32_t flags, uint32_t keytype,
    uint32_t keylen)
{
	struct nftnl_set *s = nftnl_set_alloc();

	nftnl_set_set_str(s, NFTNL_SET_TABLE, k->table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, name);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, FAMILY);
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, flags);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, keytype);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, keylen);
	nftnl_set_set_u32(s, NFTNL_SET_ID, k->b->set_id++);
	return s;
}

static void
set_udata(struct nftnl_set *s, bool merge)
{
	struct nftnl_udata_buf *ud = nftnl_udata_buf_alloc(64);

	nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_KEYBYTEORDER, BYTEORDER_BIG);
	if (merge)
		nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_MERGE_ELEMENTS, 1);
	nftnl_set_set_data(s, NFTNL_SET_USERDATA, nftnl_udata_buf_data(ud),
	    nftnl_udata_buf_len(ud));
	nftnl_udata_buf_free(ud);
}

/* Send the set definition, then its elements in messages of at most
 * ELEMS_PER_MSG elements.  s is consumed; l is freed. */
static void
emit_set(struct nb *k, struct nftnl_set *s, struct elist *l,
    const struct nlorigin *o)
{
	struct nftnl_set_elem *e;
	struct nftnl_set *chunk;
	struct nlmsghdr *nlh;
	size_t i, n;

	nlh = nb_hdr(k->b, NFT_MSG_NEWSET, NLM_F_CREATE, o);
	nftnl_set_nlmsg_build_payload(nlh, s);
	nb_done(k->b, nlh);
	for (i = 0; l != NULL && i < l->n;) {
		chunk = nftnl_set_alloc();
		nftnl_set_set_str(chunk, NFTNL_SET_TABLE, k->table);
		nftnl_set_set_str(chunk, NFTNL_SET_NAME,
		    nftnl_set_get_str(s, NFTNL_SET_NAME));
		nftnl_set_set_u32(chunk, NFTNL_SET_FAMILY, FAMILY);
		nftnl_set_set_u32(chunk, NFTNL_SET_ID,
		    nftnl_set_get_u32(s, NFTNL_SET_ID));
		for (n = 0; i < l->n && n < ELEMS_PER_MSG; n++, i++) {
			e = nftnl_set_elem_alloc();
			nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, l->e[i].key,
			    l->e[i].len);
			if (l->e[i].flags != 0)
				nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_FLAGS,
				    l->e[i].flags);
			nftnl_set_elem_add(chunk, e);
		}
		nlh = nb_hdr(k->b, NFT_MSG_NEWSETELEM, NLM_F_CREATE, o);
		nftnl_set_elems_nlmsg_build_payload(nlh, chunk);
		nb_done(k->b, nlh);
		k->b->nelem_msgs++;
		nftnl_set_free(chunk);
	}
	if (k->v != NULL) {
		struct nlvset *vs = nlview_add_set(k->v, s);

		/* The view keeps the elements as sent. */
		if (l != NULL) {
			vs->e = l->e;
			vs->n = vs->cap = l->n;
			l->e = NULL;
		}
	} else
		nftnl_set_free(s);
	if (l != NULL) {
		free(l->e);
		l->e = NULL;
		l->n = l->cap = 0;
	}
}

static void
origin(struct nlorigin *o, const struct srcloc *loc, const char *what,
    const char *name)
{
	memset(o, 0, sizeof(*o));
	o->loc = loc;
	o->what = what;
	size_t n = strlen(name);

	if (n >= sizeof(o->name))
		n = sizeof(o->name) - 1;
	memcpy(o->name, name, n);
	o->name[n] = '\0';
}

static void
emit_named_sets(struct nb *k)
{
	const struct model *m = k->m;
	const struct addrset *as;
	struct nftnl_set *s;
	struct elist el;
	struct nlorigin o;
	struct kiv *iv;
	char name[NAME_MAX_ + 8];
	size_t i, j, n, klen;
	unsigned fam, plen;

	for (i = 0; i < m->nsets; i++) {
		as = m->sets[i];
		for (fam = FAM_V4; fam <= FAM_V6; fam <<= 1) {
			n = kern_set_count(as, fam);
			if (!kern_set_declared(as, fam))
				continue;
			kern_set_name(as, fam, name, sizeof(name));
			klen = fam == FAM_V4 ? 4 : 16;
			s = set_new(k, name, NFT_SET_INTERVAL,
			    fam == FAM_V4 ? DT_IPADDR : DT_IP6ADDR,
			    (uint32_t)klen);
			set_udata(s, true);
			iv = xmalloc_(n * sizeof(*iv));
			for (j = 0; j < n; j++) {
				pfx_key(as, fam, j, iv[j].lo, &plen);
				memcpy(iv[j].end, iv[j].lo, klen);
				iv[j].end_over = key_add_block(iv[j].end,
				    klen, plen);
			}
			/* The view's copy is filled by push_intervals via
			 * a placeholder set found after emit_set adds it:
			 * build the elements into s, record them later. */
			memset(&el, 0, sizeof(el));
			push_intervals(&el, iv, n, klen);
			free(iv);
			origin(&o, &as->loc, "set", name);
			emit_set(k, s, &el, &o);
		}
	}
}

static void
emit_dyn_sets(struct nb *k)
{
	const struct model *m = k->m;
	const struct rule *r;
	struct nftnl_set *s;
	struct nlorigin o;
	char name[64];
	size_t i;
	unsigned fam;

	for (i = 0; i < m->nrules; i++) {
		r = &m->rules[i];
		for (fam = FAM_V4; fam <= FAM_V6; fam <<= 1) {
			if (!rule_has_family(r, fam))
				continue;
			if (r->limit.present && r->limit.per != PER_NONE) {
				kern_dyn_set_name("limit", r, fam, name,
				    sizeof(name));
				s = set_new(k, name, NFT_SET_TIMEOUT |
				    NFT_SET_EVAL, fam == FAM_V4 ? DT_IPADDR :
				    DT_IP6ADDR, fam == FAM_V4 ? 4 : 16);
				nftnl_set_set_u64(s, NFTNL_SET_TIMEOUT,
				    kern_meter_timeout_ms(&r->limit));
				nftnl_set_set_u32(s, NFTNL_SET_DESC_SIZE, 65535);
				set_udata(s, false);
				origin(&o, &r->loc, "set", name);
				emit_set(k, s, NULL, &o);
			}
			if (r->conn.present && r->conn.per_source) {
				kern_dyn_set_name("conn", r, fam, name,
				    sizeof(name));
				s = set_new(k, name, NFT_SET_EVAL,
				    fam == FAM_V4 ? DT_IPADDR : DT_IP6ADDR,
				    fam == FAM_V4 ? 4 : 16);
				nftnl_set_set_u32(s, NFTNL_SET_DESC_SIZE, 65535);
				set_udata(s, false);
				origin(&o, &r->loc, "set", name);
				emit_set(k, s, NULL, &o);
			}
		}
	}
}

/* --- expressions ---------------------------------------------------- */

static void
x_add(struct nftnl_rule *r, struct nftnl_expr *e)
{
	nftnl_rule_add_expr(r, e);
}

static void
x_meta(struct nftnl_rule *r, uint32_t key)
{
	struct nftnl_expr *e = nftnl_expr_alloc("meta");

	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
	x_add(r, e);
}

static void
x_cmp(struct nftnl_rule *r, uint32_t op, const void *data, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("cmp");

	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
	x_add(r, e);
}

static void
x_cmp8(struct nftnl_rule *r, uint8_t v)
{
	x_cmp(r, NFT_CMP_EQ, &v, 1);
}

static void
x_payload(struct nftnl_rule *r, uint32_t base, uint32_t off, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("payload");

	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, off);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
	x_add(r, e);
}

static void
x_bitwise(struct nftnl_rule *r, const void *mask, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("bitwise");
	static const uint8_t zero[16];

	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask, len);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, zero, len);
	x_add(r, e);
}

static void
x_lookup(struct nftnl_rule *r, const char *set, uint32_t id)
{
	struct nftnl_expr *e = nftnl_expr_alloc("lookup");

	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
	nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set);
	if (id != 0)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, id);
	x_add(r, e);
}

static void
x_verdict(struct nftnl_rule *r, int v, const char *chain)
{
	struct nftnl_expr *e = nftnl_expr_alloc("immediate");

	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (uint32_t)v);
	if (chain != NULL)
		nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, chain);
	x_add(r, e);
}

static void
x_ct(struct nftnl_rule *r, uint32_t key)
{
	struct nftnl_expr *e = nftnl_expr_alloc("ct");

	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	x_add(r, e);
}

static void
x_ctstate(struct nftnl_rule *r, uint32_t bits)
{
	uint32_t zero = 0;

	x_ct(r, NFT_CT_STATE);
	x_bitwise(r, &bits, 4);
	x_cmp(r, NFT_CMP_NEQ, &zero, 4);
}

struct rb;
static void	rb_anon(struct rb *, uint32_t, uint32_t, struct kiv *, size_t,
		    bool);

static void
x_reject(struct nftnl_rule *r, uint32_t type, uint8_t code)
{
	struct nftnl_expr *e = nftnl_expr_alloc("reject");

	nftnl_expr_set_u32(e, NFTNL_EXPR_REJECT_TYPE, type);
	nftnl_expr_set_u8(e, NFTNL_EXPR_REJECT_CODE, code);
	x_add(r, e);
}

static struct nftnl_expr *
x_limit(const struct rate_limit *l)
{
	struct nftnl_expr *e = nftnl_expr_alloc("limit");

	nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_RATE, l->rate);
	nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_UNIT,
	    l->unit == RATE_SECOND ? 1 : l->unit == RATE_MINUTE ? 60 : 3600);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_BURST,
	    l->burst != 0 ? l->burst : 5);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_TYPE, NFT_LIMIT_PKTS);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_FLAGS,
	    l->over ? NFT_LIMIT_F_INV : 0);
	return e;
}

static struct nftnl_expr *
x_connlimit(uint32_t over)
{
	struct nftnl_expr *e = nftnl_expr_alloc("connlimit");

	nftnl_expr_set_u32(e, NFTNL_EXPR_CONNLIMIT_COUNT, over);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CONNLIMIT_FLAGS, NFT_CONNLIMIT_F_INV);
	return e;
}

static void
x_dynset(struct nftnl_rule *r, uint32_t op, const char *set,
    struct nftnl_expr *inner)
{
	struct nftnl_expr *e = nftnl_expr_alloc("dynset");

	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_SREG_KEY, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_OP, op);
	nftnl_expr_set_str(e, NFTNL_EXPR_DYNSET_SET_NAME, set);
	nftnl_expr_set(e, NFTNL_EXPR_DYNSET_EXPR, inner, 0);
	x_add(r, e);
}

/* --- rules ---------------------------------------------------------- */

/* A rule under construction: its object plus the anonymous sets it
 * needs, which go into the batch just before it. */
struct rb {
	struct nb		*k;
	struct nftnl_rule	*r;
	struct nlorigin		 o;
};

static void
rb_start(struct rb *rb, struct nb *k, const char *chain,
    const struct srcloc *loc, const char *comment)
{
	struct nftnl_udata_buf *ud;

	rb->k = k;
	rb->r = nftnl_rule_alloc();
	nftnl_rule_set_str(rb->r, NFTNL_RULE_TABLE, k->table);
	nftnl_rule_set_str(rb->r, NFTNL_RULE_CHAIN, chain);
	nftnl_rule_set_u32(rb->r, NFTNL_RULE_FAMILY, FAMILY);
	if (comment != NULL) {
		ud = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);
		nftnl_udata_put_strz(ud, NFTNL_UDATA_RULE_COMMENT, comment);
		nftnl_rule_set_data(rb->r, NFTNL_RULE_USERDATA,
		    nftnl_udata_buf_data(ud), nftnl_udata_buf_len(ud));
		nftnl_udata_buf_free(ud);
	}
	origin(&rb->o, loc, "rule", chain);
}

static void
rb_finish(struct rb *rb)
{
	struct nlmsghdr *nlh;
	struct nb *k = rb->k;

	nlh = nb_hdr(k->b, NFT_MSG_NEWRULE, NLM_F_APPEND | NLM_F_CREATE,
	    &rb->o);
	nftnl_rule_nlmsg_build_payload(nlh, rb->r);
	nb_done(k->b, nlh);
	if (k->v != NULL)
		nlview_add_rule(k->v, rb->r);
	else
		nftnl_rule_free(rb->r);
	rb->r = NULL;
}

/* An anonymous constant set, sent before the rule, and its lookup. */
static void
rb_anon(struct rb *rb, uint32_t keytype, uint32_t klen, struct kiv *iv,
    size_t n, bool interval)
{
	struct nb *k = rb->k;
	struct nftnl_set *s;
	struct elist el;
	uint32_t id;
	size_t i;

	memset(&el, 0, sizeof(el));
	s = set_new(k, "__set%d", NFT_SET_ANONYMOUS | NFT_SET_CONSTANT |
	    (interval ? NFT_SET_INTERVAL : 0), keytype, klen);
	id = nftnl_set_get_u32(s, NFTNL_SET_ID);
	nftnl_set_set_u32(s, NFTNL_SET_DESC_SIZE, (uint32_t)n);
	if (interval)
		push_intervals(&el, iv, n, klen);
	else
		for (i = 0; i < n; i++)
			el_push(&el, iv[i].lo, klen, 0);
	emit_set(k, s, &el, &rb->o);
	x_lookup(rb->r, "__set%d", id);
}

static void
match_addr(struct rb *rb, const struct addrset *s, unsigned fam, bool src)
{
	size_t klen = fam == FAM_V4 ? 4 : 16, n = kern_set_count(s, fam), i;
	uint32_t off = fam == FAM_V4 ? (src ? 12 : 16) : (src ? 8 : 24);
	char name[NAME_MAX_ + 8];
	uint8_t key[16], mask[16];
	unsigned plen = 0, b;
	struct kiv *iv;
	bool interval = false;

	if (n == 1 && !kern_set_is_named(s, fam)) {
		pfx_key(s, fam, 0, key, &plen);
		/* nft loads only the prefix's bytes when it ends on a byte
		 * boundary ("ip saddr 10.0.0.0/8": 1 byte, one cmp). */
		if (plen > 0 && plen < klen * 8 && plen % 8 == 0) {
			x_payload(rb->r, NFT_PAYLOAD_NETWORK_HEADER, off,
			    plen / 8);
			x_cmp(rb->r, NFT_CMP_EQ, key, plen / 8);
			return;
		}
	}
	x_payload(rb->r, NFT_PAYLOAD_NETWORK_HEADER, off, (uint32_t)klen);
	if (kern_set_is_named(s, fam)) {
		kern_set_name(s, fam, name, sizeof(name));
		x_lookup(rb->r, name, 0);
		return;
	}
	if (n == 1) {
		if (plen < klen * 8) {
			memset(mask, 0, sizeof(mask));
			for (b = 0; b < plen; b++)
				mask[b / 8] |= (uint8_t)(0x80u >> (b % 8));
			x_bitwise(rb->r, mask, (uint32_t)klen);
		}
		x_cmp(rb->r, NFT_CMP_EQ, key, (uint32_t)klen);
		return;
	}
	iv = xmalloc_(n * sizeof(*iv));
	for (i = 0; i < n; i++) {
		pfx_key(s, fam, i, iv[i].lo, &plen);
		memcpy(iv[i].end, iv[i].lo, klen);
		iv[i].end_over = key_add_block(iv[i].end, klen, plen);
		if (plen < klen * 8)
			interval = true;
	}
	/* nft makes an anonymous set an interval set only when an
	 * element is a prefix: "{ 10.0.0.1, 10.0.0.3 }" is not one. */
	rb_anon(rb, fam == FAM_V4 ? DT_IPADDR : DT_IP6ADDR, (uint32_t)klen,
	    iv, n, interval);
	free(iv);
}

static void
match_ports(struct rb *rb, bool src, const struct portset *p)
{
	struct kiv *iv;
	uint16_t lo, hi;
	size_t i;
	bool ranges = false;
	uint32_t end;

	if (p->n == 0)
		return;
	x_payload(rb->r, NFT_PAYLOAD_TRANSPORT_HEADER, src ? 0 : 2, 2);
	if (p->n == 1) {
		lo = htons(p->r[0].lo);
		hi = htons(p->r[0].hi);
		if (p->r[0].lo == p->r[0].hi)
			x_cmp(rb->r, NFT_CMP_EQ, &lo, 2);
		else {
			x_cmp(rb->r, NFT_CMP_GTE, &lo, 2);
			x_cmp(rb->r, NFT_CMP_LTE, &hi, 2);
		}
		return;
	}
	iv = xmalloc_(p->n * sizeof(*iv));
	for (i = 0; i < p->n; i++) {
		memset(&iv[i], 0, sizeof(iv[i]));
		iv[i].lo[0] = (uint8_t)(p->r[i].lo >> 8);
		iv[i].lo[1] = (uint8_t)p->r[i].lo;
		end = (uint32_t)p->r[i].hi + 1;
		iv[i].end_over = end > 0xffff;
		iv[i].end[0] = (uint8_t)(end >> 8);
		iv[i].end[1] = (uint8_t)end;
		if (p->r[i].lo != p->r[i].hi)
			ranges = true;
	}
	rb_anon(rb, DT_INET_SERVICE, 2, iv, p->n, ranges);
	free(iv);
}

static void
match_bytes(struct rb *rb, uint32_t keytype, const uint8_t *v, size_t n)
{
	struct kiv *iv = xmalloc_(n * sizeof(*iv));
	size_t i;

	for (i = 0; i < n; i++) {
		memset(&iv[i], 0, sizeof(iv[i]));
		iv[i].lo[0] = v[i];
	}
	rb_anon(rb, keytype, 1, iv, n, false);
	free(iv);
}

/* ct state: one state a bit test, several a set lookup, as nft does. */
static void
rb_ctstate(struct rb *rb, uint32_t bits)
{
	struct kiv iv[8];
	size_t n = 0;
	uint32_t bit;

	if ((bits & (bits - 1)) == 0) {
		x_ctstate(rb->r, bits);
		return;
	}
	x_ct(rb->r, NFT_CT_STATE);
	for (bit = 1; bit != 0 && n < 8; bit <<= 1)
		if (bits & bit) {
			memset(&iv[n], 0, sizeof(iv[n]));
			memcpy(iv[n].lo, &bit, 4);	/* host order */
			n++;
		}
	rb_anon(rb, DT_CT_STATE, 4, iv, n, false);
}

static uint32_t
ct_bits(unsigned st)
{
	uint32_t b = 0;

	if (st & CT_NEW)
		b |= CTB_NEW;
	if (st & CT_ESTABLISHED)
		b |= CTB_ESTABLISHED;
	if (st & CT_RELATED)
		b |= CTB_RELATED;
	if (st & CT_INVALID)
		b |= CTB_INVALID;
	if (st & CT_UNTRACKED)
		b |= CTB_UNTRACKED;
	return b;
}

static void
verdict(struct rb *rb, enum layer l, enum direction d, enum verdict v)
{
	const char *chain;

	switch (kern_nft_verdict(rb->k->m, l, d, v, &chain)) {
	case KERN_ACCEPT:
		x_verdict(rb->r, NF_ACCEPT, NULL);
		return;
	case KERN_DROP:
		x_verdict(rb->r, NF_DROP, NULL);
		return;
	case KERN_GOTO:
		x_verdict(rb->r, NFT_GOTO, chain);
		return;
	}
}

static const char *
rule_chain(const struct rule *r, char *buf, size_t n)
{
	snprintf(buf, n, "%s_%s", r->layer == LAYER_IP ? "ip" : "transport",
	    hook_name[r->dir]);
	return buf;
}

/* One kernel rule for family fam (0: both) and protocol variant pv, as
 * nftables.c's emit_one. */
static void
emit_one(struct nb *k, const struct rule *r, unsigned fam, unsigned pv,
    const char *logpfx, const char *comment)
{
	struct rb rb;
	struct nftnl_expr *e;
	char chain[32], name[64];
	unsigned af = fam != 0 ? fam : FAM_V4;

	rb_start(&rb, k, rule_chain(r, chain, sizeof(chain)), &r->loc,
	    comment);
	if (fam != 0) {
		x_meta(rb.r, NFT_META_NFPROTO);
		x_cmp8(rb.r, fam == FAM_V4 ? NFPROTO_IPV4 : NFPROTO_IPV6);
	}
	if (r->iface != NULL) {
		char ifn[16];
		size_t n;

		memset(ifn, 0, sizeof(ifn));
		snprintf(ifn, sizeof(ifn), "%s", r->iface);
		n = strlen(ifn);
		x_meta(rb.r, r->dir == DIR_OUT ? NFT_META_OIFNAME :
		    NFT_META_IIFNAME);
		if (n > 0 && ifn[n - 1] == '+')
			x_cmp(rb.r, NFT_CMP_EQ, ifn, (uint32_t)(n - 1));
		else
			x_cmp(rb.r, NFT_CMP_EQ, ifn, 16);
	}
	if (r->src != NULL)
		match_addr(&rb, r->src, af, true);
	if (r->dst != NULL)
		match_addr(&rb, r->dst, af, false);
	if (pv != 0) {
		unsigned char num[4];
		const char *pname[4];
		size_t n = kern_l4_list(pv, num, pname);

		x_meta(rb.r, NFT_META_L4PROTO);
		if (n == 1)
			x_cmp8(rb.r, num[0]);
		else
			match_bytes(&rb, DT_INET_PROTO, num, n);
	}
	if (pv & (PROTO_TCP | PROTO_UDP)) {
		match_ports(&rb, true, &r->sport);
		match_ports(&rb, false, &r->dport);
	}
	if (r->states != 0)
		rb_ctstate(&rb, ct_bits(r->states));
	if (r->conn.present) {
		if (r->conn.per_source) {
			x_payload(rb.r, NFT_PAYLOAD_NETWORK_HEADER,
			    af == FAM_V4 ? 12 : 8, af == FAM_V4 ? 4 : 16);
			kern_dyn_set_name("conn", r, af, name, sizeof(name));
			x_dynset(rb.r, NFT_DYNSET_OP_ADD, name,
			    x_connlimit(r->conn.over));
		} else
			x_add(rb.r, x_connlimit(r->conn.over));
	}
	if (r->limit.present) {
		if (r->limit.per != PER_NONE) {
			bool s = r->limit.per == PER_SOURCE;

			x_payload(rb.r, NFT_PAYLOAD_NETWORK_HEADER,
			    af == FAM_V4 ? (s ? 12 : 16) : (s ? 8 : 24),
			    af == FAM_V4 ? 4 : 16);
			kern_dyn_set_name("limit", r, af, name, sizeof(name));
			x_dynset(rb.r, NFT_DYNSET_OP_UPDATE, name,
			    x_limit(&r->limit));
		} else
			x_add(rb.r, x_limit(&r->limit));
	}
	if (r->log) {
		e = nftnl_expr_alloc("log");
		nftnl_expr_set_str(e, NFTNL_EXPR_LOG_PREFIX, logpfx);
		x_add(rb.r, e);
	}
	if (r->count)
		x_add(rb.r, nftnl_expr_alloc("counter"));
	verdict(&rb, r->layer, r->dir, r->action);
	rb_finish(&rb);
}

static void
emit_rule(struct nb *k, const struct rule *r)
{
	struct kern_nft_rule p;
	const char *why;
	size_t i;

	if (kern_nft_plan(k->m, r, &p, &why) < 0) {
		nb_error(k, &r->loc, "%s", why);
		return;
	}
	for (i = 0; i < p.npieces; i++)
		emit_one(k, r, p.pieces[i].fam, p.pieces[i].protos, p.logpfx,
		    p.comment);
}

/*
 * The queue rule of one inspect block, for connections in state bits st:
 * the first bytes of the streams go to the helper.  The SYN is queued
 * only in accept_input, after the layers allowed it: the helper's accept
 * ends the base chain, so queueing it earlier would let a connection the
 * layers deny through.
 */
static void
emit_inspect_queue(struct nb *k, const struct inspect *in,
    const char *chain, uint32_t st)
{
	struct nftnl_expr *e;
	struct rb rb;
	char where[300], c[340];
	uint32_t bytes;
	uint64_t be;
	int sh;
	uint8_t b8[8];

	if (in->mark == 0 || in->ports.n == 0)
		return;
	bytes = in->bytes != 0 ? in->bytes : 4096;
	kern_where(&in->loc, where, sizeof(where));
	snprintf(c, sizeof(c), "%s inspect queue", where);
	rb_start(&rb, k, chain, &in->loc, c);
	rb.o.queue = true;
	x_meta(rb.r, NFT_META_L4PROTO);
	x_cmp8(rb.r, IPPROTO_TCP);
	x_ctstate(rb.r, st);
	match_ports(&rb, false, &in->ports);
	e = nftnl_expr_alloc("ct");
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_BYTES);
	nftnl_expr_set_u8(e, NFTNL_EXPR_CT_DIR, 0 /* IP_CT_DIR_ORIGINAL */);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	x_add(rb.r, e);
	e = nftnl_expr_alloc("byteorder");
	nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_OP, NFT_BYTEORDER_HTON);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_LEN, 8);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_SIZE, 8);
	x_add(rb.r, e);
	be = bytes;
	for (sh = 7; sh >= 0; sh--) {
		b8[sh] = (uint8_t)be;
		be >>= 8;
	}
	x_cmp(rb.r, NFT_CMP_LT, b8, 8);
	e = nftnl_expr_alloc("queue");
	nftnl_expr_set_u16(e, NFTNL_EXPR_QUEUE_NUM, in->queue);
	nftnl_expr_set_u16(e, NFTNL_EXPR_QUEUE_TOTAL, 1);
	if (!in->fail_closed)
		nftnl_expr_set_u16(e, NFTNL_EXPR_QUEUE_FLAGS,
		    NFT_QUEUE_FLAG_BYPASS);
	x_add(rb.r, e);
	rb_finish(&rb);
}

static void
emit_inspect(struct nb *k)
{
	const struct model *m = k->m;
	const struct inspect *in;
	struct nftnl_expr *e;
	struct rb rb;
	char where[300], c[340];
	size_t i;

	for (i = 0; i < m->ninspect; i++) {
		in = &m->inspects[i];
		if (!kern_inspect_ok(m, in, k->err)) {
			k->nerr++;
			continue;
		}
		kern_where(&in->loc, where, sizeof(where));

		/* ct mark M: reset. */
		snprintf(c, sizeof(c), "%s inspect reset", where);
		rb_start(&rb, k, "input", &in->loc, c);
		x_meta(rb.r, NFT_META_L4PROTO);
		x_cmp8(rb.r, IPPROTO_TCP);
		x_ct(rb.r, NFT_CT_MARK);
		x_cmp(rb.r, NFT_CMP_EQ, &in->mark, 4);
		x_reject(rb.r, NFT_REJECT_TCP_RST, 0);
		rb_finish(&rb);

		/* meta mark M (the helper's verdict): remember, reset. */
		snprintf(c, sizeof(c), "%s inspect deny", where);
		rb_start(&rb, k, "input", &in->loc, c);
		x_meta(rb.r, NFT_META_L4PROTO);
		x_cmp8(rb.r, IPPROTO_TCP);
		x_meta(rb.r, NFT_META_MARK);
		x_cmp(rb.r, NFT_CMP_EQ, &in->mark, 4);
		e = nftnl_expr_alloc("immediate");
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_1);
		nftnl_expr_set(e, NFTNL_EXPR_IMM_DATA, &in->mark, 4);
		x_add(rb.r, e);
		e = nftnl_expr_alloc("ct");
		nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_MARK);
		nftnl_expr_set_u32(e, NFTNL_EXPR_CT_SREG, NFT_REG_1);
		x_add(rb.r, e);
		x_reject(rb.r, NFT_REJECT_TCP_RST, 0);
		rb_finish(&rb);

		emit_inspect_queue(k, in, "input", CTB_ESTABLISHED);
	}
}

static void
emit_prelude(struct nb *k, enum direction d)
{
	const struct prelude *p = &k->m->prelude;
	uint8_t icmp4[KERN_ICMP4_ESSENTIAL], icmp6[KERN_ICMP6_ESSENTIAL];
	const char *ch = hook_name[d];
	size_t i;
	struct rb rb;
	uint32_t one = 1;

	if (p->loopback && d != DIR_FORWARD) {
		rb_start(&rb, k, ch, NULL, "prelude loopback");
		x_meta(rb.r, d == DIR_IN ? NFT_META_IIF : NFT_META_OIF);
		x_cmp(rb.r, NFT_CMP_EQ, &one, 4);
		x_verdict(rb.r, NF_ACCEPT, NULL);
		rb_finish(&rb);
	}
	if (p->established) {
		rb_start(&rb, k, ch, NULL, "prelude established");
		rb_ctstate(&rb, CTB_ESTABLISHED | CTB_RELATED);
		x_verdict(rb.r, NF_ACCEPT, NULL);
		rb_finish(&rb);
	}
	if (p->drop_invalid) {
		rb_start(&rb, k, ch, NULL, "prelude invalid");
		x_ctstate(rb.r, CTB_INVALID);
		x_verdict(rb.r, NF_DROP, NULL);
		rb_finish(&rb);
	}
	if (p->essential_icmp) {
		rb_start(&rb, k, ch, NULL, "prelude essential icmp");
		x_meta(rb.r, NFT_META_L4PROTO);
		x_cmp8(rb.r, IPPROTO_ICMP);
		x_payload(rb.r, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1);
		for (i = 0; i < KERN_ICMP4_ESSENTIAL; i++)
			icmp4[i] = kern_icmp4_essential[i].type;
		match_bytes(&rb, DT_ICMP_TYPE, icmp4, sizeof(icmp4));
		x_verdict(rb.r, NF_ACCEPT, NULL);
		rb_finish(&rb);
		rb_start(&rb, k, ch, NULL, "prelude essential icmpv6");
		x_meta(rb.r, NFT_META_L4PROTO);
		x_cmp8(rb.r, IPPROTO_ICMPV6);
		x_payload(rb.r, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1);
		for (i = 0; i < KERN_ICMP6_ESSENTIAL; i++)
			icmp6[i] = kern_icmp6_essential[i].type;
		match_bytes(&rb, DT_ICMP6_TYPE, icmp6, sizeof(icmp6));
		x_verdict(rb.r, NF_ACCEPT, NULL);
		rb_finish(&rb);
	}
}

static void
emit_default(struct nb *k, enum layer l, enum direction d)
{
	const struct layer_defaults *def = &k->m->defaults[l];
	char where[300], raw[288], chain[32];
	struct rb rb;

	if (def->loc[d].file != NULL) {
		kern_where(&def->loc[d], raw, sizeof(raw));
		snprintf(where, sizeof(where), "%s default", raw);
	} else
		snprintf(where, sizeof(where), "built-in default");
	snprintf(chain, sizeof(chain), "%s_%s",
	    l == LAYER_IP ? "ip" : "transport", hook_name[d]);
	rb_start(&rb, k, chain, def->loc[d].file != NULL ? &def->loc[d] :
	    NULL, where);
	verdict(&rb, l, d, def->action[d]);
	rb_finish(&rb);
}

static void
emit_chain(struct nb *k, const char *name, int hook)
{
	struct nftnl_chain *c = nftnl_chain_alloc();
	struct nlmsghdr *nlh;
	struct nlorigin o;

	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, k->table);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, FAMILY);
	if (hook >= 0) {
		nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, (uint32_t)hook);
		nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, 0);
		nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "filter");
		nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	}
	origin(&o, NULL, "chain", name);
	nlh = nb_hdr(k->b, NFT_MSG_NEWCHAIN, NLM_F_CREATE, &o);
	nftnl_chain_nlmsg_build_payload(nlh, c);
	nb_done(k->b, nlh);
	if (k->v != NULL)
		nlview_add_chain(k->v, c);
	else
		nftnl_chain_free(c);
}

static void
table_msg(struct nlbatch *b, const char *table, uint16_t type,
    const struct nftnl_table *from)
{
	struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *nlh;
	struct nlorigin o;

	nftnl_table_set_str(t, NFTNL_TABLE_NAME, table);
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, FAMILY);
	if (from != NULL && nftnl_table_is_set(from, NFTNL_TABLE_FLAGS))
		nftnl_table_set_u32(t, NFTNL_TABLE_FLAGS,
		    nftnl_table_get_u32(from, NFTNL_TABLE_FLAGS));
	origin(&o, NULL, "table", table);
	nlh = nb_hdr(b, type, type == NFT_MSG_NEWTABLE ? NLM_F_CREATE : 0,
	    &o);
	nftnl_table_nlmsg_build_payload(nlh, t);
	nb_done(b, nlh);
	nftnl_table_free(t);
}

int
nlb_build(const struct model *m, uint32_t seq0, struct nlbatch *b,
    struct nlview *mine, FILE *err)
{
	struct nb k;
	char name[32];
	size_t i;
	int d, l;

	memset(&k, 0, sizeof(k));
	k.m = m;
	k.b = b;
	k.v = mine;
	k.err = err;
	if ((k.table = nlb_table(m, err)) == NULL)
		return 1;
	nb_begin(b, seq0);
	/* Create if missing, then delete: the delete cannot fail. */
	table_msg(b, k.table, NFT_MSG_NEWTABLE, NULL);
	table_msg(b, k.table, NFT_MSG_DELTABLE, NULL);
	table_msg(b, k.table, NFT_MSG_NEWTABLE, NULL);
	if (mine != NULL)
		mine->exists = true;
	for (d = 0; d < DIR_COUNT; d++)
		emit_chain(&k, hook_name[d], hook_num[d]);
	for (l = 0; l < LAYER_COUNT; l++)
		for (d = 0; d < DIR_COUNT; d++) {
			snprintf(name, sizeof(name), "%s_%s",
			    l == LAYER_IP ? "ip" : "transport", hook_name[d]);
			emit_chain(&k, name, -1);
		}
	emit_chain(&k, "refuse", -1);
	if (m->ninspect > 0)
		emit_chain(&k, "accept_input", -1);
	emit_named_sets(&k);
	emit_dyn_sets(&k);
	for (d = 0; d < DIR_COUNT; d++) {
		struct rb rb;

		if (d == DIR_IN)
			emit_inspect(&k);
		emit_prelude(&k, (enum direction)d);
		snprintf(name, sizeof(name), "ip_%s", hook_name[d]);
		rb_start(&rb, &k, hook_name[d], NULL, NULL);
		x_verdict(rb.r, NFT_GOTO, name);
		rb_finish(&rb);
	}
	for (l = 0; l < LAYER_COUNT; l++)
		for (d = 0; d < DIR_COUNT; d++) {
			for (i = 0; i < m->nrules; i++)
				if (m->rules[i].layer == (enum layer)l &&
				    m->rules[i].dir == (enum direction)d)
					emit_rule(&k, &m->rules[i]);
			emit_default(&k, (enum layer)l, (enum direction)d);
		}
	{
		struct rb rb;

		rb_start(&rb, &k, "refuse", NULL, NULL);
		x_meta(rb.r, NFT_META_L4PROTO);
		x_cmp8(rb.r, IPPROTO_TCP);
		x_reject(rb.r, NFT_REJECT_TCP_RST, 0);
		rb_finish(&rb);
		rb_start(&rb, &k, "refuse", NULL, NULL);
		x_reject(rb.r, NFT_REJECT_ICMPX_UNREACH,
		    NFT_REJECT_ICMPX_PORT_UNREACH);
		rb_finish(&rb);
		if (m->ninspect > 0) {
			for (i = 0; i < m->ninspect; i++)
				emit_inspect_queue(&k, &m->inspects[i],
				    "accept_input", CTB_NEW);
			rb_start(&rb, &k, "accept_input", NULL, NULL);
			x_verdict(rb.r, NF_ACCEPT, NULL);
			rb_finish(&rb);
		}
	}
	nb_end(b);
	return k.nerr;
}

/* ------------------------------------------------------------------ */
/* Restore: the running table as it was read.                          */

/* A nested dynset expression rebuilt from its attributes. */
static struct nftnl_expr *
inner_copy(const struct nftnl_expr *x)
{
	const char *name = nftnl_expr_get_str(x, NFTNL_EXPR_NAME);
	struct nftnl_expr *e = nftnl_expr_alloc(name);
	uint16_t a;

	if (strcmp(name, "limit") == 0) {
		for (a = NFTNL_EXPR_LIMIT_RATE; a <= NFTNL_EXPR_LIMIT_FLAGS;
		    a++)
			if (nftnl_expr_is_set(x, a)) {
				uint32_t len;
				const void *p = nftnl_expr_get(x, a, &len);

				nftnl_expr_set(e, a, p, len);
			}
	} else if (strcmp(name, "connlimit") == 0) {
		for (a = NFTNL_EXPR_CONNLIMIT_COUNT;
		    a <= NFTNL_EXPR_CONNLIMIT_FLAGS; a++)
			if (nftnl_expr_is_set(x, a))
				nftnl_expr_set_u32(e, a,
				    nftnl_expr_get_u32(x, a));
	} else if (strcmp(name, "counter") != 0) {
		nftnl_expr_free(e);
		return NULL;
	}
	return e;
}

/*
 * The kernel reports a dynset without timeout as "timeout 0", and
 * refuses that attribute on a set without timeouts: rebuild such
 * dynsets without it.  Other expressions move over unchanged.
 */
static struct nftnl_rule *
rule_for_restore(struct nftnl_rule *r)
{
	static const uint16_t ra[] = { NFTNL_RULE_TABLE, NFTNL_RULE_CHAIN,
	    NFTNL_RULE_FAMILY, NFTNL_RULE_USERDATA, NFTNL_RULE_COMPAT_PROTO,
	    NFTNL_RULE_COMPAT_FLAGS };
	struct nftnl_rule *n = nftnl_rule_alloc();
	struct nftnl_expr_iter *it;
	struct nftnl_expr *e, *d, *in = NULL;
	uint32_t len;
	const void *p;
	size_t i;

	for (i = 0; i < sizeof(ra) / sizeof(ra[0]); i++)
		if (nftnl_rule_is_set(r, ra[i])) {
			p = nftnl_rule_get_data(r, ra[i], &len);
			nftnl_rule_set_data(n, ra[i], p, len);
		}
	it = nftnl_expr_iter_create(r);
	while ((e = nftnl_expr_iter_next(it)) != NULL) {
		if (strcmp(nftnl_expr_get_str(e, NFTNL_EXPR_NAME),
		    "dynset") == 0 && nftnl_expr_is_set(e,
		    NFTNL_EXPR_DYNSET_TIMEOUT) && nftnl_expr_get_u64(e,
		    NFTNL_EXPR_DYNSET_TIMEOUT) == 0 &&
		    (!nftnl_expr_is_set(e, NFTNL_EXPR_DYNSET_EXPR) ||
		    (in = inner_copy(nftnl_expr_get(e, NFTNL_EXPR_DYNSET_EXPR,
		    &len))) != NULL)) {
			d = nftnl_expr_alloc("dynset");
			nftnl_expr_set_u32(d, NFTNL_EXPR_DYNSET_SREG_KEY,
			    nftnl_expr_get_u32(e, NFTNL_EXPR_DYNSET_SREG_KEY));
			nftnl_expr_set_u32(d, NFTNL_EXPR_DYNSET_OP,
			    nftnl_expr_get_u32(e, NFTNL_EXPR_DYNSET_OP));
			nftnl_expr_set_str(d, NFTNL_EXPR_DYNSET_SET_NAME,
			    nftnl_expr_get_str(e, NFTNL_EXPR_DYNSET_SET_NAME));
			if (nftnl_expr_is_set(e, NFTNL_EXPR_DYNSET_SREG_DATA))
				nftnl_expr_set_u32(d,
				    NFTNL_EXPR_DYNSET_SREG_DATA,
				    nftnl_expr_get_u32(e,
				    NFTNL_EXPR_DYNSET_SREG_DATA));
			if (nftnl_expr_is_set(e, NFTNL_EXPR_DYNSET_EXPR))
				nftnl_expr_set(d, NFTNL_EXPR_DYNSET_EXPR, in, 0);
			nftnl_rule_add_expr(n, d);
			continue;
		}
		nftnl_rule_del_expr(e);
		nftnl_rule_add_expr(n, e);
	}
	nftnl_expr_iter_destroy(it);
	nftnl_rule_free(r);
	return n;
}

int
nlb_restore(struct nlview *v, uint32_t seq0, struct nlbatch *b)
{
	struct nlmsghdr *nlh;
	struct nftnl_chain *c;
	struct nftnl_set *s, *chunk;
	struct nftnl_set_elem *e;
	struct nftnl_rule *r;
	struct nlorigin o;
	size_t i, j, n;

	nb_begin(b, seq0);
	table_msg(b, v->table, NFT_MSG_NEWTABLE, NULL);
	table_msg(b, v->table, NFT_MSG_DELTABLE, NULL);
	if (v->exists) {
		table_msg(b, v->table, NFT_MSG_NEWTABLE, v->t);
		for (i = 0; i < v->nchains; i++) {
			c = v->chains[i].c;
			nftnl_chain_unset(c, NFTNL_CHAIN_HANDLE);
			nftnl_chain_unset(c, NFTNL_CHAIN_USE);
			nftnl_chain_unset(c, NFTNL_CHAIN_ID);
			origin(&o, NULL, "chain", v->chains[i].name);
			nlh = nb_hdr(b, NFT_MSG_NEWCHAIN, NLM_F_CREATE, &o);
			nftnl_chain_nlmsg_build_payload(nlh, c);
			nb_done(b, nlh);
		}
		for (i = 0; i < v->nsets; i++) {
			s = v->sets[i].set;
			nftnl_set_unset(s, NFTNL_SET_HANDLE);
			nftnl_set_set_u32(s, NFTNL_SET_ID, (uint32_t)i + 1);
			origin(&o, NULL, "set", v->sets[i].name);
			nlh = nb_hdr(b, NFT_MSG_NEWSET, NLM_F_CREATE, &o);
			nftnl_set_nlmsg_build_payload(nlh, s);
			nb_done(b, nlh);
			/* Dynamic sets' elements are run-time state. */
			if (v->sets[i].flags & NFT_SET_EVAL)
				continue;
			for (j = 0; j < v->sets[i].n;) {
				chunk = nftnl_set_alloc();
				nftnl_set_set_str(chunk, NFTNL_SET_TABLE,
				    v->table);
				nftnl_set_set_str(chunk, NFTNL_SET_NAME,
				    v->sets[i].name);
				nftnl_set_set_u32(chunk, NFTNL_SET_FAMILY,
				    FAMILY);
				nftnl_set_set_u32(chunk, NFTNL_SET_ID,
				    (uint32_t)i + 1);
				for (n = 0; j < v->sets[i].n &&
				    n < ELEMS_PER_MSG; n++, j++) {
					const struct nlelem *x =
					    &v->sets[i].e[j];

					e = nftnl_set_elem_alloc();
					nftnl_set_elem_set(e,
					    NFTNL_SET_ELEM_KEY, x->key, x->len);
					if (x->flags != 0)
						nftnl_set_elem_set_u32(e,
						    NFTNL_SET_ELEM_FLAGS,
						    x->flags);
					nftnl_set_elem_add(chunk, e);
				}
				nlh = nb_hdr(b, NFT_MSG_NEWSETELEM,
				    NLM_F_CREATE, &o);
				nftnl_set_elems_nlmsg_build_payload(nlh, chunk);
				nb_done(b, nlh);
				nftnl_set_free(chunk);
			}
		}
		for (i = 0; i < v->nrules; i++) {
			r = v->rules[i].r = rule_for_restore(v->rules[i].r);
			nftnl_rule_unset(r, NFTNL_RULE_HANDLE);
			nftnl_rule_unset(r, NFTNL_RULE_POSITION);
			nftnl_rule_unset(r, NFTNL_RULE_ID);
			origin(&o, NULL, "rule", v->rules[i].chain);
			nlh = nb_hdr(b, NFT_MSG_NEWRULE, NLM_F_APPEND |
			    NLM_F_CREATE, &o);
			nftnl_rule_nlmsg_build_payload(nlh, r);
			nb_done(b, nlh);
		}
	}
	nb_end(b);
	return 0;
}
