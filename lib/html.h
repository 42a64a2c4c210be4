/* html: HTML fragments (Audnex summaries) turned into plain text with paragraphs kept. */
#ifndef MF_HTML_H
#define MF_HTML_H

#include <stddef.h>

/*
 * Plain text from an HTML fragment: </p>, <div>, lists and headings become paragraph
 * breaks (one blank line), <br> a line break, <li> a "• " line; other tags, comments and
 * <script>/<style> contents are dropped; entities (named, &#N;, &#xH;) are decoded;
 * whitespace runs become one space.  The result is valid UTF-8, trimmed, malloc'd.
 */
char *mf_html_to_text(const char *html, size_t len);

/* A growable text buffer (for the BBCode and report writers).  buf is always
 * NUL-terminated once anything was added; oom is set when memory ran out. */
struct mf_buf {
	char	*buf;
	size_t	len, cap;
	int	oom;
};
void mf_buf_put(struct mf_buf *b, const char *s, size_t n);
void mf_buf_str(struct mf_buf *b, const char *s);
void mf_buf_printf(struct mf_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The text (caller frees), or NULL after an out-of-memory; the buffer is emptied. */
char *mf_buf_take(struct mf_buf *b);

#endif
