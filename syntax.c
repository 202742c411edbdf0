/*
 * Copyright (c) 2026 The vmlaunch authors
 *
 * Permission to use, copy, modify, and distribute this software for any
 * purpose with or without fee is hereby granted, provided that the above
 * copyright notice and this permission notice appear in all copies.
 *
 * THE SOFTWARE IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS ALL WARRANTIES
 * WITH REGARD TO THIS SOFTWARE INCLUDING ALL IMPLIED WARRANTIES OF
 * MERCHANTABILITY AND FITNESS. IN NO EVENT SHALL THE AUTHOR BE LIABLE FOR
 * ANY SPECIAL, DIRECT, INDIRECT, OR CONSEQUENTIAL DAMAGES OR ANY DAMAGES
 * WHATSOEVER RESULTING FROM LOSS OF USE, DATA OR PROFITS, WHETHER IN AN
 * ACTION OF CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT OF
 * OR IN CONNECTION WITH THE USE OR PERFORMANCE OF THIS SOFTWARE.
 */

/*
 * What to say when a line of vmlaunch.conf does not parse.  parse.y
 * decides what parses; it hands over the tokens of the statement up to
 * the one the grammar refused, the block they stand in, and a table of
 * forms (what each statement looks like and where it may stand).  From
 * these this file finds how far the statement fits a form, and says
 * what was found, after what, and what could have come instead: the
 * keyword meant when a word is one or two typos away from one, "quote
 * it" for a keyword where a name goes, where a statement belongs when it
 * fits a form of another block.
 *
 * A form is a line of words: a lower-case word is a keyword, an
 * upper-case one an argument (DOMAIN_NAME reads "a domain name"), "{"
 * and "=" stand for themselves, "[ a | b ]" is an optional choice and
 * "]*" ends a group that may repeat.  Each is compiled once into items
 * and run over the tokens as a small NFA: a set has bit i for "before
 * item i" and bit n for "at the end".
 */

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "vmlaunch.h"

#define FORM_MAX	64
#define ITEM_MAX	31	/* bit ITEM_MAX is "at the end" */
#define EXPECT_MAX	32
#define HEAD_LEN	32

#define BIT(i)		((uint32_t)1 << (i))

enum item_kind {
	I_WORD,			/* a keyword */
	I_ARG,			/* a string or a number */
	I_CHAR,			/* "{" or "=" */
	I_OPEN,			/* "[" */
	I_ALT,			/* "|" */
	I_CLOSE			/* "]" or "]*" */
};

struct item {
	enum item_kind	 kind;
	int		 open, close;	/* I_OPEN, I_ALT, I_CLOSE: its group */
	int		 repeat;	/* I_CLOSE: "]*" */
	const char	*text;		/* into the compiled copy */
};

struct compiled {
	const struct syntax_form *form;
	char		 buf[128];
	struct item	 item[ITEM_MAX];
	int		 n;
	int		 plain;		/* no "[", "|" or "]": no closure */
};

/* What the forms that fit furthest expect next. */
struct expect {
	const char	*word[EXPECT_MAX];	/* keywords */
	size_t		 nword;
	const char	*arg[EXPECT_MAX];	/* argument names */
	size_t		 narg;
	const char	*chars[EXPECT_MAX];	/* "{", "=" */
	size_t		 nchars;
	int		 end;			/* the statement may end */
};

static struct compiled	 forms[FORM_MAX];
static size_t		 nforms;
/* The forms that open a block, looked at after every statement. */
static const struct compiled *openers[FORM_MAX];
static size_t		 nopeners;
/* The table, for the rest of it to be compiled when first needed. */
static const struct syntax_form *formtable;
static int		(*keywordp)(const char *);
static int		 allcompiled;

/* The statement being explained. */
static const struct syntax_token *stmt;
static size_t		 nstmt;

static void		 syntax_compile(const struct syntax_form *,
			    struct compiled *, int (*)(const char *));
static void		 syntax_compile_all(void);
static uint32_t		 syntax_closure(const struct compiled *, uint32_t);
static size_t		 syntax_run(const struct compiled *, size_t, int,
			    uint32_t *);
static size_t		 syntax_fit(int, struct expect *);
static const struct compiled *syntax_form(int, int);
static void		 syntax_head(const struct compiled *, size_t, char *,
			    size_t);
static const char	*syntax_where(int);

/*
 * Take the table; iskeyword checks that every keyword in it is one (a
 * typo in the table is a bug, found by the first syntax error).  Only
 * the forms that open a block are compiled now, as every statement is
 * run through them; the rest, at the first error to explain (a client
 * checks its file at every start, and most files have no error).
 */
void
syntax_init(const struct syntax_form *table, size_t n,
    int (*iskeyword)(const char *))
{
	size_t	 i;

	if (n > FORM_MAX)
		fatalx("%s: %zu forms, at most %d", __func__, n, FORM_MAX);
	formtable = table;
	keywordp = iskeyword;
	allcompiled = 0;
	nopeners = 0;
	for (i = 0; i < n; i++) {
		if (table[i].opens == 0)
			continue;
		syntax_compile(&table[i], &forms[i], iskeyword);
		openers[nopeners++] = &forms[i];
	}
	nforms = n;
}

/* Every form compiled, for an error to explain. */
static void
syntax_compile_all(void)
{
	size_t	 i;

	if (allcompiled)
		return;
	for (i = 0; i < nforms; i++)
		if (formtable[i].opens == 0)
			syntax_compile(&formtable[i], &forms[i], keywordp);
	allcompiled = 1;
}

static void
syntax_compile(const struct syntax_form *f, struct compiled *c,
    int (*iskeyword)(const char *))
{
	struct item	*it;
	char		*p, *w;
	int		 stack[4], depth = 0, i;

	c->form = f;
	if (strlcpy(c->buf, f->text, sizeof(c->buf)) >= sizeof(c->buf))
		fatalx("form \"%s\" too long", f->text);
	c->n = 0;
	for (p = c->buf; (w = strsep(&p, " ")) != NULL; ) {
		if (*w == '\0')
			continue;
		if (c->n == ITEM_MAX)
			fatalx("form \"%s\" too long", f->text);
		it = &c->item[c->n];
		memset(it, 0, sizeof(*it));
		it->text = w;
		if (strcmp(w, "[") == 0) {
			if (depth == (int)nitems(stack))
				fatalx("form \"%s\" too deep", f->text);
			it->kind = I_OPEN;
			stack[depth++] = c->n;
		} else if (strcmp(w, "|") == 0 || strcmp(w, "]") == 0 ||
		    strcmp(w, "]*") == 0) {
			if (depth == 0)
				fatalx("form \"%s\": stray \"%s\"", f->text, w);
			it->open = stack[depth - 1];
			if (*w == '|')
				it->kind = I_ALT;
			else {
				it->kind = I_CLOSE;
				it->repeat = w[1] == '*';
				c->item[it->open].close = c->n;
				depth--;
			}
		} else if (isupper((unsigned char)*w))
			it->kind = I_ARG;
		else if (islower((unsigned char)*w)) {
			it->kind = I_WORD;
			if (!iskeyword(w))
				fatalx("form \"%s\": \"%s\" is no keyword",
				    f->text, w);
		} else
			it->kind = I_CHAR;
		c->n++;
	}
	if (depth != 0)
		fatalx("form \"%s\": \"[\" not closed", f->text);
	c->plain = 1;
	for (i = 0; i < c->n; i++) {
		if (c->item[i].kind == I_ALT)
			c->item[i].close = c->item[c->item[i].open].close;
		if (c->item[i].kind == I_OPEN || c->item[i].kind == I_ALT ||
		    c->item[i].kind == I_CLOSE)
			c->plain = 0;
	}
}

/* Add every position reachable without reading a token. */
static uint32_t
syntax_closure(const struct compiled *c, uint32_t set)
{
	const struct item	*it;
	uint32_t		 prev;
	int			 i, j;

	if (c->plain)
		return (set);
	do {
		prev = set;
		for (i = 0; i < c->n; i++) {
			if ((set & BIT(i)) == 0)
				continue;
			it = &c->item[i];
			switch (it->kind) {
			case I_OPEN:
				set |= BIT(i + 1) | BIT(it->close + 1);
				for (j = i + 1; j < it->close; j++)
					if (c->item[j].kind == I_ALT &&
					    c->item[j].open == i)
						set |= BIT(j + 1);
				break;
			case I_ALT:
				set |= BIT(it->close);
				break;
			case I_CLOSE:
				set |= BIT(i + 1);
				if (it->repeat)
					set |= BIT(it->open);
				break;
			default:
				break;
			}
		}
	} while (set != prev);
	return (set);
}

static int
syntax_match(const struct item *it, const struct syntax_token *t)
{
	switch (it->kind) {
	case I_WORD:
		return (t->kind == SYNTAX_KEYWORD &&
		    strcmp(t->text, it->text) == 0);
	case I_CHAR:
		return (t->kind == SYNTAX_CHAR && strcmp(t->text, it->text) == 0);
	case I_ARG:
		return (t->kind == SYNTAX_WORD || t->kind == SYNTAX_NUMBER);
	default:
		return (0);
	}
}

/* Is t the end of a statement here: a newline, or a "}" in a block? */
static int
syntax_end(const struct syntax_token *t, int where)
{
	return (t->kind == SYNTAX_END || t->kind == SYNTAX_EOF ||
	    (where != SYNTAX_TOP && t->kind == SYNTAX_CHAR &&
	    strcmp(t->text, "}") == 0));
}

/*
 * Run a form over the first n tokens: how many it takes, and the set it
 * stopped in.  An end of statement is taken where the form may end.
 */
static size_t
syntax_run(const struct compiled *c, size_t n, int where, uint32_t *setp)
{
	uint32_t	 set, next;
	size_t		 j;
	int		 i;

	set = syntax_closure(c, BIT(0));
	for (j = 0; j < n; j++) {
		if (syntax_end(&stmt[j], where)) {
			if (set & BIT(c->n))
				j++;
			break;
		}
		for (i = 0, next = 0; i < c->n; i++)
			if ((set & BIT(i)) && syntax_match(&c->item[i],
			    &stmt[j]))
				next |= BIT(i + 1);
		if (next == 0)
			break;
		set = syntax_closure(c, next);
	}
	*setp = set;
	return (j);
}

/*
 * A form that starts with an argument (a macro definition) is only
 * recognised once its second item fits too: any word could start it.
 */
static int
syntax_weak(const struct compiled *c, size_t got)
{
	return (c->item[0].kind == I_ARG && got < 2);
}

static void
expect_add(const char **list, size_t *n, const char *s)
{
	size_t	 i;

	for (i = 0; i < *n; i++)
		if (strcmp(list[i], s) == 0)
			return;
	if (*n < EXPECT_MAX)
		list[(*n)++] = s;
}

/*
 * How far the best form valid in where fits the statement (nstmt: all
 * of it), and what those that fit that far expect next.
 */
static size_t
syntax_fit(int where, struct expect *e)
{
	const struct compiled	*c;
	const struct item	*it;
	uint32_t		 set;
	size_t			 best = 0, got, f;
	int			 i;

	memset(e, 0, sizeof(*e));
	for (f = 0; f < nforms; f++) {
		c = &forms[f];
		if ((c->form->where & where) == 0)
			continue;
		got = syntax_run(c, nstmt, where, &set);
		if ((syntax_weak(c, got) && got < nstmt) || got < best)
			continue;
		if (got > best)
			memset(e, 0, sizeof(*e));
		best = got;
		if (got == nstmt)
			continue;
		for (i = 0; i <= c->n; i++) {
			if ((set & BIT(i)) == 0)
				continue;
			if (i == c->n) {
				e->end = 1;
				continue;
			}
			it = &c->item[i];
			if (it->kind == I_WORD)
				expect_add(e->word, &e->nword, it->text);
			else if (it->kind == I_ARG)
				expect_add(e->arg, &e->narg, it->text);
			else if (it->kind == I_CHAR)
				expect_add(e->chars, &e->nchars, it->text);
		}
	}
	return (best);
}

/* A form valid in where and not in notin that takes the statement. */
static const struct compiled *
syntax_form(int where, int notin)
{
	const struct compiled	*c;
	uint32_t		 set;
	size_t			 f, got;

	for (f = 0; f < nforms; f++) {
		c = &forms[f];
		if ((c->form->where & where) == 0 ||
		    (c->form->where & notin) != 0)
			continue;
		got = syntax_run(c, nstmt, where, &set);
		if (got == nstmt && !syntax_weak(c, got))
			return (c);
	}
	return (NULL);
}

/* The block a "{" ending these tokens opens in where, or 0. */
int
syntax_opens(const struct syntax_token *toks, size_t n, int where)
{
	const struct compiled	*c;
	uint32_t		 set;
	size_t			 f;

	stmt = toks;
	nstmt = n;
	for (f = 0; f < nopeners; f++) {
		c = openers[f];
		if ((c->form->where & where) != 0 &&
		    syntax_run(c, n, where, &set) == n && (set & BIT(c->n)))
			return (c->form->opens);
	}
	return (0);
}

/* May a "{" come next, after newlines, as after "vm NAME"? */
int
syntax_pending(const struct syntax_token *toks, size_t n, int where)
{
	const struct compiled	*c;
	uint32_t		 set;
	size_t			 f;
	int			 i;

	stmt = toks;
	nstmt = n;
	for (f = 0; f < nopeners; f++) {
		c = openers[f];
		if ((c->form->where & where) == 0 ||
		    !syntax_match(&c->item[0], &toks[0]) ||
		    syntax_run(c, n, where, &set) != n)
			continue;
		for (i = 0; i < c->n; i++)
			if ((set & BIT(i)) && c->item[i].kind == I_CHAR &&
			    strcmp(c->item[i].text, "{") == 0)
				return (1);
	}
	return (0);
}

/* "DOMAIN_NAME" as "a domain name". */
static void
arg_name(const char *arg, char *buf, size_t len)
{
	char	*p;

	snprintf(buf, len, "%s %s", strchr("AEIOU", *arg) != NULL ? "an" :
	    "a", arg);
	for (p = buf; *p != '\0'; p++)
		*p = *p == '_' ? ' ' : tolower((unsigned char)*p);
}

/* Append s as the i-th of n: "a", "a or b", "a, b or c". */
static void
list_add(char *buf, size_t len, size_t i, size_t n, const char *s)
{
	if (i > 0)
		strlcat(buf, i + 1 == n ? " or " : ", ", len);
	strlcat(buf, s, len);
}

static void
expect_list(const struct expect *e, char *buf, size_t len)
{
	char	 s[64];
	size_t	 n, i, k = 0;

	n = e->nword + e->nchars + e->narg + (e->end ? 1 : 0);
	*buf = '\0';
	for (i = 0; i < e->nword; i++) {
		snprintf(s, sizeof(s), "\"%s\"", e->word[i]);
		list_add(buf, len, k++, n, s);
	}
	for (i = 0; i < e->nchars; i++) {
		snprintf(s, sizeof(s), "\"%s\"", e->chars[i]);
		list_add(buf, len, k++, n, s);
	}
	for (i = 0; i < e->narg; i++) {
		arg_name(e->arg[i], s, sizeof(s));
		list_add(buf, len, k++, n, s);
	}
	if (e->end)
		list_add(buf, len, k++, n, "the end of the line");
}

/* A token as a message shows it. */
static void
token_show(const struct syntax_token *t, char *buf, size_t len, int quote)
{
	if (t->kind == SYNTAX_END)
		strlcpy(buf, "end of line", len);
	else if (t->kind == SYNTAX_EOF)
		strlcpy(buf, "end of file", len);
	else if (quote || t->quoted)
		snprintf(buf, len, "\"%s\"", t->text);
	else
		strlcpy(buf, t->text, len);
}

/* The first n tokens: "idle timeout", or vm "a" when a part is quoted. */
static void
stmt_prefix(size_t n, char *buf, size_t len)
{
	char	 s[64];
	size_t	 i;
	int	 quoted = 0;

	*buf = '\0';
	for (i = 0; i < n; i++)
		quoted |= stmt[i].quoted;
	if (!quoted)
		strlcat(buf, "\"", len);
	for (i = 0; i < n; i++) {
		if (i > 0)
			strlcat(buf, " ", len);
		token_show(&stmt[i], s, sizeof(s), 0);
		strlcat(buf, s, len);
	}
	if (!quoted)
		strlcat(buf, "\"", len);
}

/* Optimal string alignment distance, ignoring case. */
static size_t
edit_distance(const char *a, const char *b)
{
	size_t	 d[64][64], la, lb, i, j, v;

	if ((la = strlen(a)) >= 64 || (lb = strlen(b)) >= 64)
		return (SIZE_MAX);
	for (i = 0; i <= la; i++)
		d[i][0] = i;
	for (j = 0; j <= lb; j++)
		d[0][j] = j;
	for (i = 1; i <= la; i++) {
		for (j = 1; j <= lb; j++) {
			v = d[i - 1][j - 1] + (tolower((unsigned char)a[i - 1]) !=
			    tolower((unsigned char)b[j - 1]));
			if (d[i - 1][j] + 1 < v)
				v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && tolower((unsigned char)a[i - 1]) ==
			    tolower((unsigned char)b[j - 2]) &&
			    tolower((unsigned char)a[i - 2]) ==
			    tolower((unsigned char)b[j - 1]) &&
			    d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	}
	return (d[la][lb]);
}

/* s without the characters in drop. */
static void
squeeze(const char *s, const char *drop, char *buf, size_t len)
{
	size_t	 k = 0;

	for (; *s != '\0' && k < len - 1; s++)
		if (strchr(drop, *s) == NULL)
			buf[k++] = *s;
	buf[k] = '\0';
}

/*
 * The candidate a mistyped word most likely meant: one or two edits
 * away (one for short words), or the same once blanks, "-" and "_" are
 * dropped ("idle_timeout").  NULL if none is close.
 */
static const char *
suggest(const char *word, const char **cand, size_t n)
{
	const char	*best = NULL;
	char		 w[64], c[64];
	size_t		 i, d, bestd = SIZE_MAX;

	squeeze(word, "-_", w, sizeof(w));
	for (i = 0; i < n; i++) {
		squeeze(cand[i], " ", c, sizeof(c));
		if (strchr(cand[i], ' ') != NULL && strcasecmp(w, c) == 0)
			return (cand[i]);
		if ((d = edit_distance(word, cand[i])) < bestd) {
			bestd = d;
			best = cand[i];
		}
	}
	return (bestd <= (strlen(word) <= 4 ? 1U : 2U) ? best : NULL);
}

/* "the top level", "a vm block", after the form that opens the block. */
static const char *
syntax_where(int where)
{
	static char	 buf[HEAD_LEN + 16];
	char		 head[HEAD_LEN];
	size_t		 f;

	for (f = 0; f < nforms; f++) {
		if (forms[f].form->opens != 0 &&
		    (forms[f].form->opens & where) != 0) {
			syntax_head(&forms[f], SIZE_MAX, head, sizeof(head));
			snprintf(buf, sizeof(buf), "a %s block", head);
			return (buf);
		}
	}
	return ("the top level");
}

/* The leading keywords of a form, up to the n-th: "idle timeout". */
static void
syntax_head(const struct compiled *c, size_t n, char *buf, size_t len)
{
	size_t	 i;

	*buf = '\0';
	for (i = 0; i < (size_t)c->n && i <= n && c->item[i].kind == I_WORD;
	    i++) {
		if (i > 0)
			strlcat(buf, " ", len);
		strlcat(buf, c->item[i].text, len);
	}
}

/*
 * The statements that may start in where, by their leading keywords:
 * each first keyword with the words all its forms share ("idle
 * timeout", "vmctl", "address").
 */
static size_t
syntax_heads(int where, char heads[][HEAD_LEN], size_t max)
{
	char	 h[HEAD_LEN];
	size_t	 n = 0, f, i, len, last;

	for (f = 0; f < nforms; f++) {
		if ((forms[f].form->where & where) == 0 ||
		    forms[f].item[0].kind != I_WORD)
			continue;
		syntax_head(&forms[f], SIZE_MAX, h, sizeof(h));
		len = strcspn(h, " ");
		for (i = 0; i < n; i++)
			if (strncmp(heads[i], h, len) == 0 &&
			    (heads[i][len] == '\0' || heads[i][len] == ' '))
				break;
		if (i == n) {
			if (n < max)
				strlcpy(heads[n++], h, sizeof(heads[0]));
			continue;
		}
		/* Keep the whole words this form shares with the others. */
		for (len = 0, last = 0; heads[i][len] != '\0' &&
		    heads[i][len] == h[len]; len++)
			if (h[len] == ' ')
				last = len;
		if ((heads[i][len] == '\0' || heads[i][len] == ' ') &&
		    (h[len] == '\0' || h[len] == ' '))
			heads[i][len] = '\0';
		else
			heads[i][last] = '\0';
	}
	return (n);
}

/* Every form's own leading keywords, once each: "idle pause". */
static size_t
syntax_fullheads(int where, char heads[][HEAD_LEN], size_t max)
{
	char	 h[HEAD_LEN];
	size_t	 n = 0, f, i;

	for (f = 0; f < nforms; f++) {
		if ((forms[f].form->where & where) == 0 ||
		    forms[f].item[0].kind != I_WORD)
			continue;
		syntax_head(&forms[f], SIZE_MAX, h, sizeof(h));
		for (i = 0; i < n; i++)
			if (strcmp(heads[i], h) == 0)
				break;
		if (i == n && n < max)
			strlcpy(heads[n++], h, sizeof(heads[0]));
	}
	return (n);
}

/* A statement that is fine, only not here. */
static void
explain_misplaced(char *msg, size_t len, int where,
    const struct syntax_form *f, const char *what)
{
	char	 here[HEAD_LEN + 16];

	strlcpy(here, syntax_where(where), sizeof(here));
	if (f->opens != 0 && where != SYNTAX_TOP)
		snprintf(msg, len, "%s cannot stand inside %s, is a \"}\" "
		    "missing before this line?", what, here);
	else if (f->where == SYNTAX_TOP)
		snprintf(msg, len, "%s is not allowed inside %s, only at the "
		    "top level", what, here);
	else if (f->where & SYNTAX_TOP)
		snprintf(msg, len, "%s is not allowed inside %s", what, here);
	else if (where == SYNTAX_TOP)
		snprintf(msg, len, "%s belongs inside %s", what,
		    syntax_where(f->where));
	else
		snprintf(msg, len, "%s belongs inside %s, not %s", what,
		    syntax_where(f->where), here);
}

/* A word where a statement starts: most likely a mistyped keyword. */
static void
explain_word(char *msg, size_t len, int where, const char *found,
    const char *list)
{
	char		 heads[FORM_MAX][HEAD_LEN];
	const char	*cand[FORM_MAX], *s = NULL;
	const char	*word = stmt[0].text;
	size_t		 n, i, o, norder = 1;
	int		 in = where, pass, order[4];

	/*
	 * Here, then elsewhere; each form's whole head ("idle timeout"),
	 * then the first words of the heads.
	 */
	order[0] = where;
	for (in = SYNTAX_TOP; in <= SYNTAX_BACKEND; in <<= 1)
		if (in != where && norder < nitems(order))
			order[norder++] = in;
	for (o = 0; s == NULL && o < norder; o++) {
		in = order[o];
		for (pass = 0; s == NULL && pass < 2; pass++) {
			if (pass == 0)
				n = syntax_fullheads(in, heads, nitems(heads));
			else
				n = syntax_heads(in, heads, nitems(heads));
			for (i = 0; i < n; i++) {
				if (pass == 1)
					heads[i][strcspn(heads[i], " ")] = '\0';
				cand[i] = heads[i];
			}
			s = suggest(word, cand, n);
		}
	}
	if (s == NULL)
		snprintf(msg, len, "unknown keyword %s, expected %s", found,
		    list);
	else if (in != where)
		snprintf(msg, len, "unknown keyword %s, did you mean \"%s\" "
		    "(inside %s)", found, s, syntax_where(in));
	else if (strcasecmp(s, word) == 0)
		snprintf(msg, len, "unknown keyword %s: keywords are lower "
		    "case, did you mean \"%s\"", found, s);
	else
		snprintf(msg, len, "unknown keyword %s, did you mean \"%s\"",
		    found, s);
}

/* A keyword that only comes later in a statement: "timeout". */
static void
explain_later(char *msg, size_t len, int where, const char *found)
{
	char	 later[8][HEAD_LEN + 2], h[HEAD_LEN], list[512];
	size_t	 f, n = 0, i, w;

	for (f = 0; f < nforms && n < nitems(later); f++) {
		if ((forms[f].form->where & where) == 0)
			continue;
		for (w = 1; w < (size_t)forms[f].n &&
		    forms[f].item[w].kind == I_WORD; w++)
			if (strcmp(forms[f].item[w].text, stmt[0].text) == 0)
				break;
		if (w == (size_t)forms[f].n || forms[f].item[w].kind != I_WORD)
			continue;
		syntax_head(&forms[f], w, h, sizeof(h));
		for (i = 0; i < n; i++)
			if (strcmp(later[i] + 1, h) == 0)
				break;
		if (i == n)
			snprintf(later[n++], sizeof(later[0]), "\"%s", h);
	}
	*list = '\0';
	for (i = 0; i < n; i++) {
		strlcat(later[i], "\"", sizeof(later[i]));
		list_add(list, sizeof(list), i, n, later[i]);
	}
	if (n > 0)
		snprintf(msg, len, "%s cannot start a statement, did you mean "
		    "%s", found, list);
	else
		snprintf(msg, len, "%s cannot start a statement", found);
}

/* The first token of the statement is wrong. */
static void
explain_start(char *msg, size_t len, int where)
{
	const struct syntax_token	*t = &stmt[0];
	char				 heads[FORM_MAX][HEAD_LEN];
	char				 list[512], found[80], h[HEAD_LEN + 2];
	size_t				 n, nopen, i, f;

	token_show(t, found, sizeof(found), 1);
	n = syntax_heads(where, heads, nitems(heads));
	*list = '\0';
	for (i = 0; i < n; i++) {
		snprintf(h, sizeof(h), "\"%s\"", heads[i]);
		list_add(list, sizeof(list), i, n, h);
	}

	switch (t->kind) {
	case SYNTAX_WORD:
		explain_word(msg, len, where, found, list);
		return;
	case SYNTAX_KEYWORD:
		explain_later(msg, len, where, found);
		return;
	case SYNTAX_CHAR:
		break;
	default:
		snprintf(msg, len, "unexpected %s, expected %s", found, list);
		return;
	}
	if (strcmp(t->text, "=") == 0) {
		snprintf(msg, len, "\"=\" without a name before it");
		return;
	}
	/* "{": say which statements open a block here. */
	for (f = 0, nopen = 0; f < nforms; f++)
		if ((forms[f].form->where & where) && forms[f].form->opens)
			nopen++;
	*list = '\0';
	for (f = 0, i = 0; f < nforms; f++) {
		if ((forms[f].form->where & where) == 0 ||
		    !forms[f].form->opens)
			continue;
		syntax_head(&forms[f], SIZE_MAX, h, sizeof(h));
		list_add(list, sizeof(list), i++, nopen, h);
	}
	if (nopen == 0)
		snprintf(msg, len, "unexpected %s", found);
	else
		snprintf(msg, len, "unexpected %s, a block starts with %s",
		    found, list);
}

/*
 * The message for the statement toks[0..n-1], in block where, refused
 * at its last token.
 */
void
syntax_explain(const struct syntax_token *toks, size_t n, int where,
    char *msg, size_t len)
{
	const struct syntax_token	*x;
	const struct compiled		*c;
	struct expect			 e;
	char				 found[80], prefix[160], list[512];
	char				 name[64];
	const char			*s;
	size_t				 k, i;
	int				 other;

	syntax_compile_all();
	stmt = toks;
	nstmt = n;
	if (n == 0) {
		snprintf(msg, len, "syntax error");
		return;
	}
	x = &stmt[n - 1];
	token_show(x, found, sizeof(found), 1);

	for (i = 0; i + 1 < n; i++) {
		if (stmt[i].kind == SYNTAX_CHAR &&
		    strcmp(stmt[i].text, "}") == 0) {
			snprintf(msg, len, "unexpected %s after \"}\", a block "
			    "ends its line", found);
			return;
		}
	}

	/* Fine in another block: it stands in the wrong place. */
	k = syntax_fit(where, &e);
	for (other = SYNTAX_TOP; k < n && other <= SYNTAX_BACKEND;
	    other <<= 1) {
		if (other == where || (c = syntax_form(other, where)) == NULL)
			continue;
		if (c->form->label != NULL)
			strlcpy(name, c->form->label, sizeof(name));
		else
			token_show(&stmt[0], name, sizeof(name), 1);
		explain_misplaced(msg, len, where, c->form, name);
		return;
	}

	if (k == 0) {
		explain_start(msg, len, where);
		return;
	}
	if (k + 1 != n) {
		/* The table and the grammar disagree: say the least. */
		snprintf(msg, len, "unexpected %s", found);
		return;
	}

	stmt_prefix(k, prefix, sizeof(prefix));
	if (syntax_end(x, where)) {
		e.end = 0;
		expect_list(&e, list, sizeof(list));
		snprintf(msg, len, "missing %s after %s", list, prefix);
		return;
	}
	if (e.nword + e.narg + e.nchars == 0) {
		for (i = 0; i < nforms; i++)
			if ((forms[i].form->where & where) &&
			    syntax_match(&forms[i].item[0], x))
				break;
		snprintf(msg, len, "unexpected %s after %s%s", found, prefix,
		    i < nforms && x->kind == SYNTAX_KEYWORD ? ", one "
		    "statement per line (or \";\" between them)" : "");
		return;
	}
	if (x->kind == SYNTAX_WORD && e.narg == 0 && e.nword > 0) {
		s = suggest(x->text, e.word, e.nword);
		if (s != NULL && strcmp(s, x->text) == 0) {
			/* A keyword before "=" reads as a macro's name. */
			stmt_prefix(n, prefix, sizeof(prefix));
			snprintf(msg, len, "unexpected \"=\" after %s", prefix);
		} else if (s != NULL)
			snprintf(msg, len, "unknown keyword %s after %s, did "
			    "you mean \"%s\"", found, prefix, s);
		else {
			expect_list(&e, list, sizeof(list));
			snprintf(msg, len, "unknown keyword %s after %s, "
			    "expected %s", found, prefix, list);
		}
		return;
	}
	if (x->kind == SYNTAX_KEYWORD && e.narg > 0) {
		arg_name(e.arg[0], name, sizeof(name));
		snprintf(msg, len, "%s is a keyword: quote it to use it as %s",
		    found, name);
		return;
	}
	expect_list(&e, list, sizeof(list));
	snprintf(msg, len, "unexpected %s after %s, expected %s", found,
	    prefix, list);
}
