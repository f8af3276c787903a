/*
 * push.h - "xmppfwc push": put the xmpp layer of a compiled policy on
 * the account's XMPP server (XEP-0016 privacy lists, XEP-0191 blocking).
 */
#ifndef XFW_PUSH_H
#define XFW_PUSH_H

#include "model.h"

/* Exit codes of push_command(). */
#define PUSH_OK		0	/* pushed, or nothing to change */
#define PUSH_USAGE	2	/* usage or I/O error */
#define PUSH_SERVER	3	/* refused, auth failure, timeout, mismatch */

/*
 * argv[0] is "push", then the options (the driver has taken the policy
 * file off the end and compiled it into m):
 *	--jid JID  --password-file F  --server HOST[:PORT]  --ca-file F
 *	--insecure  --dry-run  --timeout SECONDS
 * The password comes from --password-file or $XMPPFWC_PASSWORD, never
 * from argv.  Returns the process exit code.
 */
int	push_command(const struct model *m, int argc, char *argv[]);

#endif
