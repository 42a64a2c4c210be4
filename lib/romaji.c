/* romaji: Japanese runs of a UTF-8 string in Hepburn romaji, with kakasi (see romaji.h). */
#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <libkakasi.h>

#include "romaji.h"

#define RUN_MAX	256	/* bytes of one run handed to kakasi */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int ready;	/* 1 open, -1 failed for good */
static iconv_t to_euc;

/* The code point at s (n bytes left) into *cp; its length, or 0 when not valid UTF-8. */
static size_t
decode(const unsigned char *s, size_t n, unsigned long *cp)
{
	size_t len, i;
	unsigned long c;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2;
		c = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3;
		c = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4;
		c = s[0] & 0x07;
	} else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	*cp = c;
	return len;
}

/*
 * Kana and kanji that EUC-JP holds and kakasi reads: hiragana, katakana and the prolonged
 * sound mark, the iteration mark 々, CJK ideographs.  Not the middle dot ・ (a separator,
 * kept), nor half-width katakana or 〇, which kakasi renders badly.
 */
static int
japanese(unsigned long c)
{
	return c == 0x3005 || (c >= 0x3041 && c <= 0x3096) || (c >= 0x30a1 && c <= 0x30fa) ||
	    c == 0x30fc || (c >= 0x3400 && c <= 0x4dbf) || (c >= 0x4e00 && c <= 0x9fff) ||
	    (c >= 0xf900 && c <= 0xfaff);
}

int
mf_romaji_has_japanese(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), k;
	unsigned long c;

	while (n > 0) {
		if ((k = decode(p, n, &c)) == 0)
			k = 1;
		else if (japanese(c))
			return 1;
		p += k;
		n -= k;
	}
	return 0;
}

/* Open kakasi and the converter once (mutex held); 0, or -1 when they cannot be had. */
static int
open_kakasi(void)
{
	static char a0[] = "kakasi", a1[] = "-Ja", a2[] = "-Ha", a3[] = "-Ka", a4[] = "-Ea",
	    a5[] = "-s";
	/* kakasi's own UTF-8 options (-iutf8 -outf8) are not used: it is fed EUC-JP. */
	char *argv[] = { a0, a1, a2, a3, a4, a5, NULL };

	if (ready == 0) {
		ready = -1;
		if ((to_euc = iconv_open("EUC-JP", "UTF-8")) == (iconv_t)-1)
			return -1;
		if (kakasi_getopt_argv(6, argv) != 0) {
			iconv_close(to_euc);
			return -1;
		}
		ready = 1;
	}
	return ready == 1 ? 0 : -1;
}

/*
 * kakasi's reading of one run into out (outsz >= 2 * RUN_MAX): "sa^ba^" -> "Saabaa"
 * (the long-vowel mark doubles the vowel), words capitalised.  0, or -1 when the run is
 * to be kept as it is (not convertible, or kakasi wrote nothing or something unexpected).
 */
static int
read_run(const char *run, size_t len, char *out, size_t outsz)
{
	char in[RUN_MAX + 1], euc[2 * RUN_MAX + 1], *ip = in, *op = euc, *r;
	size_t il = len, ol = sizeof(euc) - 1, o = 0, i;
	int rc = -1;

	if (len > RUN_MAX || open_kakasi() != 0)
		return -1;
	memcpy(in, run, len);
	in[len] = '\0';
	iconv(to_euc, NULL, NULL, NULL, NULL);
	if (iconv(to_euc, &ip, &il, &op, &ol) == (size_t)-1 || il != 0)
		return -1;
	*op = '\0';
	if ((r = kakasi_do(euc)) == NULL)
		return -1;
	for (i = 0; r[i] != '\0' && o + 2 < outsz; i++) {
		unsigned char c = (unsigned char)r[i];

		if (c == '^') {
			/* The prolonged sound mark after a vowel: that vowel again. */
			if (o > 0 && out[o - 1] != ' ' &&
			    strchr("aeiou", tolower((unsigned char)out[o - 1])) != NULL) {
				out[o] = (char)tolower((unsigned char)out[o - 1]);
				o++;
			}
			continue;
		}
		if (c == ' ') {
			if (o > 0 && out[o - 1] != ' ')
				out[o++] = ' ';
			continue;
		}
		if (!isalpha(c) && c != '\'' && c != '-')
			goto out;
		out[o] = (char)(o == 0 || out[o - 1] == ' ' ? toupper(c) : tolower(c));
		o++;
	}
	if (r[i] != '\0')
		goto out;
	while (o > 0 && out[o - 1] == ' ')
		o--;
	out[o] = '\0';
	rc = o > 0 ? 0 : -1;
out:
	kakasi_free(r);
	return rc;
}

char *
mf_romaji(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), cap = 2 * n + 1, o = 0, k, start;
	char *out = malloc(cap), word[2 * RUN_MAX + 1];
	unsigned long c;

	if (out == NULL)
		return NULL;
	pthread_mutex_lock(&mu);
	while (n > 0) {
		if ((k = decode(p, n, &c)) == 0 || !japanese(c)) {
			unsigned long next;

			k = k ? k : 1;
			/* "ジョン・スミス": the middle dot between two read words is a space. */
			if (c == 0x30fb && o > 0 && isalpha((unsigned char)out[o - 1]) &&
			    n > k && decode(p + k, n - k, &next) > 0 && japanese(next)) {
				out[o++] = ' ';
				p += k;
				n -= k;
				continue;
			}
			memcpy(out + o, p, k);
			o += k;
			p += k;
			n -= k;
			continue;
		}
		/* A maximal run of Japanese characters. */
		for (start = 0; start < n && (k = decode(p + start, n - start, &c)) > 0 &&
		    japanese(c); start += k)
			;
		if (read_run((const char *)p, start, word, sizeof(word)) == 0) {
			size_t wl = strlen(word);
			char *t;

			if (o + wl + n + 1 > cap) {
				cap = o + wl + n + 1;
				if ((t = realloc(out, cap)) == NULL) {
					pthread_mutex_unlock(&mu);
					free(out);
					return NULL;
				}
				out = t;
			}
			memcpy(out + o, word, wl);
			o += wl;
		} else {
			memcpy(out + o, p, start);
			o += start;
		}
		p += start;
		n -= start;
	}
	pthread_mutex_unlock(&mu);
	out[o] = '\0';
	return out;
}
