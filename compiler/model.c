/*
 * model.c - small helpers over the compiled model, shared by backends.
 */
#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>

#include "model.h"

const char *
verdict_name(enum verdict v)
{
	switch (v) {
	case VERDICT_ALLOW:
		return "allow";
	case VERDICT_DENY:
		return "deny";
	case VERDICT_REJECT:
		return "reject";
	}
	return "?";
}

const char *
direction_name(enum direction d)
{
	switch (d) {
	case DIR_IN:
		return "in";
	case DIR_OUT:
		return "out";
	case DIR_FORWARD:
		return "forward";
	case DIR_COUNT:
		break;
	}
	return "?";
}

const char *
layer_name(enum layer l)
{
	switch (l) {
	case LAYER_IP:
		return "ip";
	case LAYER_TRANSPORT:
		return "transport";
	case LAYER_COUNT:
		break;
	}
	return "?";
}

const char *
item_type_name(enum item_type t)
{
	switch (t) {
	case ITEM_JID:
		return "jid";
	case ITEM_GROUP:
		return "group";
	case ITEM_SUBSCRIPTION:
		return "subscription";
	case ITEM_ALL:
		return "all";
	}
	return "?";
}

const char *
inspect_kind_name(enum inspect_kind k)
{
	switch (k) {
	case INSPECT_C2S:
		return "c2s";
	case INSPECT_S2S:
		return "s2s";
	case INSPECT_BOTH:
		return "both";
	}
	return "?";
}

const char *
rate_unit_name(enum rate_unit u)
{
	switch (u) {
	case RATE_SECOND:
		return "second";
	case RATE_MINUTE:
		return "minute";
	case RATE_HOUR:
		return "hour";
	}
	return "?";
}

char *
pfx4_format(const struct pfx4 *p, char *buf, size_t n)
{
	snprintf(buf, n, "%u.%u.%u.%u/%u", p->addr >> 24,
	    (p->addr >> 16) & 0xff, (p->addr >> 8) & 0xff, p->addr & 0xff,
	    p->len);
	return buf;
}

char *
pfx6_format(const struct pfx6 *p, char *buf, size_t n)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(AF_INET6, p->addr, a, sizeof(a));
	snprintf(buf, n, "%s/%u", a, p->len);
	return buf;
}

bool
rule_has_family(const struct rule *r, unsigned fam)
{
	return (r->families & fam) != 0;
}
