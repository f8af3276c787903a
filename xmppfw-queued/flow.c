/*
 * flow.c - flow table, in-order reassembly of the first bytes, and the
 * first-match decision over an inspect block's rules.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow.h"

/* A packet this close to "bytes" may be the last one the kernel queues. */
#define LAST_PACKET_SLACK	1500

static uint64_t
key_hash(const struct flowkey *k)
{
	const uint8_t *p = (const uint8_t *)k;
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < sizeof(*k); i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

int
flowtab_init(struct flowtab *t, size_t maxflows, size_t maxbytes,
    uint64_t timeout_ms)
{
	memset(t, 0, sizeof(*t));
	t->max = maxflows ? maxflows : 1;
	t->maxbytes = maxbytes;
	t->timeout = timeout_ms;
	for (t->nbucket = 64; t->nbucket < t->max; t->nbucket *= 2)
		;
	if ((t->bucket = calloc(t->nbucket, sizeof(*t->bucket))) == NULL)
		return -1;
	return 0;
}

static void
flow_release_buf(struct flowtab *t, struct flow *f)
{
	t->st.bytes_buffered -= f->cap;
	free(f->buf);
	f->buf = NULL;
	f->len = f->cap = 0;
}

static void
flow_remove(struct flowtab *t, struct flow *f)
{
	struct flow **pp;

	pp = &t->bucket[key_hash(&f->key) & (t->nbucket - 1)];
	while (*pp != f)
		pp = &(*pp)->hnext;
	*pp = f->hnext;
	if (f->prev)
		f->prev->next = f->next;
	else
		t->oldest = f->next;
	if (f->next)
		f->next->prev = f->prev;
	else
		t->newest = f->prev;
	flow_release_buf(t, f);
	free(f);
	t->st.tracked--;
}

void
flowtab_free(struct flowtab *t)
{
	while (t->oldest != NULL)
		flow_remove(t, t->oldest);
	free(t->bucket);
	t->bucket = NULL;
}

void
flowtab_expire(struct flowtab *t, uint64_t now)
{
	while (t->oldest != NULL && now - t->oldest->last > t->timeout) {
		flow_remove(t, t->oldest);
		t->st.expired++;
	}
}

static struct flow *
flow_lookup(struct flowtab *t, const struct flowkey *k)
{
	struct flow *f;

	f = t->bucket[key_hash(k) & (t->nbucket - 1)];
	for (; f != NULL; f = f->hnext)
		if (memcmp(&f->key, k, sizeof(*k)) == 0)
			return f;
	return NULL;
}

static void
flow_touch(struct flowtab *t, struct flow *f, uint64_t now)
{
	f->last = now;
	if (t->newest == f)
		return;
	/* Unlink, then append as the newest. */
	if (f->prev)
		f->prev->next = f->next;
	else
		t->oldest = f->next;
	if (f->next)
		f->next->prev = f->prev;
	f->prev = t->newest;
	f->next = NULL;
	if (t->newest)
		t->newest->next = f;
	t->newest = f;
	if (t->oldest == NULL)
		t->oldest = f;
}

static struct flow *
flow_create(struct flowtab *t, const struct flowkey *k, uint64_t now)
{
	struct flow *f;
	size_t h;

	flowtab_expire(t, now);
	if (t->st.tracked >= t->max)
		return NULL;
	if ((f = calloc(1, sizeof(*f))) == NULL)
		return NULL;
	f->key = *k;
	h = key_hash(k) & (t->nbucket - 1);
	f->hnext = t->bucket[h];
	t->bucket[h] = f;
	f->prev = t->newest;
	if (t->newest)
		t->newest->next = f;
	t->newest = f;
	if (t->oldest == NULL)
		t->oldest = f;
	f->last = now;
	t->st.tracked++;
	t->st.flows++;
	return f;
}

/* Append in-order payload; -1 when the budget or the cap is reached. */
static int
flow_append(struct flowtab *t, struct flow *f, const uint8_t *d, size_t n,
    uint32_t cap)
{
	uint32_t ncap;
	uint8_t *nb;

	if (n > cap - f->len)
		n = cap - f->len;
	if (n == 0)
		return f->len >= cap ? -1 : 0;
	if (f->len + n > f->cap) {
		ncap = f->cap ? f->cap : 512;
		while (ncap < f->len + n)
			ncap *= 2;
		if (ncap > cap)
			ncap = cap;
		if (t->st.bytes_buffered - f->cap + ncap > t->maxbytes)
			return -1;
		if ((nb = realloc(f->buf, ncap)) == NULL)
			return -1;
		t->st.bytes_buffered += ncap - f->cap;
		f->buf = nb;
		f->cap = ncap;
	}
	memcpy(f->buf + f->len, d, n);
	f->len += (uint32_t)n;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Decision                                                             */

struct facts {
	bool		 names_known;	/* header or ClientHello complete */
	const char	*name[3];
	const char	*namewhy[3];
	size_t		 nname;
	const uint8_t	*clear;		/* cleartext to search */
	size_t		 clearlen;
	bool		 closed;	/* no more cleartext will come */
};

static const uint8_t *
find_bytes(const uint8_t *h, size_t hl, const uint8_t *n, size_t nl)
{
	return memmem(h, hl, n, nl);
}

int
flow_decide(const struct qinspect *qi, const uint8_t *buf, size_t len,
    bool closed, struct decision *d)
{
	static const uint8_t starttls[] = "<starttls";
	struct stream_header h;
	char sni[DOMAIN_MAX];
	struct facts fx;
	const uint8_t *st;
	enum presult pr;
	bool pend_set = false, pend_mixed = false;
	enum qaction pend_action = QA_ALLOW;
	size_t i, k;

	memset(&fx, 0, sizeof(fx));
	memset(d, 0, sizeof(*d));
	fx.closed = closed;
	if (len == 0) {
		fx.names_known = closed;
	} else if (tls_looks_like(buf, len)) {
		/* Direct TLS: no cleartext at all, only the SNI. */
		pr = tls_sni_parse(buf, len, sni, sizeof(sni));
		if (pr != PR_MORE) {
			fx.names_known = true;
			fx.closed = true;
			if (pr == PR_OK && sni[0] != '\0') {
				fx.name[fx.nname] = sni;
				fx.namewhy[fx.nname++] = "sni";
			}
		}
	} else {
		fx.clear = buf;
		fx.clearlen = len;
		st = find_bytes(buf, len, starttls, sizeof(starttls) - 1);
		if (st != NULL) {
			fx.clearlen = (size_t)(st - buf);
			fx.closed = true;
		}
		pr = stream_header_parse(buf, len, &h);
		if (pr != PR_MORE || fx.closed)
			fx.names_known = true;
		if (pr == PR_OK) {
			if (h.from[0] != '\0') {
				fx.name[fx.nname] = h.from;
				fx.namewhy[fx.nname++] = "from";
			}
			if (h.to[0] != '\0') {
				fx.name[fx.nname] = h.to;
				fx.namewhy[fx.nname++] = "to";
			}
		}
	}
	/*
	 * First match decides.  A string rule that has not matched yet but
	 * still could (more cleartext may come) is pending; a later rule
	 * that matches can decide only when every pending rule before it
	 * would give the same action.
	 */
	for (i = 0; i < qi->nrules; i++) {
		const struct qrule *r = &qi->rules[i];
		bool match = false;

		if (r->match == QM_DOMAIN) {
			if (!fx.names_known)
				return 0;
			for (k = 0; k < fx.nname && !match; k++)
				if (domset_match(&r->domains, fx.name[k],
				    strlen(fx.name[k]))) {
					match = true;
					d->why = fx.namewhy[k];
					snprintf(d->name, sizeof(d->name), "%s",
					    fx.name[k]);
				}
		} else {
			if (fx.clear != NULL && find_bytes(fx.clear,
			    fx.clearlen, r->sig, r->siglen) != NULL) {
				match = true;
				d->why = "string";
			} else if (!fx.closed) {
				if (pend_set && pend_action != r->action)
					pend_mixed = true;
				pend_set = true;
				pend_action = r->action;
			}
		}
		if (match) {
			if (pend_set && (pend_mixed ||
			    pend_action != r->action))
				return 0;
			d->action = r->action;
			d->rule = (int)i;
			return 1;
		}
	}
	if (pend_set && (pend_mixed || pend_action != qi->def))
		return 0;
	if (!fx.names_known && !fx.closed && qi->nrules > 0)
		return 0;
	d->action = qi->def;
	d->rule = -1;
	d->why = "default";
	return 1;
}

enum pverdict
flow_packet(struct flowtab *t, const struct qinspect *qi,
    const struct pkt *p, uint64_t now)
{
	struct decision d;
	struct flow *f;
	uint32_t cap, off;
	bool closed = false, overflow = false;
	enum pverdict v;

	t->st.packets++;
	if ((f = flow_lookup(t, &p->key)) == NULL) {
		if (!p->syn || p->ack || p->rst) {
			/* Started before us, or a stray: not inspected. */
			t->st.midstream++;
			return PV_ACCEPT;
		}
		if ((f = flow_create(t, &p->key, now)) == NULL) {
			t->st.table_full++;
			return qi->fail_closed ? PV_DENY : PV_ACCEPT;
		}
		f->next_seq = p->seq + 1;
	}
	flow_touch(t, f, now);
	f->ipbytes += p->iplen;
	if (f->state != FS_INSPECT) {
		v = f->state == FS_DENIED ? PV_DENY : PV_ACCEPT;
		goto out;
	}
	if (p->dlen > 0) {
		off = f->next_seq - p->seq;	/* bytes already seen */
		if ((int32_t)off < 0) {
			/* A gap: have the client send it again in order. */
			t->st.out_of_order++;
			return PV_DROP;
		}
		if (off < p->dlen) {
			cap = qi->bytes;
			if (flow_append(t, f, p->data + off, p->dlen - off,
			    cap) == -1)
				overflow = true;
			f->next_seq = p->seq + (uint32_t)p->dlen;
		}
	}
	if (overflow || f->len >= qi->bytes || p->fin || p->rst ||
	    f->ipbytes + LAST_PACKET_SLACK > qi->bytes)
		closed = true;
	if (!flow_decide(qi, f->buf, f->len, closed, &d)) {
		v = PV_ACCEPT;
		goto out;
	}
	f->state = d.action == QA_ALLOW ? FS_ALLOWED : FS_DENIED;
	if (f->state == FS_DENIED)
		t->st.denied++;
	else
		t->st.allowed++;
	if (t->log != NULL)
		t->log(t->logarg, f, qi, &d);
	flow_release_buf(t, f);
	v = f->state == FS_DENIED ? PV_DENY : PV_ACCEPT;
out:
	if (v == PV_DENY)
		t->st.deny_packets++;
	if (p->fin || p->rst)
		flow_remove(t, f);
	return v;
}
