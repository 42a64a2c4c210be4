/* progress: a one-line progress bar with rate and ETA on stderr (for any long job). */
#ifndef MF_PROGRESS_H
#define MF_PROGRESS_H

#include <stdint.h>

struct mf_progress;

/*
 * Start a bar for total units (bytes) labelled label.  Returns NULL, and nothing is ever
 * drawn, unless stderr is a terminal or force is set.  Every call below accepts NULL.
 */
struct mf_progress *mf_progress_start(const char *label, uint64_t total, int force);
/* Report that done units are finished; redraws at most five times a second. */
void mf_progress_update(struct mf_progress *p, uint64_t done);
/* Draw the final state, end the line and free the bar. */
void mf_progress_end(struct mf_progress *p);

#endif
