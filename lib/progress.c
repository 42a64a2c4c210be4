/* progress: a one-line progress bar with rate and ETA on stderr (for any long job). */
#include "progress.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"

struct mf_progress {
	char		label[48];
	uint64_t	total, done;
	double		start, last;
};

struct mf_progress *
mf_progress_start(const char *label, uint64_t total, int force)
{
	struct mf_progress *p;

	if (!force && !isatty(STDERR_FILENO))
		return NULL;
	if (!(p = calloc(1, sizeof *p)))
		return NULL;
	snprintf(p->label, sizeof p->label, "%s", label);
	p->total = total;
	p->start = mf_now();
	return p;
}

/* 1.5 GiB style, into buf. */
static void
human(double v, char *buf, size_t n)
{
	static const char *unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	int u = 0;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	snprintf(buf, n, u ? "%.1f %s" : "%.0f %s", v, unit[u]);
}

static void
draw(struct mf_progress *p, double now, int final)
{
	char bar[31], rate[24], eta[48], line[200];
	double el = now - p->start, r = el > 0 ? p->done / el : 0;
	double frac = p->total ? (double)p->done / p->total : 1;
	int i, fill = (int)(frac * 30);

	for (i = 0; i < 30; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[30] = 0;
	human(r, rate, sizeof rate);
	if (final || r <= 0) {
		snprintf(eta, sizeof eta, "%s %.1fs", final ? "in" : "ETA", el);
	} else {
		unsigned long s = (unsigned long)((p->total - p->done) / r);

		snprintf(eta, sizeof eta, "ETA %lu:%02lu", s / 60, s % 60);
	}
	snprintf(line, sizeof line, "\r%s [%s] %3d%% %s/s %s\033[K", p->label, bar,
	    (int)(frac * 100), rate, eta);
	fputs(line, stderr);
	if (final)
		fputc('\n', stderr);
	fflush(stderr);
}

void
mf_progress_update(struct mf_progress *p, uint64_t done)
{
	double now;

	if (!p)
		return;
	p->done = done > p->total ? p->total : done;
	now = mf_now();
	if (now - p->last >= 0.2) {
		p->last = now;
		draw(p, now, 0);
	}
}

void
mf_progress_end(struct mf_progress *p)
{
	if (!p)
		return;
	draw(p, mf_now(), 1);
	free(p);
}
