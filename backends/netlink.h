/*
 * netlink.h - "xmppfwc apply" and "xmppfwc diff": load the policy's
 * nftables table into the kernel in one atomic netlink batch (libnftnl +
 * libmnl), compare it with the running table, confirm or roll back.
 *
 * argv[0] is "apply" or "diff", then the options; the driver has already
 * compiled the policy into m (NULL only for "apply --confirm-ok").
 * Both return the exit code: 0 ok or unchanged, 1 different (diff,
 * apply --dry-run) or policy errors, 2 usage or I/O, 3 the kernel
 * refused (or the change was not confirmed and was rolled back).
 */
#ifndef XFW_NETLINK_H
#define XFW_NETLINK_H

#include "model.h"

int	apply_command(const struct model *m, int argc, char *argv[]);
int	diff_command(const struct model *m, int argc, char *argv[]);

#endif
