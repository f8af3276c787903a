/*
 * pushdrv.c - a stand-in driver for "xmppfwc push" until the policy
 * parser lands: builds one of a few models by hand and calls
 * push_command().  Usage: pushdrv SCENARIO push [OPTIONS]
 * Scenarios: whitelist, blocklist, block, whitelist2 (two allowed hosts).
 */
#include <stdio.h>
#include <string.h>

#include "push.h"

static struct arena A;

static struct privacy_list *
list(struct model *m, const char *name)
{
	struct privacy_list *l;

	m->lists = arena_alloc(&A, sizeof(*l));
	m->nlists = 1;
	l = &m->lists[0];
	l->loc.file = "pushdrv";
	l->name = name;
	l->is_default = true;
	l->items = arena_alloc(&A, 8 * sizeof(*l->items));
	return l;
}

static void
item(struct privacy_list *l, enum item_type t, const char *v,
    enum verdict a)
{
	struct privacy_item *it = &l->items[l->n++];

	it->loc.file = "pushdrv";
	it->type = t;
	it->value = v;
	it->action = a;
	it->order = (uint32_t)(l->n * 10);
}

int
main(int argc, char *argv[])
{
	static const char *blocked[] = { "mallory@b.test" };
	struct model m;
	struct privacy_list *l;

	if (argc < 3) {
		fprintf(stderr, "usage: pushdrv SCENARIO push [OPTIONS]\n");
		return 2;
	}
	arena_init(&A);
	memset(&m, 0, sizeof(m));
	m.arena = &A;
	m.source = "pushdrv";
	if (strcmp(argv[1], "whitelist") == 0 ||
	    strcmp(argv[1], "whitelist2") == 0) {
		l = list(&m, "urn:xmpp:whitelist");
		item(l, ITEM_JID, "b.test", VERDICT_ALLOW);
		if (strcmp(argv[1], "whitelist2") == 0)
			item(l, ITEM_JID, "c.test", VERDICT_ALLOW);
		item(l, ITEM_ALL, NULL, VERDICT_DENY);
	} else if (strcmp(argv[1], "blocklist") == 0) {
		l = list(&m, "blocklist");
		item(l, ITEM_JID, "mallory@b.test", VERDICT_DENY);
	} else if (strcmp(argv[1], "block") == 0) {
		m.block.loc.file = "pushdrv";
		m.block.n = 1;
		m.block.jids = blocked;
	} else {
		fprintf(stderr, "pushdrv: unknown scenario %s\n", argv[1]);
		return 2;
	}
	return push_command(&m, argc - 2, argv + 2);
}
