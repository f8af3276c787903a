/*
 * xep0016.c - the xep0016 backend: XEP-0016 privacy lists as IQ stanzas.
 *
 * One <iq type="set"> per list, each with the complete list (servers
 * replace a list whole; a delta would lose items), then one IQ for the
 * default list and one for the active list, in that order: a server
 * refuses a default that names a list it does not have yet.  The format
 * of the file is described in xmppxml.h.
 */
#include <stdio.h>
#include <stdlib.h>

#include "backend.h"
#include "xmppxml.h"

static int
xep0016_emit(const struct model *m, FILE *out, FILE *err)
{
	xmlDocPtr doc;
	xmlNodePtr root, iq;
	const struct privacy_list *l;
	const char *def = NULL, *act = NULL;
	char id[32];
	size_t i, n = 0, len;
	int errors;

	if ((errors = xep0016_check(m, err)) != 0)
		return errors;
	doc = stz_artefact_new(m, &root);
	for (i = 0; i < m->nlists; i++) {
		l = &m->lists[i];
		stz_iq_id(id, sizeof(id), "privacy", ++n);
		iq = stz_iq_new(doc, root, "set", id);
		xep0016_add_list(iq, l);
		free(stz_node_string(iq, &len));
		if (len > STZ_WARN_BYTES)
			stz_diag(err, &l->loc, "warning", "list \"%s\" is "
			    "%zu bytes as a stanza (more than %d); servers "
			    "may refuse it", l->name, len, STZ_WARN_BYTES);
		if (l->is_default)
			def = l->name;
		if (l->is_active)
			act = l->name;
	}
	if (def != NULL) {
		stz_iq_id(id, sizeof(id), "privacy", ++n);
		xep0016_add_default(stz_iq_new(doc, root, "set", id), def);
	}
	if (act != NULL) {
		stz_iq_id(id, sizeof(id), "privacy", ++n);
		xep0016_add_active(stz_iq_new(doc, root, "set", id), act);
	}
	if (stz_doc_write(doc, out) != 0) {
		stz_diag(err, NULL, "error", "cannot write the stanzas");
		errors++;
	}
	xmlFreeDoc(doc);
	return errors;
}

const struct backend backend_xep0016 = {
	"xep0016",
	"xep0016.xml",
	"XEP-0016 privacy lists, one <iq type='set'> per list, then default/active",
	xep0016_emit,
};
