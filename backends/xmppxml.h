/*
 * xmppxml.h - the XML side of the xmpp layer, shared by the xep0016 and
 * xep0191 backends and by "xmppfwc push".
 *
 * Every stanza xmppfwc sends or writes is built here with libxml2
 * (xmlNewChild with NULL content, xmlNewProp for every policy string):
 * this is the one escaping point for the XMPP output language.  Policy
 * strings that XML 1.0 cannot carry at all (control characters, invalid
 * UTF-8) are refused by stz_text_ok() before anything is built.
 *
 * The artefact files (xep0016.xml, xep0191.xml) are one XML document:
 *
 *	<stanzas xmlns="urn:xmppfwc:stanzas:1" generator="..." source="...">
 *	  <iq xmlns="jabber:client" type="set" id="xfw-privacy-1">...</iq>
 *	  ...
 *	</stanzas>
 *
 * Each <iq> child is a complete client stanza, to be sent in document
 * order.  Its payload (<query xmlns="jabber:iq:privacy">, <block
 * xmlns="urn:xmpp:blocking">) validates against the XSF schema.
 */
#ifndef XFW_XMPPXML_H
#define XFW_XMPPXML_H

#include <stdbool.h>
#include <stdio.h>

#include <libxml/tree.h>

#include "model.h"

#define STZ_NS_STANZAS	"urn:xmppfwc:stanzas:1"
#define STZ_NS_CLIENT	"jabber:client"
#define STZ_NS_PRIVACY	"jabber:iq:privacy"
#define STZ_NS_BLOCK	"urn:xmpp:blocking"

/* Warn above these sizes: servers cap list sizes (ejabberd: 64 KiB
 * stanzas by default, and many clients choke on huge lists). */
#define STZ_WARN_ITEMS	1000
#define STZ_WARN_BYTES	(64 * 1024)

/* True when s is valid UTF-8 made of XML 1.0 characters only. */
bool		 stz_text_ok(const char *s);

/* Report a problem at loc ("file:line:col: KIND: message"). */
void		 stz_diag(FILE *err, const struct srcloc *loc,
		    const char *kind, const char *fmt, ...)
		    __attribute__((format(printf, 4, 5)));

/* Check what the schema cannot: valid strings, allow/deny only, unique
 * ascending orders, no empty list.  Prints errors and warnings to err;
 * returns the number of errors. */
int		 xep0016_check(const struct model *, FILE *err);
int		 xep0191_check(const struct model *, FILE *err);

/* A new <iq type="set" id=ID xmlns="jabber:client"/> under parent (or as
 * root of doc when parent is NULL). */
xmlNodePtr	 stz_iq_new(xmlDocPtr, xmlNodePtr parent, const char *type,
		    const char *id);

/* A new child element in namespace ns, declared on it. */
xmlNodePtr	 stz_child_ns(xmlNodePtr parent, const char *name,
		    const char *ns);

/* Payload builders: each adds one child to iq and returns it. */
xmlNodePtr	 xep0016_add_list(xmlNodePtr iq, const struct privacy_list *);
xmlNodePtr	 xep0016_add_default(xmlNodePtr iq, const char *name);
xmlNodePtr	 xep0016_add_active(xmlNodePtr iq, const char *name);
xmlNodePtr	 xep0191_add_items(xmlNodePtr iq, const char *verb,
		    const char *const *jids, size_t n);

/* The stanza ids, deterministic and unique within one artefact. */
void		 stz_iq_id(char *buf, size_t len, const char *kind,
		    size_t n);

/* The element name of a STANZA_* bit, or NULL. */
const char	*stz_stanza_name(unsigned bit);

/* Serialise node (no XML declaration) into a malloc'd string. */
char		*stz_node_string(xmlNodePtr, size_t *lenp);

/* Write doc as UTF-8 with indentation; 0 or -1 on I/O error. */
int		 stz_doc_write(xmlDocPtr, FILE *);

/* The artefact document with its <stanzas> root. */
xmlDocPtr	 stz_artefact_new(const struct model *, xmlNodePtr *rootp);

#endif
