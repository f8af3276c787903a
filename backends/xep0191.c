/*
 * xep0191.c - the xep0191 backend: XEP-0191 blocking command.
 *
 * One <iq type="set"><block> with every blocked JID, sorted: blocking
 * is idempotent on the server, so the complete set is the artefact.
 * With no blocked JID there is no stanza (<block/> with no item is
 * invalid).  "xmppfwc push" computes the unblock side itself.
 */
#include <stdio.h>

#include "backend.h"
#include "xmppxml.h"

static int
xep0191_emit(const struct model *m, FILE *out, FILE *err)
{
	xmlDocPtr doc;
	xmlNodePtr root, iq;
	char id[32];
	int errors;

	if ((errors = xep0191_check(m, err)) != 0)
		return errors;
	doc = stz_artefact_new(m, &root);
	if (m->block.n > 0) {
		stz_iq_id(id, sizeof(id), "block", 1);
		iq = stz_iq_new(doc, root, "set", id);
		xep0191_add_items(iq, "block",
		    (const char *const *)m->block.jids, m->block.n);
	}
	if (stz_doc_write(doc, out) != 0) {
		stz_diag(err, NULL, "error", "cannot write the stanzas");
		errors++;
	}
	xmlFreeDoc(doc);
	return errors;
}

const struct backend backend_xep0191 = {
	"xep0191",
	"xep0191.xml",
	"XEP-0191 blocking command, one <iq type='set'><block>",
	xep0191_emit,
};
