/*
 * fuzz_queued.c - libFuzzer target over xmppfw-queued's parsers: the
 * stream header, the ClientHello SNI, the configuration file, and the
 * decision over a flow's first bytes fed in random segments.
 *
 *   make build/fuzz/fuzz_queued && build/fuzz/fuzz_queued tests/fuzz/corpus
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "flow.h"
#include "parse.h"
#include "qconf.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct qconf *rules;

static void
init(void)
{
	static const char conf[] =
	    "xmppfw-queued-config 1\ninspect s2s\nqueue 1\nports 5269\n"
	    "fail open\nmark 1\nbytes 4096\n"
	    "rule allow string 3c70726f63656564\n"
	    "rule deny domains 2\ndomain spam.example\ndomain a\n"
	    "rule reject string 3c736372697074\n"
	    "default allow\nend\nend-config\n";
	char err[256];

	rules = qconf_parse(conf, sizeof(conf) - 1, "fuzz", NULL, err,
	    sizeof(err));
	if (rules == NULL)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stream_header h;
	struct decision d;
	struct flowtab t;
	struct pkt p;
	struct qconf *qc;
	char sni[DOMAIN_MAX], err[256];
	size_t off, n;
	uint32_t seq = 1000;

	if (rules == NULL)
		init();
	stream_header_parse(data, size, &h);
	tls_sni_parse(data, size, sni, sizeof(sni));
	flow_decide(&rules->inspects[0], data, size, false, &d);
	flow_decide(&rules->inspects[0], data, size, true, &d);
	qc = qconf_parse((const char *)data, size, "fuzz", "/nonexistent",
	    err, sizeof(err));
	qconf_free(qc);

	/* The same bytes as a TCP flow, in segments the data chooses. */
	if (flowtab_init(&t, 4, 1 << 16, 1000) != 0)
		return 0;
	memset(&p, 0, sizeof(p));
	p.key.family = 4;
	p.key.queue = 1;
	p.syn = true;
	p.seq = seq - 1;
	flow_packet(&t, &rules->inspects[0], &p, 0);
	p.syn = false;
	p.ack = true;
	for (off = 0; off < size; off += n) {
		n = 1 + data[off] % 97;
		if (n > size - off)
			n = size - off;
		p.seq = seq + (uint32_t)off - (data[off] & 1u) * 3u;
		p.data = data + off;
		p.dlen = n;
		p.iplen = (uint32_t)(52 + n);
		flow_packet(&t, &rules->inspects[0], &p, off);
	}
	flowtab_free(&t);
	return 0;
}
