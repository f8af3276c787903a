/*
 * diag.c - the source table and the diagnostics queue.
 *
 * Files are read whole into memory.  Before a file is read it is checked:
 * it must be a regular file (not a directory, device or FIFO), no larger
 * than SOURCE_MAX, and -- unless it is the top-level policy -- its real
 * path must lie under one of the roots (the top-level policy's directory
 * and every -I DIR), so that a policy cannot make the compiler read
 * /etc/shadow into a CI log.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diag.h"
#include "jsonout.h"
#include "model.h"

#define SOURCE_MAX	(512u * 1024 * 1024)

void
ctx_init(struct ctx *c)
{
	memset(c, 0, sizeof(*c));
	arena_init(&c->arena);
	c->tail = &c->diags;
}

void
ctx_free(struct ctx *c)
{
	size_t i;

	for (i = 0; i < c->nsources; i++) {
		free((char *)c->sources[i]->text);
		free(c->sources[i]->lines);
	}
	free(c->sources);
	free(c->roots);
	arena_free(&c->arena);
}

void
ctx_add_root(struct ctx *c, const char *dir)
{
	char *r = realpath(dir, NULL);

	if (r == NULL)
		return;
	c->roots = xrealloc(c->roots, (c->nroots + 1) * sizeof(*c->roots));
	c->roots[c->nroots++] = arena_strdup(&c->arena, r);
	free(r);
}

static bool
under_root(const struct ctx *c, const char *real)
{
	size_t i, n;

	for (i = 0; i < c->nroots; i++) {
		n = strlen(c->roots[i]);
		if (strncmp(real, c->roots[i], n) == 0 &&
		    (real[n] == '/' || real[n] == '\0' ||
		    (n == 1 && c->roots[i][0] == '/')))
			return true;
	}
	return false;
}

static int
source_push(struct ctx *c, const char *path, const char *real, char *text,
    size_t len, struct loc from)
{
	struct source *s = arena_alloc(&c->arena, sizeof(*s));

	s->path = arena_strdup(&c->arena, path);
	s->real = real != NULL ? arena_strdup(&c->arena, real) : s->path;
	s->text = text;
	s->len = len;
	s->from = from;
	c->sources = xrealloc(c->sources,
	    (c->nsources + 1) * sizeof(*c->sources));
	c->sources[c->nsources] = s;
	return (int)c->nsources++;
}

int
source_add_text(struct ctx *c, const char *name, const char *text, size_t n)
{
	char *copy = xmalloc(n + 1);

	memcpy(copy, text, n);
	copy[n] = '\0';
	return source_push(c, name, NULL, copy, n, NOLOC);
}

int
source_load(struct ctx *c, const char *path, struct loc at, bool top)
{
	struct stat st;
	char *real, *buf;
	size_t len = 0;
	ssize_t r;
	int fd, id;

	real = realpath(path, NULL);
	if (real == NULL) {
		error(c, at, "cannot open '%s': %s", path, strerror(errno));
		return -1;
	}
	if (!top && !under_root(c, real)) {
		error(c, at, "'%s' is outside the policy directory and every "
		    "-I root", path);
		free(real);
		return -1;
	}
	fd = open(real, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd == -1 || fstat(fd, &st) == -1) {
		error(c, at, "cannot open '%s': %s", path, strerror(errno));
		if (fd != -1)
			close(fd);
		free(real);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		error(c, at, "'%s' is %s, not a regular file", path,
		    S_ISDIR(st.st_mode) ? "a directory" : "a device or pipe");
		close(fd);
		free(real);
		return -1;
	}
	if ((unsigned long long)st.st_size > SOURCE_MAX) {
		error(c, at, "'%s' is too large (%lld bytes, max %u)", path,
		    (long long)st.st_size, SOURCE_MAX);
		close(fd);
		free(real);
		return -1;
	}
	buf = xmalloc((size_t)st.st_size + 1);
	while (len < (size_t)st.st_size) {
		r = read(fd, buf + len, (size_t)st.st_size - len);
		if (r <= 0) {
			if (r < 0 && errno == EINTR)
				continue;
			break;
		}
		len += (size_t)r;
	}
	close(fd);
	buf[len] = '\0';
	id = source_push(c, path, real, buf, len, at);
	free(real);
	return id;
}

const struct source *
ctx_source(const struct ctx *c, int i)
{
	if (i < 0 || (size_t)i >= c->nsources)
		return NULL;
	return c->sources[i];
}

static void
build_lines(struct source *s)
{
	size_t i, n = 1, k = 0;

	for (i = 0; i < s->len; i++)
		if (s->text[i] == '\n')
			n++;
	s->lines = xmalloc(n * sizeof(*s->lines));
	s->lines[k++] = 0;
	for (i = 0; i < s->len; i++)
		if (s->text[i] == '\n')
			s->lines[k++] = i + 1;
	s->nlines = n;
}

const char *
source_line(struct source *s, int line, size_t *n)
{
	size_t start, end;

	if (s->lines == NULL)
		build_lines(s);
	if (line < 1 || (size_t)line > s->nlines) {
		*n = 0;
		return "";
	}
	start = s->lines[line - 1];
	end = start;
	while (end < s->len && s->text[end] != '\n' && s->text[end] != '\0')
		end++;
	if (end > start && s->text[end - 1] == '\r')
		end--;
	*n = end - start;
	return s->text + start;
}

static void
vqueue(struct ctx *c, enum severity sev, struct loc l, const char *rule,
    const char *fmt, va_list ap)
{
	struct diag *d;
	char buf[1024];

	if (sev == SEV_ERROR)
		c->nerrors++;
	else if (sev == SEV_WARNING)
		c->nwarnings++;
	if (c->ndiags >= DIAG_MAX)
		return;
	if (++c->ndiags == DIAG_MAX) {
		d = arena_alloc(&c->arena, sizeof(*d));
		d->sev = SEV_ERROR;
		d->loc = NOLOC;
		d->msg = "too many diagnostics, stopping here";
		d->rule = "limit";
		*c->tail = d;
		c->tail = &d->next;
		return;
	}
	vsnprintf(buf, sizeof(buf), fmt, ap);
	d = arena_alloc(&c->arena, sizeof(*d));
	d->sev = sev;
	d->loc = l;
	d->msg = arena_strdup(&c->arena, buf);
	d->rule = rule;
	*c->tail = d;
	c->tail = &d->next;
}

void
error(struct ctx *c, struct loc l, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vqueue(c, SEV_ERROR, l, "error", fmt, ap);
	va_end(ap);
}

void
warning(struct ctx *c, struct loc l, const char *rule, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vqueue(c, SEV_WARNING, l, rule, fmt, ap);
	va_end(ap);
}

void
note(struct ctx *c, struct loc l, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vqueue(c, SEV_NOTE, l, "note", fmt, ap);
	va_end(ap);
}

const char *
loc_str(struct ctx *c, struct loc l)
{
	const struct source *s = ctx_source(c, l.file);

	if (s == NULL)
		return "xmppfwc";
	return arena_printf(&c->arena, "%s:%d:%d", s->path, l.line, l.col);
}

static const char *
sev_name(enum severity s, bool werror)
{
	switch (s) {
	case SEV_ERROR:
		return "error";
	case SEV_WARNING:
		return werror ? "error" : "warning";
	case SEV_NOTE:
		return "note";
	}
	return "?";
}

/*
 * Print a printable copy of a source line: tabs stay tabs (so the caret
 * lines up), other control bytes become '?'.
 */
static void
print_line(FILE *f, const char *p, size_t n)
{
	size_t i;

	if (n > 400)
		n = 400;	/* a 10 MB line is not printed whole */
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)p[i];

		putc(ch == '\t' || ch >= 0x20 ? ch : '?', f);
	}
	putc('\n', f);
}

static void
print_text(struct ctx *c, FILE *f, struct diag *d, bool werror)
{
	struct source *s;
	struct loc from;
	const char *line;
	size_t n, i;
	int len;

	s = (struct source *)ctx_source(c, d->loc.file);
	if (s == NULL) {
		fprintf(f, "xmppfwc: %s: %s\n", sev_name(d->sev, werror),
		    d->msg);
		return;
	}
	/* The include chain, outermost last, like a C compiler. */
	for (from = s->from; from.file >= 0;
	    from = c->sources[from.file]->from)
		fprintf(f, "%s: note: %s from here\n", loc_str(c, from),
		    s->is_list && from.file == s->from.file &&
		    from.line == s->from.line ? "list file read" :
		    "included");
	fprintf(f, "%s:%d:%d: %s: %s\n", s->path, d->loc.line, d->loc.col,
	    sev_name(d->sev, werror), d->msg);
	line = source_line(s, d->loc.line, &n);
	if (d->loc.line < 1)
		return;
	print_line(f, line, n);
	for (i = 0; i + 1 < (size_t)d->loc.col && i < 400; i++)
		putc(i < n && line[i] == '\t' ? '\t' : ' ', f);
	putc('^', f);
	len = d->loc.len;
	if ((size_t)d->loc.col + (size_t)len > n + 1)
		len = (int)(n + 1 - (size_t)d->loc.col);
	if (len > 200)
		len = 200;
	for (; len > 1; len--)
		putc('~', f);
	putc('\n', f);
}

static void
print_json(struct ctx *c, FILE *f, bool werror)
{
	const struct source *s;
	struct diag *d;
	bool first = true;

	fputs("{\"diagnostics\":[", f);
	for (d = c->diags; d != NULL; d = d->next) {
		s = ctx_source(c, d->loc.file);
		fputs(first ? "\n" : ",\n", f);
		first = false;
		fprintf(f, "{\"severity\":\"%s\",\"rule\":",
		    sev_name(d->sev, werror));
		json_string(f, d->rule);
		fputs(",\"file\":", f);
		json_string(f, s != NULL ? s->path : "");
		fprintf(f, ",\"line\":%d,\"column\":%d,\"length\":%d,"
		    "\"message\":", s != NULL ? d->loc.line : 0,
		    s != NULL ? d->loc.col : 0, s != NULL ? d->loc.len : 0);
		json_string(f, d->msg);
		putc('}', f);
	}
	fprintf(f, "\n],\"errors\":%d,\"warnings\":%d}\n", c->nerrors,
	    c->nwarnings);
}

static void
print_sarif(struct ctx *c, FILE *f, bool werror)
{
	static const char *const rules[] = {
		"error", "shadowed", "redundant", "unused", "unreachable",
		"whitelist", "host-bits", "normalised", "expect", "limit",
		"note", "empty", "source-port",
	};
	const struct source *s;
	struct diag *d;
	size_t i;
	bool first = true;

	fputs("{\"$schema\":\"https://json.schemastore.org/sarif-2.1.0.json\","
	    "\"version\":\"2.1.0\",\"runs\":[{\"tool\":{\"driver\":{"
	    "\"name\":\"xmppfwc\",\"version\":\"" XFW_VERSION "\","
	    "\"informationUri\":\"https://example.invalid/xmppfwc\","
	    "\"rules\":[", f);
	for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		fprintf(f, "%s{\"id\":\"%s\",\"shortDescription\":{\"text\":"
		    "\"%s\"}}", i ? "," : "", rules[i], rules[i]);
	}
	fputs("]}},\"results\":[", f);
	for (d = c->diags; d != NULL; d = d->next) {
		s = ctx_source(c, d->loc.file);
		fputs(first ? "\n" : ",\n", f);
		first = false;
		fputs("{\"ruleId\":", f);
		json_string(f, d->rule);
		fprintf(f, ",\"level\":\"%s\",\"message\":{\"text\":",
		    sev_name(d->sev, werror));
		json_string(f, d->msg);
		putc('}', f);
		if (s != NULL && d->loc.line > 0) {
			fputs(",\"locations\":[{\"physicalLocation\":{"
			    "\"artifactLocation\":{\"uri\":", f);
			json_string(f, s->path);
			fprintf(f, "},\"region\":{\"startLine\":%d,"
			    "\"startColumn\":%d,\"endColumn\":%d}}}]",
			    d->loc.line, d->loc.col, d->loc.col + d->loc.len);
		}
		putc('}', f);
	}
	fputs("\n]}]}\n", f);
}

void
diag_print(struct ctx *c, FILE *f, enum diag_format fmt, bool werror)
{
	struct diag *d;

	switch (fmt) {
	case DIAG_TEXT:
		for (d = c->diags; d != NULL; d = d->next)
			print_text(c, f, d, werror);
		break;
	case DIAG_JSON:
		print_json(c, f, werror);
		break;
	case DIAG_SARIF:
		print_sarif(c, f, werror);
		break;
	}
}
