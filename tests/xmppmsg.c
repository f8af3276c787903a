/*
 * xmppmsg.c - a tiny XMPP client for tests/suites/xmpp.sh.
 *
 *	xmppmsg recv JID SECONDS	print "ready", then "msg FROM BODY" for
 *					each message, until SECONDS pass
 *	xmppmsg send JID TO BODY	send one chat message; print "sent",
 *					or "error CONDITION" if it bounced
 *					within 2 s
 *
 * Password from $XMPPFWC_PASSWORD, server from $XMSG_SERVER (HOST:PORT),
 * CA file from $XMSG_CA.  STARTTLS is mandatory and verified, as in push.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <strophe.h>

static int state;			/* 0 connecting, 1 up, -1 down */
static const char *mode;
static int bounced;
static char condition[128];

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
on_message(xmpp_conn_t *conn, xmpp_stanza_t *st, void *ud)
{
	const char *type = xmpp_stanza_get_type(st);
	const char *from = xmpp_stanza_get_from(st);
	xmpp_stanza_t *e, *c;
	char *body;

	(void)ud;
	if (type != NULL && strcmp(type, "error") == 0) {
		bounced = 1;
		e = xmpp_stanza_get_child_by_name(st, "error");
		for (c = e != NULL ? xmpp_stanza_get_children(e) : NULL;
		    c != NULL; c = xmpp_stanza_get_next(c))
			if (xmpp_stanza_is_tag(c) &&
			    strcmp(xmpp_stanza_get_name(c), "text") != 0) {
				snprintf(condition, sizeof(condition), "%s",
				    xmpp_stanza_get_name(c));
				break;
			}
		return 1;
	}
	if (strcmp(mode, "recv") != 0)
		return 1;
	body = xmpp_message_get_body(st);
	if (body != NULL) {
		printf("msg %s %s\n", from != NULL ? from : "?", body);
		fflush(stdout);
		xmpp_free(xmpp_conn_get_context(conn), body);
	}
	return 1;
}

static void
on_conn(xmpp_conn_t *conn, xmpp_conn_event_t ev, int err,
    xmpp_stream_error_t *se, void *ud)
{
	(void)conn, (void)err, (void)se, (void)ud;
	state = ev == XMPP_CONN_CONNECT ? 1 : -1;
}

int
main(int argc, char *argv[])
{
	const char *pw = getenv("XMPPFWC_PASSWORD");
	const char *srv = getenv("XMSG_SERVER"), *ca = getenv("XMSG_CA");
	char host[256] = "", *colon;
	unsigned short port = 0;
	xmpp_ctx_t *ctx;
	xmpp_conn_t *conn;
	xmpp_stanza_t *st;
	double until;

	if (argc < 4 || pw == NULL || (strcmp(argv[1], "recv") != 0 &&
	    (strcmp(argv[1], "send") != 0 || argc < 5))) {
		fprintf(stderr, "usage: xmppmsg recv JID SECONDS | "
		    "send JID TO BODY (XMPPFWC_PASSWORD, XMSG_SERVER, "
		    "XMSG_CA)\n");
		return 2;
	}
	mode = argv[1];
	if (srv != NULL) {
		snprintf(host, sizeof(host), "%s", srv);
		if ((colon = strrchr(host, ':')) != NULL) {
			*colon = '\0';
			port = (unsigned short)atoi(colon + 1);
		}
	}
	xmpp_initialize();
	ctx = xmpp_ctx_new(NULL, NULL);
	conn = xmpp_conn_new(ctx);
	xmpp_conn_set_flags(conn, XMPP_CONN_FLAG_MANDATORY_TLS |
	    XMPP_CONN_FLAG_DISABLE_SM);
	xmpp_conn_set_jid(conn, argv[2]);
	xmpp_conn_set_pass(conn, pw);
	if (ca != NULL)
		xmpp_conn_set_cafile(conn, ca);
	xmpp_handler_add(conn, on_message, NULL, "message", NULL, NULL);
	if (xmpp_connect_client(conn, host[0] != '\0' ? host : NULL, port,
	    on_conn, NULL) != XMPP_EOK)
		return 3;
	until = now() + 10;
	while (state == 0 && now() < until)
		xmpp_run_once(ctx, 50);
	if (state != 1) {
		fprintf(stderr, "xmppmsg: %s: cannot log in\n", argv[2]);
		return 3;
	}
	if (strcmp(mode, "recv") == 0) {
		/* Available presence: the server routes bare-JID messages
		 * only to available resources. */
		st = xmpp_presence_new(ctx);
		xmpp_send(conn, st);
		xmpp_stanza_release(st);
		until = now() + atof(argv[3]);
		printf("ready\n");
		fflush(stdout);
	} else {
		st = xmpp_message_new(ctx, "chat", argv[3], "xmsg-1");
		xmpp_message_set_body(st, argv[4]);
		xmpp_send(conn, st);
		xmpp_stanza_release(st);
		until = now() + 2;
	}
	while (state == 1 && now() < until && !bounced)
		xmpp_run_once(ctx, 50);
	if (strcmp(mode, "send") == 0)
		printf(bounced ? "error %s\n" : "sent\n", condition);
	xmpp_disconnect(conn);
	until = now() + 2;
	while (state == 1 && now() < until)
		xmpp_run_once(ctx, 50);
	xmpp_conn_release(conn);
	xmpp_ctx_free(ctx);
	xmpp_shutdown();
	return 0;
}
