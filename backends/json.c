/*
 * json.c - the compiled model as JSON (-t json), for other tools.
 *
 * The layout mirrors model.h one to one; strings go through the one
 * JSON escaper (util/jsonout.c).  Sets are written once, rules refer to
 * them by index.
 */
#include <stdio.h>

#include "backend.h"
#include "jsonout.h"

static void
loc(FILE *f, const struct srcloc *l)
{
	if (l->file == NULL) {
		fputs("null", f);
		return;
	}
	fputs("{\"file\":", f);
	json_string(f, l->file);
	fprintf(f, ",\"line\":%d,\"col\":%d}", l->line, l->col);
}

static void
str_or_null(FILE *f, const char *s)
{
	if (s == NULL)
		fputs("null", f);
	else
		json_string(f, s);
}

static void
ports(FILE *f, const struct portset *p)
{
	size_t i;

	putc('[', f);
	for (i = 0; i < p->n; i++)
		fprintf(f, "%s[%u,%u]", i ? "," : "", p->r[i].lo, p->r[i].hi);
	putc(']', f);
}

static void
bits(FILE *f, unsigned mask, const char *const *names, unsigned n)
{
	unsigned i;
	bool first = true;

	putc('[', f);
	for (i = 0; i < n; i++) {
		if (mask & (1u << i)) {
			fprintf(f, "%s\"%s\"", first ? "" : ",", names[i]);
			first = false;
		}
	}
	putc(']', f);
}

static const char *const proto_names[] = { "tcp", "udp", "icmp", "icmpv6" };
static const char *const state_names[] = { "new", "established", "related",
    "invalid", "untracked" };
static const char *const fam_names[] = { "ipv4", "ipv6" };
static const char *const stanza_names[] = { "iq", "message", "presence-in",
    "presence-out" };
static const char *const per_names[] = { "none", "source", "destination" };

static void
sets(FILE *f, const struct model *m)
{
	char buf[PFX_STRLEN];
	size_t i, k;

	fputs("\"sets\":[", f);
	for (i = 0; i < m->nsets; i++) {
		const struct addrset *s = m->sets[i];

		fprintf(f, "%s\n {\"id\":%zu,\"name\":", i ? "," : "", s->id);
		str_or_null(f, s->name);
		fputs(",\"loc\":", f);
		loc(f, &s->loc);
		fputs(",\"ipv4\":[", f);
		for (k = 0; k < s->n4; k++)
			fprintf(f, "%s\"%s\"", k ? "," : "",
			    pfx4_format(&s->v4[k], buf, sizeof(buf)));
		fputs("],\"ipv6\":[", f);
		for (k = 0; k < s->n6; k++)
			fprintf(f, "%s\"%s\"", k ? "," : "",
			    pfx6_format(&s->v6[k], buf, sizeof(buf)));
		fputs("]}", f);
	}
	fputs("],\n", f);
}

static void
rules(FILE *f, const struct model *m)
{
	size_t i;

	fputs("\"rules\":[", f);
	for (i = 0; i < m->nrules; i++) {
		const struct rule *r = &m->rules[i];

		fprintf(f, "%s\n {\"id\":%zu,\"layer\":\"%s\",\"dir\":\"%s\","
		    "\"action\":\"%s\",\"loc\":", i ? "," : "", r->id,
		    layer_name(r->layer), direction_name(r->dir),
		    verdict_name(r->action));
		loc(f, &r->loc);
		fputs(",\"families\":", f);
		bits(f, r->families, fam_names, 2);
		fputs(",\"iface\":", f);
		str_or_null(f, r->iface);
		fputs(",\"protos\":", f);
		bits(f, r->protos, proto_names, 4);
		fputs(",\"src\":", f);
		if (r->src != NULL)
			fprintf(f, "%zu", r->src->id);
		else
			fputs("null", f);
		fputs(",\"dst\":", f);
		if (r->dst != NULL)
			fprintf(f, "%zu", r->dst->id);
		else
			fputs("null", f);
		fputs(",\"sport\":", f);
		ports(f, &r->sport);
		fputs(",\"dport\":", f);
		ports(f, &r->dport);
		fputs(",\"states\":", f);
		bits(f, r->states, state_names, 5);
		if (r->limit.present)
			fprintf(f, ",\"limit\":{\"over\":%s,\"rate\":%u,"
			    "\"unit\":\"%s\",\"burst\":%u,\"per\":\"%s\"}",
			    r->limit.over ? "true" : "false", r->limit.rate,
			    rate_unit_name(r->limit.unit), r->limit.burst,
			    per_names[r->limit.per]);
		if (r->conn.present)
			fprintf(f, ",\"conn\":{\"over\":%u,\"per_source\":%s}",
			    r->conn.over, r->conn.per_source ? "true" :
			    "false");
		fprintf(f, ",\"log\":%s,\"log_prefix\":",
		    r->log ? "true" : "false");
		str_or_null(f, r->log_prefix);
		fprintf(f, ",\"count\":%s,\"comment\":",
		    r->count ? "true" : "false");
		str_or_null(f, r->comment);
		putc('}', f);
	}
	fputs("],\n", f);
}

static void
defaults(FILE *f, const struct model *m)
{
	int l, d;

	fputs("\"defaults\":{", f);
	for (l = 0; l < LAYER_COUNT; l++) {
		fprintf(f, "%s\"%s\":{", l ? "," : "", layer_name(l));
		for (d = 0; d < DIR_COUNT; d++)
			fprintf(f, "%s\"%s\":\"%s\"", d ? "," : "",
			    direction_name(d),
			    verdict_name(m->defaults[l].action[d]));
		putc('}', f);
	}
	fputs("},\n", f);
}

static void
lists(FILE *f, const struct model *m)
{
	size_t i, k;

	fputs("\"lists\":[", f);
	for (i = 0; i < m->nlists; i++) {
		const struct privacy_list *pl = &m->lists[i];

		fprintf(f, "%s\n {\"name\":", i ? "," : "");
		json_string(f, pl->name);
		fprintf(f, ",\"default\":%s,\"active\":%s,\"items\":[",
		    pl->is_default ? "true" : "false",
		    pl->is_active ? "true" : "false");
		for (k = 0; k < pl->n; k++) {
			const struct privacy_item *it = &pl->items[k];

			fprintf(f, "%s\n  {\"order\":%u,\"action\":\"%s\","
			    "\"type\":\"%s\",\"value\":", k ? "," : "",
			    it->order, verdict_name(it->action),
			    item_type_name(it->type));
			str_or_null(f, it->value);
			fputs(",\"for\":", f);
			bits(f, it->stanzas, stanza_names, 4);
			fputs(",\"loc\":", f);
			loc(f, &it->loc);
			putc('}', f);
		}
		fputs("]}", f);
	}
	fputs("],\n\"block\":[", f);
	for (i = 0; i < m->block.n; i++) {
		fputs(i ? "," : "", f);
		json_string(f, m->block.jids[i]);
	}
	fputs("],\n", f);
}

static void
inspects(FILE *f, const struct model *m)
{
	size_t i, k, j;

	fputs("\"inspect\":[", f);
	for (i = 0; i < m->ninspect; i++) {
		const struct inspect *in = &m->inspects[i];

		fprintf(f, "%s\n {\"kind\":\"%s\",\"queue\":%u,\"ports\":",
		    i ? "," : "", inspect_kind_name(in->kind), in->queue);
		ports(f, &in->ports);
		fprintf(f, ",\"fail_closed\":%s,\"mark\":%u,\"bytes\":%u,"
		    "\"default\":\"%s\",\"rules\":[",
		    in->fail_closed ? "true" : "false", in->mark, in->bytes,
		    verdict_name(in->def));
		for (k = 0; k < in->nrules; k++) {
			const struct inspect_rule *r = &in->rules[k];

			fprintf(f, "%s{\"action\":\"%s\",", k ? "," : "",
			    verdict_name(r->action));
			if (r->match == IMATCH_STRING) {
				fputs("\"string\":", f);
				json_string(f, r->string);
			} else {
				fputs("\"domains\":[", f);
				for (j = 0; j < r->ndomains; j++) {
					fputs(j ? "," : "", f);
					json_string(f, r->domains[j]);
				}
				putc(']', f);
			}
			fputs(",\"loc\":", f);
			loc(f, &r->loc);
			putc('}', f);
		}
		fputs("]}", f);
	}
	fputs("]\n", f);
}

static int
emit_json(const struct model *m, FILE *f, FILE *err)
{
	(void)err;
	fputs("{\"generator\":\"xmppfwc " XFW_VERSION "\",\"source\":", f);
	json_string(f, m->source);
	fputs(",\n\"options\":{\"table\":", f);
	json_string(f, m->opt.table);
	fputs(",\"log_prefix\":", f);
	json_string(f, m->opt.log_prefix);
	fprintf(f, "},\n\"prelude\":{\"loopback\":%s,\"established\":%s,"
	    "\"drop_invalid\":%s,\"essential_icmp\":%s},\n",
	    m->prelude.loopback ? "true" : "false",
	    m->prelude.established ? "true" : "false",
	    m->prelude.drop_invalid ? "true" : "false",
	    m->prelude.essential_icmp ? "true" : "false");
	sets(f, m);
	rules(f, m);
	defaults(f, m);
	lists(f, m);
	inspects(f, m);
	fputs("}\n", f);
	return 0;
}

const struct backend backend_json = {
	.name = "json",
	.filename = "model.json",
	.description = "the compiled model, for other tools",
	.emit = emit_json,
};
