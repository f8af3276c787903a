/*
 * flow.h - the flow table and the per-flow decision.
 *
 * A flow is one TCP connection seen on a queue, keyed by its 5-tuple and
 * queue number.  While it is being inspected, the first bytes the client
 * sends are reassembled in order into a bounded buffer; as soon as the
 * rules of its inspect block can decide, the buffer is freed and only the
 * verdict is kept until the connection ends or idles out.  The table has
 * a fixed number of slots and a byte budget for buffers.
 *
 * No libnetfilter_queue here: main.c feeds packets, the tests feed bytes.
 */
#ifndef QUEUED_FLOW_H
#define QUEUED_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parse.h"
#include "qconf.h"

struct flowkey {
	uint8_t		family;		/* 4 or 6 */
	uint8_t		pad;
	uint16_t	queue;
	uint16_t	sport, dport;	/* host byte order */
	uint8_t		src[16], dst[16];
};

enum fstate {
	FS_INSPECT,
	FS_ALLOWED,
	FS_DENIED,
};

struct flow {
	struct flowkey	 key;
	struct flow	*hnext;			/* hash chain */
	struct flow	*prev, *next;		/* LRU, oldest first */
	uint64_t	 last;			/* ms, last packet */
	enum fstate	 state;
	uint32_t	 next_seq;		/* next in-order byte */
	uint32_t	 ipbytes;		/* original direction, like connbytes */
	uint8_t		*buf;			/* reassembled payload */
	uint32_t	 len, cap;
};

/* Verdicts for one packet. */
enum pverdict {
	PV_ACCEPT,
	PV_DENY,			/* NF_REPEAT with the mark */
	PV_DROP,			/* out of order while inspecting */
};

/* What a decision was based on, for the log. */
struct decision {
	enum qaction	 action;
	int		 rule;		/* index, or -1 for the default */
	const char	*why;		/* "from", "to", "sni", "string", ... */
	char		 name[DOMAIN_MAX];
};

struct fstats {
	uint64_t	packets;
	uint64_t	flows;			/* flows created */
	uint64_t	allowed, denied;	/* flows decided */
	uint64_t	deny_packets;
	uint64_t	midstream;		/* no SYN seen: not inspected */
	uint64_t	table_full;
	uint64_t	expired;
	uint64_t	out_of_order;
	uint64_t	malformed;		/* packets main.c could not parse */
	uint64_t	bytes_buffered;		/* now */
	uint64_t	tracked;		/* now */
};

typedef void	(*flow_logfn)(void *, const struct flow *,
		    const struct qinspect *, const struct decision *);

struct flowtab {
	size_t		 max;			/* flows */
	size_t		 maxbytes;		/* buffer budget */
	uint64_t	 timeout;		/* ms idle */
	size_t		 nbucket;
	struct flow	**bucket;
	struct flow	*oldest, *newest;
	struct fstats	 st;
	flow_logfn	 log;
	void		*logarg;
};

struct pkt {
	struct flowkey	 key;
	bool		 syn, ack, fin, rst;
	uint32_t	 seq;
	const uint8_t	*data;
	size_t		 dlen;
	uint32_t	 iplen;
};

int		 flowtab_init(struct flowtab *, size_t maxflows,
		    size_t maxbytes, uint64_t timeout_ms);
void		 flowtab_free(struct flowtab *);
void		 flowtab_expire(struct flowtab *, uint64_t now);

/* One packet of a flow on an inspect block's queue. */
enum pverdict	 flow_packet(struct flowtab *, const struct qinspect *,
		    const struct pkt *, uint64_t now);

/*
 * Decide from what the flow has sent so far.  closed: no more cleartext
 * will be seen.  Returns 1 with *d filled, 0 when more bytes are needed.
 */
int		 flow_decide(const struct qinspect *, const uint8_t *buf,
		    size_t len, bool closed, struct decision *d);

#endif
