/*
 * parse.y - the .xfw grammar.
 *
 * A pure parser with locations.  The grammar is generic on purpose: a
 * statement is a keyword-led form, a rule is an action followed by any
 * clauses in any order, and the compiler decides which clauses a context
 * allows.  Errors are counted and parsing resumes at the next statement
 * terminator (newline or ';'), so one run reports every syntax error.
 */
%code requires {
#include "ast.h"
#include "lexstate.h"
typedef void *yyscan_t;
}

%code provides {
int	xfw_lex(YYSTYPE *, YYLTYPE *, yyscan_t);
}

%{
#include <stdio.h>
#include <string.h>

#include "parse.h"
#include "lex.h"
#include "model.h"
#include "utf8.h"

#define YYLLOC_DEFAULT(cur, rhs, n)					\
	do {								\
		if (n) {						\
			(cur) = YYRHSLOC(rhs, 1);			\
			if (YYRHSLOC(rhs, n).line == (cur).line &&	\
			    YYRHSLOC(rhs, n).file == (cur).file)	\
				(cur).len = YYRHSLOC(rhs, n).col +	\
				    YYRHSLOC(rhs, n).len - (cur).col;	\
		} else {						\
			(cur) = YYRHSLOC(rhs, 0);			\
			(cur).col += (cur).len;				\
			(cur).len = 1;					\
		}							\
	} while (0)

#define yylex	xfw_lex

static void	yyerror(YYLTYPE *, yyscan_t, struct pstate *, const char *);
static struct stmtlist *sl_new(struct pstate *);
static void	sl_add(struct stmtlist *, struct stmt *);
static void	cl_set(struct pstate *, struct clauses *, enum clause,
		    struct loc);
static void	bitem(struct pstate *, struct values *, struct value *);
#define ARENA	(&ps->ctx->arena)
%}

%define api.pure full
%define api.location.type {struct loc}
%define parse.error custom
%locations
%param {yyscan_t scanner}
%parse-param {struct pstate *ps}
%expect 0

%union {
	struct value	*v;
	struct values	*vs;
	struct clauses	*cl;
	struct stmt	*st;
	struct stmtlist	*sl;
	int		 i;
}

%token <v> WORD "word" STRING "quoted string" VAR "$reference"
%token NL "end of line" JUNK "invalid character"
%token XFW "xfw" INCLUDE "include" OPTION "option" DEFINE "define"
%token FILE_ "file" ADDR "addr" IP "ip" TRANSPORT "transport" XMPP "xmpp"
%token EXPECT "expect" ALLOW "allow" DENY "deny" REJECT "reject"
%token DEFAULT "default" IN "in" OUT "out" FORWARD "forward" ON "on"
%token TCP "tcp" UDP "udp" ICMP "icmp" ICMPV6 "icmpv6"
%token FROM "from" TO "to" PORT "port" STATE "state" LIMIT "limit"
%token OVER "over" BURST "burst" PER "per" SOURCE "source"
%token DESTINATION "destination" CONN "conn" LOG "log" COUNT "count"
%token COMMENT "comment" LIST "list" ACTIVE "active" JID "jid"
%token GROUP "group" SUBSCRIPTION "subscription" ALL "all" FOR "for"
%token BLOCK "block" INSPECT "inspect" C2S "c2s" S2S "s2s" QUEUE "queue"
%token PORTS "ports" DOMAIN "domain" STRINGKW "string"
%token FAILCLOSED "fail-closed" FAILOPEN "fail-open" ORDER "order"

%precedence LOWER_THAN_PORT
%precedence PORT

%type <v> value
%type <vs> values bitems vlist
%type <cl> clauses listflags
%type <st> stmt
%type <sl> stmt_list block
%type <i> action deftype layerkw opt_dir proto protoname

%%

policy		: stmt_list		{ ps->result = $1; }
		| stmt_list stmt	{ sl_add($1, $2); ps->result = $1; }
		| stmt_list error	{ ps->result = $1; }
		;

stmt_list	: %empty		{ $$ = sl_new(ps); }
		| stmt_list term	{ $$ = $1; }
		| stmt_list stmt term	{ sl_add($1, $2); $$ = $1; }
		| stmt_list error term	{ yyerrok; $$ = $1; }
		;

term		: NL | ';' ;

optnl		: %empty | optnl NL ;

block		: '{' stmt_list '}'		{ $$ = $2; }
		| '{' stmt_list stmt '}'	{ sl_add($2, $3); $$ = $2; }
		| '{' stmt_list error '}'	{ yyerrok; $$ = $2; }
		;

stmt		: XFW value
		{
			$$ = stmt_new(ARENA, ST_VERSION, @1);
			$$->u.version = $2;
		}
		| INCLUDE value
		{
			$$ = stmt_new(ARENA, ST_INCLUDE, @1);
			$$->u.include = $2;
		}
		| OPTION value value
		{
			$$ = stmt_new(ARENA, ST_OPTION, @1);
			$$->u.option.name = $2;
			$$->u.option.value = $3;
		}
		| DEFINE deftype value '=' values
		{
			$$ = stmt_new(ARENA, ST_DEFINE, @1);
			$$->u.define.type = $2;
			$$->u.define.name = $3;
			$$->u.define.values = $5;
		}
		| DEFINE deftype value '=' FILE_ value
		{
			$$ = stmt_new(ARENA, ST_DEFINE, @1);
			$$->u.define.type = $2;
			$$->u.define.name = $3;
			$$->u.define.file = $6;
		}
		| layerkw optnl block
		{
			$$ = stmt_new(ARENA, ST_LAYER, @1);
			$$->u.layer.which = $1;
			$$->u.layer.body = $3->head;
		}
		| LIST value listflags optnl block
		{
			$$ = stmt_new(ARENA, ST_LIST, @1);
			$$->u.list.name = $2;
			$$->u.list.cl = $3;
			$$->u.list.is_default = $3->is_default;
			$$->u.list.is_active = $3->is_active;
			$$->u.list.body = $5->head;
		}
		| BLOCK values
		{
			$$ = stmt_new(ARENA, ST_BLOCK, @1);
			$$->u.block = $2;
		}
		| INSPECT clauses optnl block
		{
			$$ = stmt_new(ARENA, ST_INSPECT, @1);
			$$->u.inspect.cl = $2;
			$$->u.inspect.body = $4->head;
		}
		| DEFAULT opt_dir action
		{
			$$ = stmt_new(ARENA, ST_DEFAULT, @1);
			$$->u.def.dir = $2;
			$$->u.def.dir_loc = @2;
			$$->u.def.action = $3;
			$$->u.def.action_loc = @3;
		}
		| action clauses
		{
			$$ = stmt_new(ARENA, ST_RULE, @1);
			$$->u.rule.action = $1;
			$$->u.rule.action_loc = @1;
			$$->u.rule.cl = $2;
		}
		| EXPECT action clauses
		{
			$$ = stmt_new(ARENA, ST_EXPECT, @1);
			$$->u.rule.action = $2;
			$$->u.rule.action_loc = @2;
			$$->u.rule.cl = $3;
		}
		| EXPECT action WORD clauses
		{
			$$ = stmt_new(ARENA, ST_EXPECT, @1);
			$$->u.rule.action = $2;
			$$->u.rule.action_loc = @2;
			$$->u.rule.cl = $4;
			cl_set(ps, $4, CL_KIND, @3);
			$4->val[CL_KIND] = $3;
		}
		;

layerkw		: IP		{ $$ = LK_IP; }
		| TRANSPORT	{ $$ = LK_TRANSPORT; }
		| XMPP		{ $$ = LK_XMPP; }
		;

deftype		: ADDR		{ $$ = DEF_ADDR; }
		| PORT		{ $$ = DEF_PORT; }
		| JID		{ $$ = DEF_JID; }
		;

action		: ALLOW		{ $$ = VERDICT_ALLOW; }
		| DENY		{ $$ = VERDICT_DENY; }
		| REJECT	{ $$ = VERDICT_REJECT; }
		;

opt_dir		: %empty	{ $$ = -1; }
		| IN		{ $$ = DIR_IN; }
		| OUT		{ $$ = DIR_OUT; }
		| FORWARD	{ $$ = DIR_FORWARD; }
		;

listflags	: %empty	{ $$ = clauses_new(ARENA); }
		| listflags DEFAULT
		{
			$$ = $1;
			$$->is_default = true;
		}
		| listflags ACTIVE
		{
			$$ = $1;
			$$->is_active = true;
		}
		| listflags ORDER value
		{
			$$ = $1;
			cl_set(ps, $$, CL_ORDER, @2);
			$$->val[CL_ORDER] = $3;
		}
		;

clauses		: %empty	{ $$ = clauses_new(ARENA); }
		| clauses IN
		{ $$ = $1; cl_set(ps, $$, CL_DIR, @2); $$->dir = DIR_IN; }
		| clauses OUT
		{ $$ = $1; cl_set(ps, $$, CL_DIR, @2); $$->dir = DIR_OUT; }
		| clauses FORWARD
		{ $$ = $1; cl_set(ps, $$, CL_DIR, @2); $$->dir = DIR_FORWARD; }
		| clauses ON value
		{ $$ = $1; cl_set(ps, $$, CL_ON, @2); $$->val[CL_ON] = $3; }
		| clauses proto
		{ $$ = $1; $$->protos |= $2; cl_set(ps, $$, CL_PROTO, @2); }
		| clauses FROM values %prec LOWER_THAN_PORT
		{ $$ = $1; cl_set(ps, $$, CL_FROM, @2); $$->vals[CL_FROM] = $3; }
		| clauses FROM values PORT values
		{
			$$ = $1;
			cl_set(ps, $$, CL_FROM, @2);
			$$->vals[CL_FROM] = $3;
			cl_set(ps, $$, CL_FROM_PORT, @4);
			$$->vals[CL_FROM_PORT] = $5;
		}
		| clauses TO values %prec LOWER_THAN_PORT
		{ $$ = $1; cl_set(ps, $$, CL_TO, @2); $$->vals[CL_TO] = $3; }
		| clauses TO values PORT values
		{
			$$ = $1;
			cl_set(ps, $$, CL_TO, @2);
			$$->vals[CL_TO] = $3;
			cl_set(ps, $$, CL_TO_PORT, @4);
			$$->vals[CL_TO_PORT] = $5;
		}
		| clauses PORT values
		{ $$ = $1; cl_set(ps, $$, CL_PORT, @2); $$->vals[CL_PORT] = $3; }
		| clauses STATE values
		{ $$ = $1; cl_set(ps, $$, CL_STATE, @2); $$->vals[CL_STATE] = $3; }
		| clauses LIMIT value
		{ $$ = $1; cl_set(ps, $$, CL_LIMIT, @2); $$->val[CL_LIMIT] = $3; }
		| clauses LIMIT OVER value
		{
			$$ = $1;
			cl_set(ps, $$, CL_LIMIT, @2);
			$$->val[CL_LIMIT] = $4;
			$$->limit_over = true;
		}
		| clauses BURST value
		{
			$$ = $1;
			if ($$->burst != NULL)
				error(ps->ctx, @2, "duplicate 'burst' clause");
			$$->burst = $3;
		}
		| clauses PER SOURCE
		{ $$ = $1; $$->limit_per = PER_SOURCE; $$->limit_per_loc = @2; }
		| clauses PER DESTINATION
		{
			$$ = $1;
			$$->limit_per = PER_DESTINATION;
			$$->limit_per_loc = @2;
		}
		| clauses CONN OVER value
		{ $$ = $1; cl_set(ps, $$, CL_CONN, @2); $$->val[CL_CONN] = $4; }
		| clauses LOG
		{ $$ = $1; cl_set(ps, $$, CL_LOG, @2); }
		| clauses LOG STRING
		{ $$ = $1; cl_set(ps, $$, CL_LOG, @2); $$->val[CL_LOG] = $3; }
		| clauses COUNT
		{ $$ = $1; cl_set(ps, $$, CL_COUNT, @2); }
		| clauses COMMENT value
		{
			$$ = $1;
			cl_set(ps, $$, CL_COMMENT, @2);
			$$->val[CL_COMMENT] = $3;
		}
		| clauses JID values
		{ $$ = $1; cl_set(ps, $$, CL_JID, @2); $$->vals[CL_JID] = $3; }
		| clauses GROUP values
		{ $$ = $1; cl_set(ps, $$, CL_GROUP, @2); $$->vals[CL_GROUP] = $3; }
		| clauses SUBSCRIPTION values
		{
			$$ = $1;
			cl_set(ps, $$, CL_SUBSCRIPTION, @2);
			$$->vals[CL_SUBSCRIPTION] = $3;
		}
		| clauses ALL
		{ $$ = $1; cl_set(ps, $$, CL_ALL, @2); }
		| clauses FOR values
		{ $$ = $1; cl_set(ps, $$, CL_FOR, @2); $$->vals[CL_FOR] = $3; }
		| clauses DOMAIN values
		{ $$ = $1; cl_set(ps, $$, CL_DOMAIN, @2); $$->vals[CL_DOMAIN] = $3; }
		| clauses STRINGKW value
		{ $$ = $1; cl_set(ps, $$, CL_STRING, @2); $$->val[CL_STRING] = $3; }
		| clauses LIST value
		{ $$ = $1; cl_set(ps, $$, CL_LIST, @2); $$->val[CL_LIST] = $3; }
		| clauses C2S
		{ $$ = $1; cl_set(ps, $$, CL_C2S, @2); }
		| clauses S2S
		{ $$ = $1; cl_set(ps, $$, CL_S2S, @2); }
		| clauses QUEUE value
		{ $$ = $1; cl_set(ps, $$, CL_QUEUE, @2); $$->val[CL_QUEUE] = $3; }
		| clauses PORTS values
		{ $$ = $1; cl_set(ps, $$, CL_PORTS, @2); $$->vals[CL_PORTS] = $3; }
		| clauses FAILCLOSED
		{ $$ = $1; cl_set(ps, $$, CL_FAIL, @2); $$->fail_closed = true; }
		| clauses FAILOPEN
		{ $$ = $1; cl_set(ps, $$, CL_FAIL, @2); $$->fail_closed = false; }
		| clauses ORDER value
		{ $$ = $1; cl_set(ps, $$, CL_ORDER, @2); $$->val[CL_ORDER] = $3; }
		;

proto		: protoname
		| proto ',' protoname	{ $$ = $1 | $3; }
		;

protoname	: TCP		{ $$ = PROTO_TCP; }
		| UDP		{ $$ = PROTO_UDP; }
		| ICMP		{ $$ = PROTO_ICMP; }
		| ICMPV6	{ $$ = PROTO_ICMPV6; }
		;

values		: vlist

		| '{' bitems '}'
		{
			$$ = $2;
			$$->loc = @1;
			if ($$->n == 0)
				error(ps->ctx, @1, "empty list");
		}
		;

/* Values without braces: one, or several separated by commas. */
vlist		: value			{ $$ = values_one(ARENA, $1); }
		| vlist ',' value	{ $$ = $1; values_add(ARENA, $$, $3); }
		;

/* Values in braces, separated by commas and/or newlines. */
bitems		: %empty		{ $$ = values_new(ARENA, NOLOC, true); }
		| bitems ','		{ $$ = $1; $$->loc.len = -1; }
		| bitems NL		{ $$ = $1; $$->loc.len = -1; }
		| bitems value		{ $$ = $1; bitem(ps, $$, $2); }
		;

value		: WORD
		| STRING
		| VAR
		| DOMAIN	{ $$ = value_new(ARENA, VAL_WORD, @1, "domain"); }
		| SOURCE	{ $$ = value_new(ARENA, VAL_WORD, @1, "source"); }
		| ALL		{ $$ = value_new(ARENA, VAL_WORD, @1, "all"); }
		| ON		{ $$ = value_new(ARENA, VAL_WORD, @1, "on"); }
		;

%%

static struct stmtlist *
sl_new(struct pstate *ps)
{
	struct stmtlist *l = arena_alloc(&ps->ctx->arena, sizeof(*l));

	l->tail = &l->head;
	return l;
}

static void
sl_add(struct stmtlist *l, struct stmt *s)
{
	if (s == NULL)
		return;
	l->tail = stmt_append(l->tail, s);
}

static void
cl_set(struct pstate *ps, struct clauses *c, enum clause which, struct loc l)
{
	/* Protocol lists accumulate; every other clause may appear once. */
	if ((c->present & (1u << which)) && which != CL_PROTO)
		error(ps->ctx, l, "duplicate '%s' clause", clause_name(which));
	c->present |= 1u << which;
	if (!(which == CL_PROTO && c->loc[which].line != 0))
		c->loc[which] = l;
}

/*
 * Add a value to a braced list.  Values must be separated by a comma or
 * a newline; bitems marks a separator seen by setting loc.len to -1.
 */
static void
bitem(struct pstate *ps, struct values *vs, struct value *v)
{
	if (vs->n > 0 && vs->loc.len != -1)
		error(ps->ctx, v->loc, "expected ',' before '%s'", v->text);
	vs->loc.len = 0;
	values_add(&ps->ctx->arena, vs, v);
}

static void
yyerror(YYLTYPE *l, yyscan_t scanner, struct pstate *ps, const char *msg)
{
	(void)scanner;
	ps->nerrs++;
	if (strcmp(msg, "memory exhausted") == 0)
		msg = "nesting too deep";
	error(ps->ctx, *l, "%s", msg);
}

/* The text of a token for "unexpected X": from the source itself. */
static void
token_text(struct pstate *ps, yysymbol_kind_t tok, const YYLTYPE *l,
    char *buf, size_t n)
{
	const struct source *s = ctx_source(ps->ctx, l->file);
	size_t i, len;

	if (tok == YYSYMBOL_YYEOF) {
		snprintf(buf, n, "end of file");
		return;
	}
	if (tok == YYSYMBOL_NL) {
		snprintf(buf, n, "end of line");
		return;
	}
	if (s == NULL || l->line < 1) {
		snprintf(buf, n, "%s", yysymbol_name(tok));
		return;
	}
	/* Find the token's bytes: line start + column. */
	{
		struct source *ms = (struct source *)s;
		const char *line = source_line(ms, l->line, &len);
		const char *p = line + l->col - 1;
		size_t tl = (size_t)l->len;

		if ((size_t)(l->col - 1) > len)
			tl = 0;
		else if (tl > len - (size_t)(l->col - 1))
			tl = len - (size_t)(l->col - 1);
		if (tl > 40)
			tl = 40;
		buf[0] = '\'';
		for (i = 0; i < tl && i + 3 < n; i++) {
			unsigned char c = (unsigned char)p[i];

			buf[i + 1] = c >= 0x20 && c != 0x7f ? (char)c : '?';
		}
		buf[i + 1] = '\'';
		buf[i + 2] = '\0';
	}
}

static void
sym_name(yysymbol_kind_t k, char *buf, size_t n)
{
	const char *name = yysymbol_name(k);
	size_t len = strlen(name);

	/* Aliases come quoted from bison: "from" -> 'from'. */
	if (len >= 2 && name[0] == '"') {
		if (k == YYSYMBOL_WORD || k == YYSYMBOL_STRING ||
		    k == YYSYMBOL_VAR || k == YYSYMBOL_NL ||
		    k == YYSYMBOL_JUNK)
			snprintf(buf, n, "%.*s", (int)len - 2, name + 1);
		else
			snprintf(buf, n, "'%.*s'", (int)len - 2, name + 1);
	} else if (len == 3 && name[0] == '\'')
		snprintf(buf, n, "%s", name);
	else
		snprintf(buf, n, "%s", name);
}

static int
yyreport_syntax_error(const yypcontext_t *yctx, yyscan_t scanner,
    struct pstate *ps)
{
	enum { MAXEXP = 6 };
	yysymbol_kind_t exp[MAXEXP];
	yysymbol_kind_t tok = yypcontext_token(yctx);
	const YYLTYPE *l = yypcontext_location(yctx);
	char msg[512], t[64];
	int n, i;
	size_t off;

	(void)scanner;
	ps->nerrs++;
	token_text(ps, tok, l, t, sizeof(t));
	if (tok == YYSYMBOL_JUNK)
		off = (size_t)snprintf(msg, sizeof(msg),
		    "unexpected character %s", t);
	else
		off = (size_t)snprintf(msg, sizeof(msg), "unexpected %s", t);
	n = yypcontext_expected_tokens(yctx, exp, MAXEXP);
	if (n > 0 && n < MAXEXP) {
		for (i = 0; i < n && off < sizeof(msg); i++) {
			sym_name(exp[i], t, sizeof(t));
			off += (size_t)snprintf(msg + off, sizeof(msg) - off,
			    "%s%s", i == 0 ? ", expecting " :
			    i == n - 1 ? " or " : ", ", t);
		}
	}
	error(ps->ctx, *l, "%s", msg);
	return 0;
}

int
parse_source(struct ctx *c, int file, struct stmt **out)
{
	struct source *s = c->sources[file];
	struct lexstate ls;
	struct pstate ps;
	yyscan_t scanner;
	YY_BUFFER_STATE buf;
	size_t bad, off = 0;
	int nbad = 0;

	/* Invalid UTF-8 is reported, then scanned like any other byte. */
	while (off < s->len && nbad < 5) {
		bad = off + utf8_invalid(s->text + off, s->len - off);
		if (bad >= s->len)
			break;
		{
			struct loc l = { file, 1, 1, 1 };
			size_t i;

			for (i = 0; i < bad; i++) {
				if (s->text[i] == '\n') {
					l.line++;
					l.col = 1;
				} else
					l.col++;
			}
			error(c, l, "invalid UTF-8 byte 0x%02x",
			    (unsigned char)s->text[bad]);
		}
		nbad++;
		off = bad + 1;
	}

	memset(&ls, 0, sizeof(ls));
	ls.ctx = c;
	ls.arena = &c->arena;
	ls.file = file;
	ls.line = 1;
	ls.col = 1;
	memset(&ps, 0, sizeof(ps));
	ps.ctx = c;
	ps.file = file;

	xfw_lex_init_extra(&ls, &scanner);
	buf = xfw__scan_bytes(s->text, (int)s->len, scanner);
	yyparse(scanner, &ps);
	xfw__delete_buffer(buf, scanner);
	xfw_lex_destroy(scanner);
	free(ls.sbuf);
	*out = ps.result != NULL ? ps.result->head : NULL;
	return ps.nerrs;
}
